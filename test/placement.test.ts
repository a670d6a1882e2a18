import { describe, expect, it } from 'vitest';
import { isCarried, planPlacement } from '../src/engine/placement.js';
import type { StreamSpec } from '../src/venues/contract.js';

const spec = (symbolId: number, channel: StreamSpec['channel'] = 'trades', native = `S${symbolId}`): StreamSpec => ({
  channel,
  symbol: `S${symbolId}/USDT`,
  symbolId,
  native,
});

describe('planPlacement', () => {
  it('fills open connections with room in order, then opens as few new ones as the limit allows', () => {
    const streams = [1, 2, 3, 4, 5, 6, 7].map((i) => spec(i));
    const plan = planPlacement(streams, [
      { connection: 'full', key: '', room: 0 },
      { connection: 'a', key: '', room: 2 },
    ], () => '', 3);
    expect([...plan.onOpen]).toEqual([['a', [streams[0], streams[1]]]]);
    expect(plan.toOpen.map((o) => o.streams.map((s) => s.symbolId))).toEqual([[3, 4, 5], [6, 7]]);
  });

  it('never mixes connection keys on one socket', () => {
    const streams = [spec(1), spec(2), spec(3)];
    const keyOf = (s: StreamSpec) => (s.symbolId === 2 ? 'linear' : 'spot');
    const plan = planPlacement(streams, [{ connection: 'spot-conn', key: 'spot', room: 10 }], keyOf, 10);
    expect(plan.onOpen.get('spot-conn')!.map((s) => s.symbolId)).toEqual([1, 3]);
    expect(plan.toOpen).toEqual([{ key: 'linear', streams: [streams[1]] }]);
  });

  it('knows a stream already carried (same channel, symbol and interval)', () => {
    const carried = [spec(1), { ...spec(2, 'candles'), interval: '1m' }];
    expect(isCarried(carried, spec(1))).toBe(true);
    expect(isCarried(carried, spec(1, 'quotes'))).toBe(false);
    expect(isCarried(carried, { ...spec(2, 'candles'), interval: '5m' })).toBe(false);
    expect(isCarried(carried, { ...spec(2, 'candles'), interval: '1m' })).toBe(true);
  });
});
