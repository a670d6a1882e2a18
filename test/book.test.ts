import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderBook } from '../src/book/order-book.js';

/** Naive model: Map price → amount per side, truncated to the best `max` levels after each set. */
class ModelBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  constructor(private readonly max: number) {}

  private set(side: Map<number, number>, isBid: boolean, price: number, amount: number): void {
    if (amount > 0) side.set(price, amount);
    else side.delete(price);
    if (side.size > this.max) {
      const sorted = [...side.keys()].sort((a, b) => (isBid ? b - a : a - b));
      for (const p of sorted.slice(this.max)) side.delete(p);
    }
  }
  setBid(p: number, a: number): void {
    this.set(this.bids, true, p, a);
  }
  setAsk(p: number, a: number): void {
    this.set(this.asks, false, p, a);
  }
  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }
  levels(side: 'bids' | 'asks'): [number, number][] {
    const m = side === 'bids' ? this.bids : this.asks;
    return [...m.entries()].sort((x, y) => (side === 'bids' ? y[0] - x[0] : x[0] - y[0]));
  }
}

type Lv = [number, number];
const level = fc.tuple(
  fc.integer({ min: 1, max: 40 }).map((p) => p / 4),
  fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 }).map((a) => a / 10)),
);
const op = fc.oneof(
  fc.record({
    kind: fc.constant('snapshot' as const),
    bids: fc.array(level, { maxLength: 25 }),
    asks: fc.array(level, { maxLength: 25 }),
  }),
  fc.record({
    kind: fc.constant('delta' as const),
    bids: fc.array(level, { maxLength: 6 }),
    asks: fc.array(level, { maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('clear' as const), bids: fc.constant([]), asks: fc.constant([]) }),
);

const flat = (levels: Lv[]): number[] => levels.flat();

describe('OrderBook', () => {
  it('matches a naive Map model under random snapshots/deltas (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(op, { maxLength: 40 }),
        (max, ops) => {
          const book = new OrderBook({ maxLevels: max });
          const model = new ModelBook(max);
          for (const o of ops) {
            if (o.kind === 'clear') {
              book.clear();
              model.clear();
            } else if (o.kind === 'snapshot') {
              book.applySnapshot(flat(o.bids), o.bids.length, flat(o.asks), o.asks.length);
              model.clear();
              // The book inserts snapshot levels last-to-first; do the same in the model so
              // that duplicate prices resolve alike (the first occurrence wins).
              for (let i = o.bids.length - 1; i >= 0; i--) model.setBid(o.bids[i][0], o.bids[i][1]);
              for (let i = o.asks.length - 1; i >= 0; i--) model.setAsk(o.asks[i][0], o.asks[i][1]);
            } else {
              book.applyDelta(flat(o.bids), o.bids.length, flat(o.asks), o.asks.length);
              for (const [p, a] of o.bids) model.setBid(p, a);
              for (const [p, a] of o.asks) model.setAsk(p, a);
            }
            const mb = model.levels('bids');
            const ma = model.levels('asks');
            expect(book.levels('bids')).toEqual(mb);
            expect(book.levels('asks')).toEqual(ma);
            expect(book.bidDepth).toBe(mb.length);
            expect(book.askDepth).toBe(ma.length);
            expect(book.bestBid()).toBe(mb.length ? mb[0][0] : Number.NaN);
            expect(book.bestAsk()).toBe(ma.length ? ma[0][0] : Number.NaN);
            expect(book.isCrossed()).toBe(mb.length > 0 && ma.length > 0 && mb[0][0] >= ma[0][0]);
            const n = 3;
            const tb = new Float64Array(2 * n);
            const ta = new Float64Array(2 * n);
            const counts = book.top(n, tb, ta);
            expect(counts.bids).toBe(Math.min(n, mb.length));
            expect(counts.asks).toBe(Math.min(n, ma.length));
            expect([...tb.subarray(0, 2 * counts.bids)]).toEqual(flat(mb.slice(0, n)));
            expect([...ta.subarray(0, 2 * counts.asks)]).toEqual(flat(ma.slice(0, n)));
            for (const [p, a] of mb) expect(book.bidAmount(p)).toBe(a);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps bids descending and asks ascending, removes on amount 0, NaN when empty', () => {
    const book = new OrderBook();
    expect(book.bestBid()).toBeNaN();
    expect(book.bestAsk()).toBeNaN();
    expect(book.isCrossed()).toBe(false);
    book.applySnapshot([100, 1, 99, 2, 98, 3], 3, [101, 1, 102, 2], 2);
    expect(book.levels('bids')).toEqual([
      [100, 1],
      [99, 2],
      [98, 3],
    ]);
    expect(book.levels('asks')).toEqual([
      [101, 1],
      [102, 2],
    ]);
    book.applyDelta([100, 0, 99.5, 4], 2, [101, 0, 103, 1], 2);
    expect(book.bestBid()).toBe(99.5);
    expect(book.bestAsk()).toBe(102);
    expect(book.bestBidAmount()).toBe(4);
    book.applyDelta([102, 1], 1, [], 0);
    expect(book.isCrossed()).toBe(true);
    book.clear();
    expect(book.bidDepth + book.askDepth).toBe(0);
  });

  it('only reads the first n levels of the scratch arrays', () => {
    const book = new OrderBook();
    const scratch = [10, 1, 9, 1, 8, 1];
    book.applySnapshot(scratch, 1, scratch, 0);
    expect(book.levels('bids')).toEqual([[10, 1]]);
    expect(book.askDepth).toBe(0);
  });

  it('evicts the far end when a side is full', () => {
    const book = new OrderBook({ maxLevels: 3 });
    book.applyDelta([1, 1, 2, 1, 3, 1, 4, 1], 4, [10, 1, 11, 1, 12, 1, 9, 1], 4);
    expect(book.levels('bids').map((l) => l[0])).toEqual([4, 3, 2]);
    expect(book.levels('asks').map((l) => l[0])).toEqual([9, 10, 11]);
    // A level worse than everything kept is ignored.
    book.setBid(0.5, 1);
    expect(book.levels('bids').map((l) => l[0])).toEqual([4, 3, 2]);
  });

  it('grows past its initial capacity and handles a large snapshot', () => {
    const book = new OrderBook();
    const bids: number[] = [];
    const asks: number[] = [];
    for (let i = 0; i < 1000; i++) {
      bids.push(1000 - i, i + 1);
      asks.push(1001 + i, i + 1);
    }
    book.applySnapshot(bids, 1000, asks, 1000);
    expect(book.bidDepth).toBe(1000);
    expect(book.bestBid()).toBe(1000);
    expect(book.bestAsk()).toBe(1001);
    expect(book.levels('bids').at(-1)).toEqual([1, 1000]);
  });

  it('rejects a bad maxLevels', () => {
    expect(() => new OrderBook({ maxLevels: 0 })).toThrow(/maxLevels/);
  });
});
