/**
 * The one skeleton of a connection task (a piscina task in a worker thread). A transport (ws,
 * ccxt, tcp) owns its sockets and its venue session and plugs into this; everything else about
 * a task lives here once: the ring producer (writer, encoder, backpressure policy), the shared
 * counters, the log port, publish batching, receive-time stamping, bad-frame accounting, the
 * stale watchdog, the dead-peer check, rejection reporting and the end of the task.
 *
 * Invariants:
 * - Every record carries a receive time stamped by this base, never by a call site: records a
 *   socket read produces carry that read's time (`read`); any other record (REST answer,
 *   timer, control message, lifecycle status) is stamped with the time it is written, by
 *   `TaskSink` (`sink.reading` is false outside `read`).
 * - Records become visible in batches: at most one publish (one Atomics store + doorbell) per
 *   microtask checkpoint, i.e. per socket read or per batch of writes outside reads.
 * - The stale watchdog counts data records only (not heartbeats, pongs, acks or bad frames),
 *   and never fires while the ring is full (`block`: the task is paused, not the venue).
 * - A task ends once (`end`): timers stop, the transport closes, a `disconnected` status follows
 *   if it ever opened, and the result is returned only after records already accepted are in the
 *   ring (unless the engine is stopping).
 * - Nothing is posted to the main thread after the port closed.
 */
import { PolicySink } from '../backpressure/policy-sink.js';
import { nowMs } from '../clock.js';
import { RecordEncoder } from '../records/encoder.js';
import { StatusCode } from '../records/types.js';
import { Doorbell } from '../ring/doorbell.js';
import { RingWriter } from '../ring/ring.js';
import type { AdapterLog, StreamSpec } from '../venues/contract.js';
import { CHANNEL_RECORD_TYPE, type RejectionCode } from '../venues/rejection.js';
import {
  type ConnectionResult,
  type ConnectionTask,
  type ControlMessage,
  CounterSlot,
  type EndReason,
  type WorkerMessage,
} from './protocol.js';
import { TaskSink } from './task-sink.js';

/** Bad frames logged in full per task before logging only every Nth. */
const BAD_FRAME_LOG_LIMIT = 20;
const BAD_FRAME_LOG_EVERY = 1000;
/** A bad frame's problem is logged up to this many characters (a hostile field can be megabytes). */
const BAD_FRAME_PROBLEM_CHARS = 300;
/** Characters of the offending frame kept in the log. */
const BAD_FRAME_TEXT_CHARS = 200;

/** What a transport plugs into the base. */
export interface Transport {
  /** Starts connecting (called once, after the control port is listened to). */
  start(): void;
  /** `subscribe` / `unsubscribe` from the main thread (`stop` is the base's). */
  onControl(m: Exclude<ControlMessage, { type: 'stop' }>): void;
  /**
   * The task is ending: stop reading, tell the session, close or terminate the sockets. A promise
   * returned is awaited (with the backlog) before the task returns.
   */
  close(reason: EndReason): Promise<void> | void;
}

export class TaskBase {
  readonly counters: Float64Array;
  readonly writer: RingWriter;
  readonly encoder: RecordEncoder;
  /** The backpressure policy in front of the encoder (its backlog flags and flush). */
  readonly policy: PolicySink;
  /** Where the venue code and the base write records (counts data, stamps outside reads). */
  readonly sink: TaskSink;
  readonly log: AdapterLog;
  /** When the connection opened (ms; 0 while it never did). */
  openedAt = 0;
  ended = false;
  /** The engine asked the task to stop: the backlog is not waited for. */
  stopRequested = false;
  private transport: Transport | undefined;
  private portClosed = false;
  private publishScheduled = false;
  private badFrames = 0;
  private draining: Promise<void> | undefined;
  private peerDeadline: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private resolveEnd!: (r: ConnectionResult) => void;
  private readonly result = new Promise<ConnectionResult>((r) => {
    this.resolveEnd = r;
  });
  private readonly publishNow = (): void => {
    this.publishScheduled = false;
    this.publish();
  };

