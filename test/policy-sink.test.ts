import { describe, expect, it } from 'vitest';
import { PolicySink, type TrySink } from '../src/backpressure/policy-sink.js';
import { StatusCode } from '../src/records/types.js';

type Written = { kind: string; args: unknown[] };

/** A sink with room for `room` records until `free()` is called. */
function fakeRing(room: number) {
  const written: Written[] = [];
  let left = room;
  const take = (kind: string) => (...args: unknown[]) => {
    if (left <= 0) return false;
    left--;
    written.push({ kind, args: kind === 'book' ? [args[0], args[4], [...(args[5] as number[])].slice(0, (args[6] as number) * 2), [...(args[7] as number[])].slice(0, (args[8] as number) * 2)] : args });
    return true;
  };
  const sink = {
    trade: take('trade'),
    quote: take('quote'),
    ticker: take('ticker'),
    book: take('book'),
    candle: take('candle'),
    status: take('status'),
  } as unknown as TrySink;
  return { sink, written, free: (n: number) => (left += n) };
}

describe('PolicySink', () => {
  it('block: queues in order when full, loses nothing, reports queued', () => {
    const ring = fakeRing(2);
    const p = new PolicySink(ring.sink, 'block');
    for (let i = 0; i < 5; i++) p.trade(1, 0, i, 1, 100 + i, 1);
    expect(p.queued).toBe(true);
    expect(ring.written.map((w) => w.args[2])).toEqual([0, 1]);
    ring.free(2);
    expect(p.flush()).toBe(false);
    ring.free(10);
    expect(p.flush()).toBe(true);
    p.trade(1, 0, 5, 1, 105, 1);
    expect(ring.written.map((w) => w.args[2])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(p.dropped).toBe(0);
  });

  it('drop: counts what is dropped and reports it in band before new data', () => {
    const ring = fakeRing(1);
    const p = new PolicySink(ring.sink, 'drop');
    for (let i = 0; i < 4; i++) p.trade(1, 0, i, 1, 100, 1);
    expect(p.dropped).toBe(3);
    ring.free(10);
    p.trade(1, 0, 4, 1, 100, 1);
    expect(ring.written.map((w) => w.kind)).toEqual(['trade', 'status', 'trade']);
    expect(ring.written[1]!.args).toEqual([0, StatusCode.dropped, 3]);
  });

  it('status records are never dropped', () => {
    const ring = fakeRing(0);
    const p = new PolicySink(ring.sink, 'drop');
    p.status(7, StatusCode.resync, 1);
    ring.free(10);
    expect(p.flush()).toBe(true);
    expect(ring.written).toEqual([{ kind: 'status', args: [7, StatusCode.resync, 1] }]);
  });

  it('conflate: keeps the latest quote per symbol, never conflates trades', () => {
    const ring = fakeRing(0);
    const p = new PolicySink(ring.sink, 'conflate');
    p.quote(1, 0, 1, 10, 1, 11, 1);
    p.trade(1, 0, 1, 1, 10, 1);
    p.quote(1, 0, 2, 10, 2, 11, 2);
    p.quote(2, 0, 3, 20, 1, 21, 1);
    p.trade(1, 0, 2, 1, 10, 1);
    expect(p.conflated).toBe(1);
    ring.free(100);
    expect(p.flush()).toBe(true);
    expect(ring.written.map((w) => `${w.kind}:${w.args[0]}:${w.args[2]}`)).toEqual([
      'trade:1:1',
      'trade:1:2',
      'quote:1:2',
      'quote:2:3',
    ]);
  });

  it('conflate: merges book deltas into one delta with the same result', () => {
    const ring = fakeRing(0);
    const p = new PolicySink(ring.sink, 'conflate');
    p.book(1, 0, 1, 1, false, [100, 1, 99, 2], 2, [101, 1], 1);
    p.book(1, 0, 2, 2, false, [100, 0], 1, [101, 3, 102, 1], 2);
    ring.free(10);
    p.flush();
    expect(ring.written).toEqual([{ kind: 'book', args: [1, false, [100, 0, 99, 2], [101, 3, 102, 1]] }]);
  });
});
