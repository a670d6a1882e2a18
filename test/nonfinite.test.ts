/**
 * Regression (found by the property tests and the fuzzer, fixed in binance-session.ts).
 * The Binance session accepts non-finite numbers: "Infinity" / 1e999 prices are written as valid
 * trades, and a trade id of 1e999 (JSON.parse → Infinity) becomes the dedupe high-water mark, so
 * every later trade of that stream is silently dropped as a "duplicate" — a silent failure.
 */

import { describe, expect, it } from 'vitest';
import { createBinanceSession } from '../src/venues/binance/session.js';
import { recordingContext } from './kit/recording-context.js';

function setup() {
  const rc = recordingContext();
  const s = createBinanceSession(rc.ctx);
  s.addStreams([{ channel: 'trades', symbol: 'BTC/USDT', symbolId: 1, native: 'BTCUSDT' }]);
  const frame = (t: string, p: string) =>
    `{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":${t},"p":"${p}","q":"1","T":1,"m":true}}`;
  const trades = () => rc.of('trade');
  return { s, trades, frame };
}

describe('binance session: non-finite numbers are bad frames', () => {
  it.each(['Infinity', '-Infinity', '1e999'])('price %s is rejected, not written', (p) => {
    const { s, trades, frame } = setup();
    expect(() => s.onMessage(frame('1', p))).toThrow(/binance/);
    expect(trades()).toEqual([]);
  });

  it('a trade id of 1e999 is rejected and does not silence the stream', () => {
    const { s, trades, frame } = setup();
    expect(() => s.onMessage(frame('1e999', '1'))).toThrow(/binance/);
    s.onMessage(frame('5', '1'));
    s.onMessage(frame('6', '1'));
    expect(trades().map((t) => t.seq)).toEqual([5, 6]);
  });
});
