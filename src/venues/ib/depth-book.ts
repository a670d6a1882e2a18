/**
 * TWS market depth is position-based (row `position` of a side: insert shifts the rows below
 * down, update replaces, delete shifts them up). ringfeed books are price-level: this keeps
 * each side's rows and the total size per price, and turns every operation into the price
 * levels it changed (size 0 = the level is gone), so `engine.book()` stays exact.
 */

export const DepthOp = { insert: 0, update: 1, remove: 2 } as const;
/** TWS side codes. */
export const DepthSide = { ask: 0, bid: 1 } as const;

class DepthSideRows {
  readonly price: number[] = [];
  readonly size: number[] = [];
  /** Total size per price over the rows (several rows may share a price). */
  readonly levels = new Map<number, number>();

  private add(price: number, size: number): void {
    const total = (this.levels.get(price) ?? 0) + size;
    if (total <= 1e-12) this.levels.delete(price);
    else this.levels.set(price, total);
  }

  /** Applies one operation; writes the changed levels to `out` as `[price, newTotal, …]`. */
  apply(op: number, position: number, price: number, size: number, out: number[]): void {
    const n = this.price.length;
    if (op === DepthOp.insert) {
      if (position > n) throw new Error(`ib: depth insert at row ${position} of a ${n}-row side`);
      this.price.splice(position, 0, price);
      this.size.splice(position, 0, size);
      this.add(price, size);
      out.push(price, this.levels.get(price) ?? 0);
      return;
    }
    if (position >= n) throw new Error(`ib: depth ${op === DepthOp.update ? 'update' : 'delete'} of row ${position} of a ${n}-row side`);
    const oldPrice = this.price[position]!;
    this.add(oldPrice, -this.size[position]!);
    if (op === DepthOp.update) {
      this.price[position] = price;
      this.size[position] = size;
      this.add(price, size);
      out.push(oldPrice, this.levels.get(oldPrice) ?? 0);
      if (price !== oldPrice) out.push(price, this.levels.get(price) ?? 0);
    } else if (op === DepthOp.remove) {
      this.price.splice(position, 1);
      this.size.splice(position, 1);
      out.push(oldPrice, this.levels.get(oldPrice) ?? 0);
    } else {
      throw new Error(`ib: depth operation ${op} is not insert (0), update (1) or delete (2)`);
    }
  }

  clear(): void {
    this.price.length = 0;
    this.size.length = 0;
    this.levels.clear();
  }
}

/** One symbol's depth rows, both sides. */
export class DepthBook {
  readonly bids = new DepthSideRows();
  readonly asks = new DepthSideRows();

  /** The side's changed levels after one operation, into `out` (cleared first). */
  apply(side: number, op: number, position: number, price: number, size: number, out: number[]): void {
    out.length = 0;
    if (!(price >= 0) || !(size >= 0) || !Number.isFinite(price) || !Number.isFinite(size)) {
      if (op !== DepthOp.remove) throw new Error(`ib: depth row with price ${price} and size ${size}`);
    }
    if (side === DepthSide.bid) this.bids.apply(op, position, price, size, out);
    else if (side === DepthSide.ask) this.asks.apply(op, position, price, size, out);
    else throw new Error(`ib: depth side ${side} is neither ask (0) nor bid (1)`);
  }

  /** Every price level of `side` into `out` as `[price, size, …]`; returns the count. */
  levelsOf(side: number, out: number[]): number {
    out.length = 0;
    for (const [price, size] of (side === DepthSide.bid ? this.bids : this.asks).levels) out.push(price, size);
    return out.length >> 1;
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }
}
