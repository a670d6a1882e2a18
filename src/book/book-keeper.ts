import { RecordType, StatusCode } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import { OrderBook, type TopCounts, type WritableNumberArray } from './order-book.js';

/** A live L2 book kept on the consumer thread; reads do not copy the book. */
export interface L2Book {
  readonly exchange: string;
  readonly symbol: string;
  /** false from a resync or disconnect until the next snapshot. */
  readonly synced: boolean;
  /** Venue sequence of the last applied update. */
  readonly seq: number;
  /** Exchange time of the last applied update, ms. */
  readonly exchangeTs: number;
  bestBid(): number;
  bestAsk(): number;
  bestBidAmount(): number;
  bestAskAmount(): number;
  /** Writes up to n levels per side as flat [price, amount, …] into the arrays; returns counts. */
  top(n: number, bidsOut: WritableNumberArray, asksOut: WritableNumberArray): TopCounts;
  /** Convenience copy of the top n levels as tuples (allocates). */
  levels(side: 'bids' | 'asks', n?: number): [number, number][];
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
    return this.book.top(n, bidsOut, asksOut);
  }
  levels(side: 'bids' | 'asks', n?: number): [number, number][] {
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
    let live = this.books.get(v.symbolId);
    if (!live) {
      live = new LiveBook(v.exchange, v.symbol);
      this.books.set(v.symbolId, live);
    }
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
