/**
 * An OKX book: the numeric `OrderBook` (ordering, crossed check) plus the venue's original
 * price and size strings of every level, which the checksum needs verbatim.
 */

import { OrderBook } from '../../book/order-book.js';
import { OKX_CHECKSUM_LEVELS, okxChecksum } from './checksum.js';

class StringSide {
  /** price → [price text, size text] of the level as last received. */
  readonly px = new Map<number, string>();
  readonly sz = new Map<number, string>();

  set(price: number, amount: number, pxText: string, szText: string): void {
    if (amount > 0) {
      this.px.set(price, pxText);
      this.sz.set(price, szText);
    } else {
      this.px.delete(price);
      this.sz.delete(price);
    }
  }

  clear(): void {
    this.px.clear();
    this.sz.clear();
  }

  /** Drop entries the numeric side evicted (only happens beyond `maxLevels`). */
  prune(keep: (price: number) => boolean): void {
    for (const p of this.px.keys()) {
      if (!keep(p)) {
        this.px.delete(p);
        this.sz.delete(p);
      }
    }
  }
}

export class OkxBook {
  readonly book: OrderBook;
  private readonly bidText = new StringSide();
  private readonly askText = new StringSide();
  private readonly topBids = new Float64Array(2 * OKX_CHECKSUM_LEVELS);
  private readonly topAsks = new Float64Array(2 * OKX_CHECKSUM_LEVELS);
  private readonly bidStr: string[] = new Array<string>(2 * OKX_CHECKSUM_LEVELS).fill('');
  private readonly askStr: string[] = new Array<string>(2 * OKX_CHECKSUM_LEVELS).fill('');

  constructor(maxLevels: number) {
    this.book = new OrderBook({ maxLevels });
  }

  clear(): void {
    this.book.clear();
    this.bidText.clear();
    this.askText.clear();
  }

  setBid(price: number, amount: number, pxText: string, szText: string): void {
    this.book.setBid(price, amount);
    this.bidText.set(price, amount, pxText, szText);
  }

  setAsk(price: number, amount: number, pxText: string, szText: string): void {
    this.book.setAsk(price, amount);
    this.askText.set(price, amount, pxText, szText);
  }

  /** Call after a batch of sets: forgets text of levels the numeric book evicted. */
  settle(): void {
    const b = this.book;
    if (this.bidText.px.size > b.bidDepth) this.bidText.prune((p) => b.bidAmount(p) > 0);
    if (this.askText.px.size > b.askDepth) this.askText.prune((p) => b.askAmount(p) > 0);
  }

  /** OKX checksum of the current top 25 levels, from the original strings. */
  checksum(): number {
    const counts = this.book.top(OKX_CHECKSUM_LEVELS, this.topBids, this.topAsks);
    const nb = counts.bids;
    const na = counts.asks;
    for (let i = 0; i < nb; i++) {
      const p = this.topBids[2 * i];
      this.bidStr[2 * i] = this.bidText.px.get(p) ?? '';
      this.bidStr[2 * i + 1] = this.bidText.sz.get(p) ?? '';
    }
    for (let i = 0; i < na; i++) {
      const p = this.topAsks[2 * i];
      this.askStr[2 * i] = this.askText.px.get(p) ?? '';
      this.askStr[2 * i + 1] = this.askText.sz.get(p) ?? '';
    }
    return okxChecksum(this.bidStr, nb, this.askStr, na);
  }
}
