/**
 * The top N levels OpenD pushes for one security, turned into price-level deltas: each push
 * replaces the previous top, so the delta is every level whose amount changed plus every level
 * that left the top (amount 0). Applying the deltas to the first push (a snapshot) gives exactly
 * the latest push, which is what `engine.book()` keeps. Levels are flat `[price, amount, …]`.
 */
export class TopBook {
  private bids: number[] = [];
  private asks: number[] = [];
  private bidCount = 0;
  private askCount = 0;
  /** No push since the book was (re)started: the next one is a snapshot. */
  empty = true;
  readonly deltaBids: number[] = [];
  readonly deltaAsks: number[] = [];
  deltaBidCount = 0;
  deltaAskCount = 0;

  reset(): void {
    this.empty = true;
    this.bidCount = 0;
    this.askCount = 0;
  }

  /** Takes the new top; fills the deltas. Returns true when this push is the snapshot. */
  apply(bids: readonly number[], bidCount: number, asks: readonly number[], askCount: number): boolean {
    const snapshot = this.empty;
    this.deltaBidCount = snapshot ? copy(bids, bidCount, this.deltaBids) : diff(this.bids, this.bidCount, bids, bidCount, this.deltaBids);
    this.deltaAskCount = snapshot ? copy(asks, askCount, this.deltaAsks) : diff(this.asks, this.askCount, asks, askCount, this.deltaAsks);
    this.bidCount = copy(bids, bidCount, this.bids);
    this.askCount = copy(asks, askCount, this.asks);
    this.empty = false;
    return snapshot;
  }
}

function copy(from: readonly number[], count: number, to: number[]): number {
  for (let i = 0; i < 2 * count; i++) to[i] = from[i]!;
  return count;
}

/** Levels of `next` whose amount differs from `prev`, then levels of `prev` gone from `next` (amount 0). */
function diff(prev: readonly number[], prevCount: number, next: readonly number[], nextCount: number, out: number[]): number {
  let n = 0;
  for (let i = 0; i < nextCount; i++) {
    const price = next[2 * i]!;
    const amount = next[2 * i + 1]!;
    if (amountAt(prev, prevCount, price) !== amount) {
      out[2 * n] = price;
      out[2 * n + 1] = amount;
      n++;
    }
  }
  for (let i = 0; i < prevCount; i++) {
    const price = prev[2 * i]!;
    if (amountAt(next, nextCount, price) === 0) {
      out[2 * n] = price;
      out[2 * n + 1] = 0;
      n++;
    }
  }
  return n;
}

function amountAt(levels: readonly number[], count: number, price: number): number {
  for (let i = 0; i < count; i++) if (levels[2 * i] === price) return levels[2 * i + 1]!;
  return 0;
}
