/**
 * One contract's synthetic market for the TWS simulator: a book of at most `rows` levels a side
 * (kit `BookSide`, integer ticks and lots), trades at the touch, and the position-based depth
 * operations that turn one book into the other (what TWS sends on `reqMktDepth`).
 */
import { BookSide } from '../kit/book-side.js';
import { hashString, mulberry32, type Rng, randInt } from '../kit/rng.js';
import type { SimContract } from './contracts.js';

/** One depth operation as TWS sends it: position, operation (0 insert, 1 update, 2 delete), side (0 ask, 1 bid). */
export interface DepthOp {
  readonly position: number;
  readonly operation: 0 | 1 | 2;
  readonly side: 0 | 1;
  readonly price: number;
  readonly size: number;
}

export interface MarketEvent {
  readonly trade?: { readonly price: number; readonly size: number };
  readonly depth: readonly DepthOp[];
  /** The touch after the event. */
  readonly bid: number;
  readonly bidSize: number;
  readonly ask: number;
  readonly askSize: number;
}

export class ContractMarket {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  private readonly rng: Rng;
  volume = 0;

  constructor(
    readonly contract: SimContract,
    readonly rows: number,
    seed: number,
  ) {
    this.rng = mulberry32(seed ^ hashString(contract.symbol));
    const mid = Math.round(contract.startPrice / contract.minTick);
    for (let i = 0; i < rows; i++) {
      this.bids.set(mid - 1 - i, randInt(this.rng, 1, 20) * 100);
      this.asks.set(mid + 1 + i, randInt(this.rng, 1, 20) * 100);
    }
  }

  price(ticks: number): number {
    return Number((ticks * this.contract.minTick).toFixed(8));
  }

  /** The depth rows as inserts (what a new depth subscriber gets first). */
  snapshotOps(): DepthOp[] {
    const ops: DepthOp[] = [];
    for (const [side, book] of [
      [1, this.bids],
      [0, this.asks],
    ] as const) {
      for (let i = 0; i < book.length; i++) ops.push({ position: i, operation: 0, side, price: this.price(book.px[i]!), size: book.qty[i]! });
    }
    return ops;
  }

  /** One step: a trade at the touch (sometimes), and a level changing, appearing or going. */
  step(): MarketEvent {
    const ops: DepthOp[] = [];
    let trade: MarketEvent['trade'];
    const r = this.rng();
    if (r < 0.4) {
      const buy = this.rng() < 0.5;
      const book = buy ? this.asks : this.bids;
      const size = Math.min(book.qty[0]!, randInt(this.rng, 1, 5) * 100);
      trade = { price: this.price(book.px[0]!), size };
      this.volume += size;
      this.setLevel(book, book.px[0]!, book.qty[0]! - size, ops);
    } else {
      const bid = this.rng() < 0.5;
      const book = bid ? this.bids : this.asks;
      const i = Math.min(book.length - 1, randInt(this.rng, 0, 3));
      this.setLevel(book, book.px[i]!, randInt(this.rng, 0, 20) * 100, ops);
    }
    // Keep `rows` levels a side: refill beyond the worst (or inside the spread when a side empties).
    for (const book of [this.bids, this.asks]) {
      while (book.length < this.rows) {
        const other = book === this.bids ? this.asks : this.bids;
        const worst = book.length > 0 ? book.px[book.length - 1]! : other.px[0]! + (book.isBid ? -1 : 1);
        this.setLevel(book, worst + (book.isBid ? -1 : 1), randInt(this.rng, 1, 20) * 100, ops);
      }
    }
    return {
      trade,
      depth: ops,
      bid: this.price(this.bids.px[0]!),
      bidSize: this.bids.qty[0]!,
      ask: this.price(this.asks.px[0]!),
      askSize: this.asks.qty[0]!,
    };
  }

  /** Sets a level and records the position-based operation that does the same. */
  private setLevel(book: BookSide, ticks: number, qty: number, ops: DepthOp[]): void {
    const side = book.isBid ? 1 : 0;
    const at = book.find(ticks);
    if (qty <= 0) {
      if (at < 0) return;
      book.set(ticks, 0);
      ops.push({ position: at, operation: 2, side, price: this.price(ticks), size: 0 });
    } else if (at >= 0) {
      book.set(ticks, qty);
      ops.push({ position: at, operation: 1, side, price: this.price(ticks), size: qty });
    } else {
      if (book.length >= this.rows) {
        const last = book.length - 1;
        ops.push({ position: last, operation: 2, side, price: this.price(book.px[last]!), size: 0 });
        book.set(book.px[last]!, 0);
      }
      book.set(ticks, qty);
      ops.push({ position: book.find(ticks), operation: 0, side, price: this.price(ticks), size: qty });
    }
  }
}
