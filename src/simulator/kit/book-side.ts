/**
 * One side of a simulated book: prices in integer ticks sorted best-first (bids descending, asks
 * ascending) with parallel quantities in integer lots. Shared by every synthetic venue market.
 *
 * Invariants: `px` is strictly sorted best-first and has no duplicates; `px.length === qty.length`;
 * every `qty` is > 0 (setting a quantity <= 0 removes the level).
 */
export class BookSide {
  readonly px: number[] = [];
  readonly qty: number[] = [];
  constructor(readonly isBid: boolean) {}

  get length(): number {
    return this.px.length;
  }

  /** true when price a is better than b on this side. */
  better(a: number, b: number): boolean {
    return this.isBid ? a > b : a < b;
  }

  /** Index of price, or -(insertion point) - 1. */
  find(p: number): number {
    let lo = 0;
    let hi = this.px.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.px[mid]!;
      if (v === p) return mid;
      if (this.better(v, p)) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** Sets the level at price `p` to `q` lots; `q <= 0` removes it. */
  set(p: number, q: number): void {
    const i = this.find(p);
    if (q <= 0) {
      if (i >= 0) {
        this.px.splice(i, 1);
        this.qty.splice(i, 1);
      }
    } else if (i >= 0) this.qty[i] = q;
    else {
      const at = -i - 1;
      this.px.splice(at, 0, p);
      this.qty.splice(at, 0, q);
    }
  }
}
