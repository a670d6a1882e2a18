import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { nowMs } from '../clock.js';
import { LatencyHistogram } from '../metrics/latency.js';
import type { SymbolTable } from '../records/symbols.js';
import { RecordType, StatusCode } from '../records/types.js';
import { RecordView } from '../records/view.js';
import { Doorbell } from '../ring/doorbell.js';
import { RingReader } from '../ring/ring.js';

/** Records handled per ring before moving on to the next (fairness between connections). */
const RING_BATCH = 1024;
/** Records handled before yielding to the event loop (timers, I/O, user code). */
const LOOP_BATCH = 8192;
/** Longest idle sleep before re-checking (also bounds shutdown latency). */
const IDLE_SLEEP_MS = 100;

export type ViewHandler = (view: RecordView) => void;

export interface ConsumerCounters {
  /** Data records consumed (status records excluded). */
  messages: number;
  statusRecords: number;
  /** Records dropped under the `drop` policy (from `dropped` status records). */
  drops: number;
  /** Sequence gaps seen: book resyncs plus drop events. */
  gaps: number;
  resyncs: number;
  badMessages: number;
  staleEvents: number;
  /** Records whose stream position was not the expected one (must stay 0). */
  integrityErrors: number;
}

interface RingSlot {
  readonly connectionId: number;
  readonly reader: RingReader;
  nextStreamSeq: number;
}

/**
 * Drains every connection's ring on the main thread: checks each record's stream position,
 * records latency, updates counters and hands a reusable view to the handlers. When every ring
 * is empty it sleeps on the shared doorbell (brief spin, then `Atomics.waitAsync`), so an idle
 * engine costs no CPU.
 */
export class Consumer {
  readonly recvToConsume = new LatencyHistogram();
  readonly exchangeToConsume = new LatencyHistogram();
  readonly counters: ConsumerCounters = {
    messages: 0,
    statusRecords: 0,
    drops: 0,
    gaps: 0,
    resyncs: 0,
    badMessages: 0,
    staleEvents: 0,
    integrityErrors: 0,
  };
  /** Data records per (symbolId, record type): index symbolId * 8 + type. */
  private perStream = new Float64Array(1024);
  private readonly rings: RingSlot[] = [];
  /** Replaced, never mutated: a drain in progress keeps the list it started with. */
  private handlers: readonly ViewHandler[] = [];
  private draining = false;
  private readonly view: RecordView;
  private readonly doorbell: Doorbell;
  private running = false;
  private stopped: Promise<void> | undefined;
  private pauses = 0;
  private resumeWaiter: (() => void) | undefined;

  constructor(
    symbols: SymbolTable,
    doorbell: SharedArrayBuffer,
    /** A handler threw: the record still goes to the other handlers, the drain goes on. */
    private readonly onHandlerError: (err: unknown) => void = () => {},
  ) {
    this.view = new RecordView(symbols);
    this.doorbell = new Doorbell(doorbell);
  }

  addRing(connectionId: number, ring: SharedArrayBuffer): void {
    this.rings.push({ connectionId, reader: new RingReader(ring), nextStreamSeq: 0 });
  }

  removeRing(connectionId: number): void {
    const i = this.rings.findIndex((r) => r.connectionId === connectionId);
    if (i >= 0) this.rings.splice(i, 1);
  }

  addHandler(handler: ViewHandler): () => void {
    this.handlers = [...this.handlers, handler];
    let added = true;
    return () => {
      if (!added) return;
      added = false;
      const i = this.handlers.lastIndexOf(handler);
      if (i >= 0) this.handlers = [...this.handlers.slice(0, i), ...this.handlers.slice(i + 1)];
    };
  }

  /**
   * Share of a connection's ring in use, 0 to 1: bytes written and not yet consumed over the
   * ring's capacity (undefined for no such ring). Near 1 the producer waits or drops.
   */
  ringFill(connectionId: number): number | undefined {
    const slot = this.rings.find((r) => r.connectionId === connectionId);
    return slot === undefined ? undefined : slot.reader.usedBytes() / slot.reader.capacity;
  }

  /** Data records consumed for one symbol and record type. */
  streamMessages(symbolId: number, type: number): number {
    const i = symbolId * 8 + type;
    return i < this.perStream.length ? this.perStream[i]! : 0;
  }

  /** Stop draining until `resume()` (used by bounded async iterators). Nested. */
  pause(): void {
    this.pauses++;
  }

  resume(): void {
    if (this.pauses > 0) this.pauses--;
    if (this.pauses === 0) this.resumeWaiter?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.resumeWaiter?.();
    await this.stopped;
  }

  private hasData = (): boolean => {
    for (const r of this.rings) if (r.reader.hasData()) return true;
    return false;
  };

  private async run(): Promise<void> {
    while (this.running) {
      if (this.pauses > 0) {
        await new Promise<void>((resolve) => {
          this.resumeWaiter = resolve;
        });
        this.resumeWaiter = undefined;
        continue;
      }
      const n = this.drain(LOOP_BATCH);
      if (n > 0) await yieldToLoop();
      else await this.doorbell.sleep(this.hasData, IDLE_SLEEP_MS);
    }
  }

  /** Consumes up to `budget` records across all rings; returns how many. */
  drain(budget: number): number {
    // A handler that calls back into the engine (close(), unsubscribe()) must not start a
    // nested drain: the view and ring positions belong to the drain in progress.
    if (this.draining) return 0;
    this.draining = true;
    let total = 0;
    try {
      for (const slot of this.rings) {
        if (this.pauses > 0 || total >= budget) break;
        total += this.drainRing(slot, Math.min(RING_BATCH, budget - total));
      }
    } finally {
      this.draining = false;
    }
    return total;
  }

  private drainRing(slot: RingSlot, budget: number): number {
    const { reader } = slot;
    const view = this.view;
    const handlers = this.handlers;
    let n = 0;
    while (n < budget && this.pauses === 0) {
      const offset = reader.next();
      if (offset < 0) break;
      view.bind(reader, offset);
      const streamSeq = view.streamSeq;
      if (streamSeq !== slot.nextStreamSeq) this.counters.integrityErrors++;
      slot.nextStreamSeq = (streamSeq + 1) >>> 0;
      this.account(view);
      for (let h = 0; h < handlers.length; h++) {
        try {
          handlers[h]!(view);
        } catch (err) {
          this.onHandlerError(err);
        }
      }
      reader.advance();
      n++;
    }
    if (n > 0) reader.release();
    return n;
  }

  private account(view: RecordView): void {
    const type = view.typeCode;
    if (type === RecordType.status) {
      this.countStatus(view);
      return;
    }
    const now = nowMs();
    this.counters.messages++;
    this.recvToConsume.record((now - view.recvTs) * 1000);
    const exchangeTs = view.exchangeTs;
    if (!Number.isNaN(exchangeTs)) this.exchangeToConsume.record((now - exchangeTs) * 1000);
    const i = view.symbolId * 8 + type;
    if (i >= this.perStream.length) {
      const grown = new Float64Array(Math.max(i + 1, this.perStream.length * 2));
      grown.set(this.perStream);
      this.perStream = grown;
    }
    this.perStream[i]!++;
  }

  private countStatus(view: RecordView): void {
    const c = this.counters;
    c.statusRecords++;
    switch (view.statusCode) {
      case StatusCode.dropped:
        c.drops += view.detail;
        c.gaps++;
        return;
      case StatusCode.resync:
        c.resyncs++;
        c.gaps++;
        return;
      case StatusCode.badMessage:
        c.badMessages++;
        return;
      case StatusCode.stale:
        c.staleEvents++;
    }
  }
}
