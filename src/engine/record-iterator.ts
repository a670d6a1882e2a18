/**
 * `engine.records()`: records as an async iterator with a bounded buffer.
 *
 * Invariants:
 * - The buffer never holds more than `highWaterMark` records unread: at that mark the iterator
 *   pauses the consumer (every handler waits with it — that is how its backpressure reaches the
 *   sockets) and releases it below half the mark.
 * - A pause is never silent: the gauge counts it and its duration, the first one is logged, and
 *   `onPause(true|false)` is called on every pause and release.
 * - A finished iterator (return(), break, the engine closing) holds nothing: it releases the
 *   consumer, removes its handler and resolves a waiting `next()` with done.
 */
import type { Logger } from 'pino';
import type { Consumer } from '../consumer/consumer.js';
import type { MarketRecord } from '../records/types.js';

/** What `stats().iterators` reports. */
export interface IteratorStats {
  /** Iterators open now. */
  readonly open: number;
  /** Iterators full now, holding the consumer (0 when none is behind). */
  readonly holding: number;
  /** Times an iterator filled up and paused the consumer. */
  readonly pauses: number;
  /** Total time the consumer was held by full iterators, ms. */
  readonly pausedMs: number;
}

/** The engine's iterators, counted together. */
export class IteratorGauge {
  open = 0;
  holding = 0;
  pauses = 0;
  private pausedMs = 0;
  /** Sum of the start times of the pauses in progress: ongoing time = holding × now − heldSince. */
  private heldSince = 0;

  hold(at: number): void {
    this.holding++;
    this.pauses++;
    this.heldSince += at;
  }

  release(since: number): void {
    this.holding--;
    this.heldSince -= since;
    this.pausedMs += performance.now() - since;
  }

  snapshot(): IteratorStats {
    return {
      open: this.open,
      holding: this.holding,
      pauses: this.pauses,
      pausedMs: this.pausedMs + this.holding * performance.now() - this.heldSince,
    };
  }
}

export interface RecordIteratorOptions {
  readonly consumer: Consumer;
  /** Record type codes to deliver, or undefined for all. */
  readonly wanted: ReadonlySet<number> | undefined;
  readonly highWaterMark: number;
  readonly gauge: IteratorGauge;
  readonly log: Logger;
  /** Called on every pause (true) and release (false) with the records buffered. */
  onPause(paused: boolean, buffered: number): void;
  /** Registers the function that ends the iterator when the engine closes; returns its removal. */
  onEngineClosed(end: () => void): () => void;
}

export function createRecordIterator(o: RecordIteratorOptions): AsyncIterableIterator<MarketRecord> {
  const { consumer, wanted, highWaterMark: limit, gauge } = o;
  const buffer: MarketRecord[] = [];
  let head = 0;
  let waiting: ((r: IteratorResult<MarketRecord>) => void) | undefined;
  let paused = false;
  let pausedAt = 0;
  let warned = false;
  let done = false;
  gauge.open++;
  const hold = () => {
    paused = true;
    pausedAt = performance.now();
    gauge.hold(pausedAt);
    consumer.pause();
    if (!warned) {
      warned = true;
      o.log.warn(
        { buffered: buffer.length - head, iteratorHighWaterMark: limit },
        'a records() iterator is full: every handler waits until it is read (backpressure); end unread iterators with return() or break',
      );
    }
    o.onPause(true, buffer.length - head);
  };
  const release = () => {
    paused = false;
    gauge.release(pausedAt);
    consumer.resume();
    o.onPause(false, buffer.length - head);
  };
  const finish = () => {
    if (done) return;
    done = true;
    gauge.open--;
    removeHandler();
    removeClosed();
    if (paused) release();
    waiting?.({ value: undefined, done: true });
  };
  const removeHandler = consumer.addHandler((view) => {
    if (wanted !== undefined && !wanted.has(view.typeCode)) return;
    const record = view.toObject();
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w({ value: record, done: false });
      return;
    }
    buffer.push(record);
    if (buffer.length - head >= limit && !paused) hold();
  });
  const removeClosed = o.onEngineClosed(finish);
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next(): Promise<IteratorResult<MarketRecord>> {
      if (head < buffer.length) {
        const value = buffer[head++]!;
        if (head > 4096 && head * 2 > buffer.length) {
          buffer.splice(0, head);
          head = 0;
        }
        if (paused && buffer.length - head < limit / 2) release();
        return Promise.resolve({ value, done: false });
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return(): Promise<IteratorResult<MarketRecord>> {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
  };
}