  constructor(
    readonly task: ConnectionTask,
    exchangeCode: number,
  ) {
    this.counters = new Float64Array(task.counters);
    this.writer = new RingWriter(task.ring, new Doorbell(task.doorbell));
    this.encoder = new RecordEncoder(this.writer, exchangeCode, this.counters[CounterSlot.records]!);
    this.policy = new PolicySink(this.encoder, task.policy);
    this.sink = new TaskSink(this.policy, () => {
      this.encoder.recvTs = nowMs();
      this.schedulePublish();
    });
    this.log = {
      debug: (msg, fields) => this.post({ type: 'log', level: 'debug', msg, fields }),
      info: (msg, fields) => this.post({ type: 'log', level: 'info', msg, fields }),
      warn: (msg, fields) => this.post({ type: 'log', level: 'warn', msg, fields }),
      error: (msg, fields) => this.post({ type: 'log', level: 'error', msg, fields }),
    };
  }

  /** Runs the transport; resolves with why the task ended. */
  run(transport: Transport): Promise<ConnectionResult> {
    this.transport = transport;
    this.task.port.on('message', (m: ControlMessage) => {
      if (m.type !== 'stop') {
        transport.onControl(m);
        return;
      }
      this.stopRequested = true;
      this.end('stopped', 1000, 'stopped by the engine');
    });
    transport.start();
    return this.result;
  }

  post(message: WorkerMessage): void {
    if (!this.portClosed) this.task.port.postMessage(message);
  }

  /** Frames and bytes arrived from the socket. */
  countFrames(frames: number, bytes: number): void {
    this.counters[CounterSlot.frames]! += frames;
    this.counters[CounterSlot.bytes]! += bytes;
  }

  /**
   * Runs `handle(input)` as the records of one socket read received at `recvTs`: stamped once,
   * published with the read's batch, data records fed to the stale watchdog. A throw is a bad
   * frame (counted, `badMessage` status, bounded log with `frame`), never the end of the task.
   */
  read<T>(recvTs: number, handle: (input: T) => void, input: T, frame?: string): void {
    const sink = this.sink;
    this.encoder.recvTs = recvTs;
    if (this.policy.backlogged) this.policy.flush();
    const dataBefore = sink.count;
    sink.reading = true;
    try {
      handle(input);
    } catch (err) {
      this.badFrame(String((err as Error)?.message ?? err), frame);
    } finally {
      sink.reading = false;
    }
    if (sink.count !== dataBefore) this.noteData(recvTs);
    this.schedulePublish();
  }

  countResync(): void {
    this.counters[CounterSlot.resyncs]!++;
  }

  /** Data arrived at `ts` (the stale watchdog's clock; never moves back). */
  noteData(ts: number): void {
    if (ts > this.counters[CounterSlot.lastDataTs]!) this.counters[CounterSlot.lastDataTs] = ts;
  }

  /** A frame that cannot be understood: counted, a `badMessage` status, logged (bounded). */
  badFrame(problem: string, frame?: string): void {
    const n = ++this.badFrames;
    this.counters[CounterSlot.badMessages]!++;
    this.sink.status(0, StatusCode.badMessage, n);
    if (n <= BAD_FRAME_LOG_LIMIT || n % BAD_FRAME_LOG_EVERY === 0) {
      this.log.warn('bad frame skipped', {
        problem: problem.length > BAD_FRAME_PROBLEM_CHARS ? `${problem.slice(0, BAD_FRAME_PROBLEM_CHARS)}…` : problem,
        badFrames: n,
        frame: frame?.slice(0, BAD_FRAME_TEXT_CHARS),
      });
    }
  }

