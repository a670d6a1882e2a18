import type { RecordSink, TickerFields } from '../records/sink.js';
import { StatusCode } from '../records/types.js';
import type { BackpressurePolicy } from '../worker/protocol.js';

/** A sink whose methods report whether the record fit in the ring (false = full, not written). */
export type TrySink = {
  [K in keyof RecordSink]: (...args: Parameters<RecordSink[K]>) => boolean;
};

type Deferred = () => boolean;

const QUOTE = 1;
const TICKER = 2;
const CANDLE = 3;

interface BookMerge {
  symbolId: number;
  exchangeTs: number;
  firstSeq: number;
  seq: number;
  snapshot: boolean;
  bids: Map<number, number>;
  asks: Map<number, number>;
}

/**
 * Applies a connection's backpressure policy in front of the ring encoder. The fast path (ring
 * has room, nothing queued) is one branch and a direct encode; only a full ring takes the slow
 * paths below, which may allocate.
 *
 * - `block`: records that do not fit are queued in order and `backlogged` turns true; the
 *   connection task pauses its socket (the kernel buffers) until `flush()` empties the queue.
 *   Lossless.
 * - `drop`: records that do not fit are counted and discarded; a `dropped` status record with
 *   the count is written as soon as there is room, so the consumer sees the gap.
 * - `conflate`: quotes, tickers and candles keep only the latest per symbol while the ring is
 *   full; book deltas for a symbol merge into one delta (same resulting book); trades are never
 *   conflated and queue as in `block`.
 *
 * Status records are never dropped or conflated: they queue in every mode.
 */
export class PolicySink implements RecordSink {
  private readonly queue: Deferred[] = [];
  private queueHead = 0;
  private readonly latest = new Map<number, Deferred>();
  private readonly books = new Map<number, BookMerge>();
  private unreportedDrops = 0;
  /** Records discarded under `drop`. */
  dropped = 0;
  /** Records replaced by newer ones under `conflate`. */
  conflated = 0;

  constructor(
    private readonly out: TrySink,
    private readonly policy: BackpressurePolicy,
  ) {}

  /** True while records wait for ring space (the socket should be paused when `queued`). */
  get backlogged(): boolean {
    return this.hasQueue() || this.latest.size > 0 || this.books.size > 0 || this.unreportedDrops > 0;
  }

  /** True while ordered records wait: reading more from the socket would grow memory. */
  get queued(): boolean {
    return this.hasQueue();
  }

  private hasQueue(): boolean {
    return this.queueHead < this.queue.length;
  }

  private clear(): boolean {
    return !this.backlogged;
  }

  /** Writes as much of the backlog as fits; true when it is empty. */
  flush(): boolean {
    while (this.queueHead < this.queue.length) {
      if (!this.queue[this.queueHead]!()) return false;
      this.queueHead++;
    }
    this.queue.length = 0;
    this.queueHead = 0;
    if (this.unreportedDrops > 0) {
      if (!this.out.status(0, StatusCode.dropped, this.unreportedDrops)) return false;
      this.unreportedDrops = 0;
    }
    for (const [key, write] of this.latest) {
      if (!write()) return false;
      this.latest.delete(key);
    }
    for (const [key, merge] of this.books) {
      if (!this.writeMerged(merge)) return false;
      this.books.delete(key);
    }
    return true;
  }

  private enqueue(write: Deferred): void {
    this.queue.push(write);
  }

  private drop(): void {
    this.dropped++;
    this.unreportedDrops++;
  }

  private conflate(key: number, write: Deferred): void {
    if (this.latest.has(key)) this.conflated++;
    this.latest.set(key, write);
  }

  trade(symbolId: number, exchangeTs: number, seq: number, side: number, price: number, amount: number, tradeId?: string): void {
    if ((this.clear() || this.flush()) && this.out.trade(symbolId, exchangeTs, seq, side, price, amount, tradeId)) return;
    if (this.policy === 'drop') {
      this.drop();
      return;
    }
    this.enqueue(() => this.out.trade(symbolId, exchangeTs, seq, side, price, amount, tradeId));
  }

  quote(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    bidPrice: number,
    bidAmount: number,
    askPrice: number,
    askAmount: number,
  ): void {
    if ((this.clear() || this.flush()) && this.out.quote(symbolId, exchangeTs, seq, bidPrice, bidAmount, askPrice, askAmount)) return;
    const write = () => this.out.quote(symbolId, exchangeTs, seq, bidPrice, bidAmount, askPrice, askAmount);
    this.overflow(QUOTE, symbolId, write);
  }

