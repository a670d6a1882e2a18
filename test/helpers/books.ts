import type { BookRecord } from '../../src/records/types.js';

export type Levels = [number, number][];
export interface SortedBook {
  bids: Levels;
  asks: Levels;
}

/**
 * Applies book records in order (a snapshot replaces, amount 0 removes) and returns the book a
 * consumer holds after each record, bids high→low and asks low→high.
 */
export function booksAfterEach(records: readonly BookRecord[]): SortedBook[] {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const out: SortedBook[] = [];
  for (const r of records) {
    if (r.snapshot) {
      bids.clear();
      asks.clear();
    }
    for (const [p, a] of r.bids) a === 0 ? bids.delete(p) : bids.set(p, a);
    for (const [p, a] of r.asks) a === 0 ? asks.delete(p) : asks.set(p, a);
    out.push({ bids: [...bids].sort((x, y) => y[0] - x[0]), asks: [...asks].sort((x, y) => x[0] - y[0]) });
  }
  return out;
}