  /** Publication is batched: everything written before the next microtask checkpoint at once. */
  schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    queueMicrotask(this.publishNow);
  }

  publish(): void {
    this.writer.publish();
    this.counters[CounterSlot.records] = this.encoder.recordsWritten;
    this.counters[CounterSlot.dropped] = this.policy.dropped;
    this.counters[CounterSlot.conflated] = this.policy.conflated;
  }

  /** The connection is up at `ts` (also after a planned rotation's switch). */
  connectedAt(ts: number): void {
    this.openedAt = ts;
    this.counters[CounterSlot.connectedTs] = ts;
  }

  /** The connection opened: `connected` status, main is told. */
  opened(): void {
    this.connectedAt(nowMs());
    this.sink.status(0, StatusCode.connected, 0);
    this.post({ type: 'open' });
  }

  /** The venue refused these streams for good: a `rejected` status record each, main is told. */
  reportRejected(streams: readonly StreamSpec[], code: RejectionCode, message: string): void {
    for (const s of streams) this.sink.status(s.symbolId, StatusCode.rejected, CHANNEL_RECORD_TYPE[s.channel]);
    this.post({
      type: 'rejected',
      streams: streams.map((s) => ({ channel: s.channel, symbolId: s.symbolId, interval: s.interval })),
      code,
      message,
    });
  }

  /** A timer the task owns (cleared when it ends). */
  every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  after(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /**
   * `limits.staleTimeoutMs` without data (see `noteData`) ends the task as `stale`, unless the
   * ring is full. `watching` says whether anything is expected at all.
   */
  startStaleWatchdog(idleMessage: (idleMs: number) => string, watching: () => boolean = () => true): void {
    this.counters[CounterSlot.lastDataTs] = nowMs();
    const stale = this.task.limits.staleTimeoutMs;
    if (stale <= 0) return;
    this.every(Math.max(10, Math.min(1000, stale / 4)), () => {
      if (this.ended || !watching()) return;
      const idle = Math.round(nowMs() - this.counters[CounterSlot.lastDataTs]!);
      if (idle < stale || this.policy.queued) return;
      this.sink.status(0, StatusCode.stale, idle);
      this.writer.publish();
      this.post({ type: 'stale', idleMs: idle });
      this.end('stale', 0, idleMessage(idle));
    });
  }

  /**
   * Dead-peer check: every `limits.pingIntervalMs` `probe()` asks the peer for an answer (false:
   * cannot ask now); no `peerAnswered()` within `limits.pongTimeoutMs` ends the task.
   */
  startDeadPeerCheck(probe: () => boolean): void {
    const { pingIntervalMs, pongTimeoutMs } = this.task.limits;
    if (pingIntervalMs <= 0) return;
    this.every(pingIntervalMs, () => {
      if (this.ended || this.peerDeadline || !probe()) return;
      this.peerDeadline = setTimeout(() => {
        this.end('pong-timeout', 0, `no pong within ${pongTimeoutMs} ms`);
      }, pongTimeoutMs);
    });
  }

  peerAnswered(): void {
    if (this.peerDeadline) clearTimeout(this.peerDeadline);
    this.peerDeadline = undefined;
  }

  /**
   * `block` backpressure: resolves when the backlog is in the ring (or the task ended). One drain
   * at a time; each counts one pause.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      this.counters[CounterSlot.pauses]!++;
      try {
        await this.flushBacklog(() => this.ended);
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  /**
   * `block` backpressure after a read: while records wait for ring space, the socket `source()`
   * returns is paused (the kernel buffers), and resumed once they are in.
   */
  pauseWhileBacklogged(source: () => { pause(): unknown; resume(): unknown } | undefined): void {
    if (!this.policy.queued) return;
    source()?.pause();
    void this.drain().then(() => {
      if (!this.ended) source()?.resume();
    });
  }

  private async flushBacklog(giveUp: () => boolean): Promise<void> {
    while (!giveUp() && !this.policy.flush()) {
      this.publish();
      await this.writer.waitForSpace(this.writer.capacity / 4, 100);
    }
    this.publish();
  }

  end(reason: EndReason, closeCode: number, message: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.peerAnswered();
    const connectedMs = this.openedAt ? Math.round(nowMs() - this.openedAt) : 0;
    const closing = this.transport?.close(reason);
    if (this.openedAt) this.sink.status(0, StatusCode.disconnected, closeCode);
    // Records already accepted are owed to the consumer, unless the engine itself is stopping.
    void Promise.all([closing, this.flushBacklog(() => this.stopRequested)]).then(() => {
      this.portClosed = true;
      this.task.port.close();
      this.resolveEnd({ reason, closeCode, message, connectedMs });
    });
  }
}