  ticker(symbolId: number, exchangeTs: number, seq: number, fields: TickerFields): void {
    if ((this.clear() || this.flush()) && this.out.ticker(symbolId, exchangeTs, seq, fields)) return;
    const copy = { ...fields };
    this.overflow(TICKER, symbolId, () => this.out.ticker(symbolId, exchangeTs, seq, copy));
  }

  candle(
    symbolId: number,
    exchangeTs: number,
    seq: number,
    intervalSec: number,
    openTs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    closed: boolean,
  ): void {
    const write = () =>
      this.out.candle(symbolId, exchangeTs, seq, intervalSec, openTs, open, high, low, close, volume, closed);
    if ((this.clear() || this.flush()) && write()) return;
    // A closed candle is final data, never replaced by the next interval's first update.
    if (closed && this.policy === 'conflate') {
      this.enqueue(write);
      return;
    }
    this.overflow(CANDLE * 1e6 + intervalSec, symbolId, write);
  }

  book(
    symbolId: number,
    exchangeTs: number,
    firstSeq: number,
    seq: number,
    snapshot: boolean,
    bids: ArrayLike<number>,
    bidCount: number,
    asks: ArrayLike<number>,
    askCount: number,
  ): void {
    if (
      (this.clear() || this.flush()) &&
      this.out.book(symbolId, exchangeTs, firstSeq, seq, snapshot, bids, bidCount, asks, askCount)
    ) {
      return;
    }
    if (this.policy === 'drop') {
      this.drop();
      return;
    }
    if (this.policy === 'conflate') {
      this.mergeBook(symbolId, exchangeTs, firstSeq, seq, snapshot, bids, bidCount, asks, askCount);
      return;
    }
    const b = Array.prototype.slice.call(bids, 0, bidCount * 2) as number[];
    const a = Array.prototype.slice.call(asks, 0, askCount * 2) as number[];
    this.enqueue(() => this.out.book(symbolId, exchangeTs, firstSeq, seq, snapshot, b, bidCount, a, askCount));
  }

  status(symbolId: number, code: number, detail: number): void {
    if ((this.clear() || this.flush()) && this.out.status(symbolId, code, detail)) return;
    this.enqueue(() => this.out.status(symbolId, code, detail));
  }

  private overflow(kind: number, symbolId: number, write: Deferred): void {
    if (this.policy === 'drop') {
      this.drop();
      return;
    }
    if (this.policy === 'conflate') {
      this.conflate(kind * 2 ** 32 + symbolId, write);
      return;
    }
    this.enqueue(write);
  }

  private mergeBook(
    symbolId: number,
    exchangeTs: number,
    firstSeq: number,
    seq: number,
    snapshot: boolean,
    bids: ArrayLike<number>,
    bidCount: number,
    asks: ArrayLike<number>,
    askCount: number,
  ): void {
    let merge = this.books.get(symbolId);
    if (merge) {
      this.conflated++;
    } else {
      merge = { symbolId, exchangeTs, firstSeq, seq, snapshot, bids: new Map(), asks: new Map() };
      this.books.set(symbolId, merge);
    }
    if (snapshot) {
      merge.snapshot = true;
      merge.firstSeq = firstSeq;
      merge.bids.clear();
      merge.asks.clear();
    }
    merge.exchangeTs = exchangeTs;
    merge.seq = seq;
    for (let i = 0; i < bidCount; i++) merge.bids.set(bids[2 * i]!, bids[2 * i + 1]!);
    for (let i = 0; i < askCount; i++) merge.asks.set(asks[2 * i]!, asks[2 * i + 1]!);
  }

  private writeMerged(m: BookMerge): boolean {
    // A merged snapshot has no removed levels to carry; a merged delta must keep its zeros.
    const bids = flatten(m.bids, m.snapshot, (x, y) => y - x);
    const asks = flatten(m.asks, m.snapshot, (x, y) => x - y);
    return this.out.book(
      m.symbolId,
      m.exchangeTs,
      m.firstSeq,
      m.seq,
      m.snapshot,
      bids,
      bids.length / 2,
      asks,
      asks.length / 2,
    );
  }
}

function flatten(levels: Map<number, number>, skipZero: boolean, order: (a: number, b: number) => number): number[] {
  const prices = [...levels.keys()].sort(order);
  const out: number[] = [];
  for (const p of prices) {
    const amount = levels.get(p)!;
    if (skipZero && amount === 0) continue;
    out.push(p, amount);
  }
  return out;
}
