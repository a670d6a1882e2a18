import { RingfeedError } from '../engine/errors.js';
import { RecordType, StatusCode } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import { OrderBook, type TopCounts, type WritableNumberArray } from './order-book.js';

export type BookSideName = 'bids' | 'asks';

/**
 * A live L2 book kept on the consumer thread; reads do not copy the book. It exists from the
 * `subscribe` of its `book` stream on, empty with `synced: false` until the first snapshot.
 */
export interface L2Book {
  readonly exchange: string;
  readonly symbol: string;
  /** false until the first snapshot, and from a resync or disconnect until the next one. */
  readonly synced: boolean;
  /** Venue sequence of the last applied update. */
  readonly seq: number;
  /** Exchange time of the last applied update, ms. */
  readonly exchangeTs: number;
  bestBid(): number;
  bestAsk(): number;
  bestBidAmount(): number;
  bestAskAmount(): number;
  /**
   * Writes up to n levels per side as flat [price, amount, …] into the arrays (a typed array
   * needs room for 2 × n numbers; plain arrays grow); returns the counts (an object reused by
   * every call).
   */
  top(n: number, bidsOut: WritableNumberArray, asksOut: WritableNumberArray): TopCounts;
  /** Convenience copy of the top n levels (default all) of `bids` or `asks` as tuples (allocates). */
  levels(side: BookSideName, n?: number): [number, number][];
}

function checkCount(n: unknown, what: string): void {
  if (typeof n !== 'number' || !(Number.isInteger(n) || n === Number.POSITIVE_INFINITY) || n < 0) {
    throw new RingfeedError('ERR_BAD_OPTION', `${what}: n must be an integer >= 0; got ${String(n)}`);
  }
}

function checkOut(out: unknown, n: number, what: string): void {
  if (Array.isArray(out)) return;
  if (!ArrayBuffer.isView(out)) {
    throw new RingfeedError('ERR_BAD_OPTION', `${what}: needs an array or a typed array to write levels into`);
  }
  const length = (out as unknown as ArrayLike<number>).length;
  if (Number.isFinite(n) && length < 2 * n) {
    throw new RingfeedError('ERR_BAD_OPTION', `${what}: a typed array for ${n} levels needs room for ${2 * n} numbers; it has ${length}`);
  }
}

class LiveBook implements L2Book {
  readonly book = new OrderBook();
  synced = false;
  seq = Number.NaN;
  exchangeTs = Number.NaN;

  constructor(
    readonly exchange: string,
    readonly symbol: string,
  ) {}

  bestBid(): number {
    return this.book.bestBid();
  }
  bestAsk(): number {
    return this.book.bestAsk();
  }
  bestBidAmount(): number {
    return this.book.bestBidAmount();
  }
  bestAskAmount(): number {
    return this.book.bestAskAmount();
  }
  top(n: number, bidsOut: WritableNumberArray, asksOut: WritableNumberArray): TopCounts {
    checkCount(n, 'top(n)');
    checkOut(bidsOut, n, 'top(n, bidsOut)');
    checkOut(asksOut, n, 'top(n, bidsOut, asksOut)');
    return this.book.top(n, bidsOut, asksOut);
  }
  levels(side: BookSideName, n?: number): [number, number][] {
    if (side !== 'bids' && side !== 'asks') {
      throw new RingfeedError('ERR_BAD_OPTION', `levels(side): side must be "bids" or "asks"; got ${JSON.stringify(side)}`);
    }
    if (n !== undefined) checkCount(n, 'levels(side, n)');
    return this.book.levels(side, n);
  }

  invalidate(): void {
    this.synced = false;
    this.book.clear();
  }
}

/**
 * Applies book records to per-symbol books as the consumer reads them, so `engine.book()` can
 * answer from the same data the handlers saw. Resync and disconnect status records invalidate
 * the affected books until the next snapshot.
 */
export class BookKeeper {
  private readonly books = new Map<number, LiveBook>();

  get(symbolId: number): L2Book | undefined {
    return this.books.get(symbolId);
  }

  /** A `book` stream was subscribed: its book exists (unsynced) from now on. */
  track(symbolId: number, exchange: string, symbol: string): void {
    if (!this.books.has(symbolId)) this.books.set(symbolId, new LiveBook(exchange, symbol));
  }

  /** Its `book` stream was unsubscribed or refused: `engine.book()` answers undefined again. */
  untrack(symbolId: number): void {
    this.books.delete(symbolId);
  }

  readonly handle = (v: RecordView): void => {
    const type = v.typeCode;
    if (type === RecordType.book) {
      this.apply(v);
      return;
    }
    if (type !== RecordType.status) return;
    const code = v.statusCode;
    if (code === StatusCode.resync) {
      this.books.get(v.symbolId)?.invalidate();
    } else if (code === StatusCode.disconnected) {
      const exchange = v.exchange;
      for (const live of this.books.values()) if (live.exchange === exchange) live.invalidate();
    }
  };

  private apply(v: RecordView): void {
    const live = this.books.get(v.symbolId);
    // Records still in a ring after an unsubscribe belong to no book any more.
    if (live === undefined) return;
    const book = live.book;
    if (v.snapshot) {
      book.clear();
      live.synced = true;
    }
    for (let i = 0, n = v.bidCount; i < n; i++) book.setBid(v.bidPriceAt(i), v.bidAmountAt(i));
    for (let i = 0, n = v.askCount; i < n; i++) book.setAsk(v.askPriceAt(i), v.askAmountAt(i));
    live.seq = v.seq;
    live.exchangeTs = v.exchangeTs;
  }
}
