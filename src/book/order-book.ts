/**
 * L2 order book: aggregated price levels per side, kept sorted.
 *
 * Each side stores its levels in two parallel Float64Arrays ordered from the *worst* price to
 * the *best* one (bids ascending, asks descending), so the best level is the last element.
 * Most updates happen near the top of the book, which makes inserts/removals there cheap
 * (`copyWithin` of a few elements), and evicting the far end when the side is full is a shift
 * at index 0. Lookup is a binary search (O(log n)). Nothing allocates after the arrays have
 * grown to their working size.
 *
 * Used in the worker (book sync, crossed-book checks) and on the main thread (`engine.book()`).
 */

/** A writable numeric array (plain `number[]` grows; a typed array must be big enough). */
export interface WritableNumberArray {
  [index: number]: number;
}

export interface OrderBookOptions {
  /** Maximum levels kept per side; the levels farthest from the top are evicted. Default 5000. */
  maxLevels?: number;
}

export const DEFAULT_MAX_LEVELS = 5000;

/** Counts written by `OrderBook.top` (one object per book, reused). */
export interface TopCounts {
  bids: number;
  asks: number;
}

/** One side of the book. `sign` = +1 for bids, -1 for asks; key = sign * price, ascending. */
class BookSide {
  prices: Float64Array;
  amounts: Float64Array;
  n = 0;

  constructor(
    private readonly sign: 1 | -1,
    private readonly maxLevels: number,
  ) {
    const cap = Math.min(64, maxLevels);
    this.prices = new Float64Array(cap);
    this.amounts = new Float64Array(cap);
  }

  /** Index of `price` if present, else `-(insertionPoint + 1)`. Keys ascending. */
  private search(price: number): number {
    const key = this.sign * price;
    const prices = this.prices;
    const sign = this.sign;
    let lo = 0;
    let hi = this.n - 1;
    // Fast path: updates at or beyond the top of the book.
    if (hi >= 0) {
      const topKey = sign * prices[hi];
      if (key === topKey) return hi;
      if (key > topKey) return -(hi + 2);
    }
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = sign * prices[mid];
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return -(lo + 1);
  }

  private grow(): void {
    const cap = Math.min(this.maxLevels, this.prices.length * 2);
    const p = new Float64Array(cap);
    const a = new Float64Array(cap);
    p.set(this.prices.subarray(0, this.n));
    a.set(this.amounts.subarray(0, this.n));
    this.prices = p;
    this.amounts = a;
  }

  /** Set one level; amount 0 (or less, or NaN) removes it. */
  set(price: number, amount: number): void {
    let i = this.search(price);
    if (i >= 0) {
      if (amount > 0) {
        this.amounts[i] = amount;
      } else {
        const n = this.n;
        this.prices.copyWithin(i, i + 1, n);
        this.amounts.copyWithin(i, i + 1, n);
        this.n = n - 1;
      }
      return;
    }
    if (!(amount > 0)) return; // removing an absent level: nothing to do
    i = -i - 1; // insertion point
    let n = this.n;
    if (n === this.maxLevels) {
      // Full: the new level must beat the worst one (index 0), which is evicted.
      if (i === 0) return;
      this.prices.copyWithin(0, 1, i);
      this.amounts.copyWithin(0, 1, i);
      i -= 1;
      this.prices[i] = price;
      this.amounts[i] = amount;
      return;
    }
    if (n === this.prices.length) this.grow();
    if (i < n) {
      this.prices.copyWithin(i + 1, i, n);
      this.amounts.copyWithin(i + 1, i, n);
    }
    this.prices[i] = price;
    this.amounts[i] = amount;
    n += 1;
    this.n = n;
  }

  bestPrice(): number {
    return this.n > 0 ? this.prices[this.n - 1] : Number.NaN;
  }

  bestAmount(): number {
    return this.n > 0 ? this.amounts[this.n - 1] : Number.NaN;
  }

  /** Amount at `price`, 0 when absent. */
  amountAt(price: number): number {
    const i = this.search(price);
    return i >= 0 ? this.amounts[i] : 0;
  }

  /** Write up to `max` levels best-first as flat [price, amount, …]; returns levels written. */
  top(max: number, out: WritableNumberArray): number {
    const count = Math.min(max, this.n);
    let j = 0;
    for (let i = this.n - 1, k = 0; k < count; i--, k++) {
      out[j++] = this.prices[i];
      out[j++] = this.amounts[i];
    }
    return count;
  }
}

export class OrderBook {
  readonly maxLevels: number;
  private readonly bids: BookSide;
  private readonly asks: BookSide;
  private readonly counts: TopCounts = { bids: 0, asks: 0 };

  constructor(options: OrderBookOptions = {}) {
    const max = options.maxLevels ?? DEFAULT_MAX_LEVELS;
    if (!Number.isInteger(max) || max < 1) {
      throw new Error(`OrderBook: maxLevels must be a positive integer, got ${String(max)}`);
    }
    this.maxLevels = max;
    this.bids = new BookSide(1, max);
    this.asks = new BookSide(-1, max);
  }

  /** Number of bid levels. */
  get bidDepth(): number {
    return this.bids.n;
  }

  /** Number of ask levels. */
  get askDepth(): number {
    return this.asks.n;
  }

  clear(): void {
    this.bids.n = 0;
    this.asks.n = 0;
  }

  /**
   * Replace the whole book. Levels are flat `[price, amount, …]`; the first `bidCount` /
   * `askCount` levels are read, in any order (best-first input is the fast case);
   * zero amounts are skipped.
   */
  applySnapshot(
    bids: ArrayLike<number>,
    bidCount: number,
    asks: ArrayLike<number>,
    askCount: number,
  ): void {
    this.clear();
    // Iterate from the end: for best-first input every insert lands at the far end (cheap).
    for (let i = bidCount - 1; i >= 0; i--) this.bids.set(bids[2 * i], bids[2 * i + 1]);
    for (let i = askCount - 1; i >= 0; i--) this.asks.set(asks[2 * i], asks[2 * i + 1]);
  }

  /** Apply changed levels (absolute amounts; amount 0 removes the level). */
  applyDelta(
    bids: ArrayLike<number>,
    bidCount: number,
    asks: ArrayLike<number>,
    askCount: number,
  ): void {
    for (let i = 0; i < bidCount; i++) this.bids.set(bids[2 * i], bids[2 * i + 1]);
    for (let i = 0; i < askCount; i++) this.asks.set(asks[2 * i], asks[2 * i + 1]);
  }

  setBid(price: number, amount: number): void {
    this.bids.set(price, amount);
  }

  setAsk(price: number, amount: number): void {
    this.asks.set(price, amount);
  }

  /** Best bid price, NaN when the side is empty. */
  bestBid(): number {
    return this.bids.bestPrice();
  }

  /** Best ask price, NaN when the side is empty. */
  bestAsk(): number {
    return this.asks.bestPrice();
  }

  bestBidAmount(): number {
    return this.bids.bestAmount();
  }

  bestAskAmount(): number {
    return this.asks.bestAmount();
  }

  bidAmount(price: number): number {
    return this.bids.amountAt(price);
  }

  askAmount(price: number): number {
    return this.asks.amountAt(price);
  }

  /** true when both sides are non-empty and best bid >= best ask. */
  isCrossed(): boolean {
    return this.bids.n > 0 && this.asks.n > 0 && this.bids.bestPrice() >= this.asks.bestPrice();
  }

  /**
   * Write the top `n` levels of each side, best first, as flat `[price, amount, …]` into the
   * caller's arrays (which need room for `2 * n` numbers). Returns the number of levels
   * written per side in an object owned by the book (reused on every call).
   */
  top(n: number, bidsOut: WritableNumberArray, asksOut: WritableNumberArray): TopCounts {
    this.counts.bids = this.bids.top(n, bidsOut);
    this.counts.asks = this.asks.top(n, asksOut);
    return this.counts;
  }

  /** Levels as `[price, amount]` pairs, best first (allocates; for tests and convenience). */
  levels(side: 'bids' | 'asks', n = Number.POSITIVE_INFINITY): [number, number][] {
    const s = side === 'bids' ? this.bids : this.asks;
    const count = Math.min(n, s.n);
    const out: [number, number][] = [];
    for (let i = s.n - 1, k = 0; k < count; i--, k++) out.push([s.prices[i], s.amounts[i]]);
    return out;
  }
}
