/**
 * Regressions found by the property tests (`test/property.test.ts`) once Kraken, Bybit and OKX
 * joined the venue table; fixed in the venue session files.
 *  - A frame with several entries whose later entry was malformed wrote the earlier entries and
 *    then threw (kraken `ohlc` snapshot, bybit `publicTrade`, and the same loop in okx): a rejected
 *    frame must write nothing. Every entry is now validated before any is written.
 *  - "Infinity" / 1e999 were accepted as numbers (okx trade price; same `dec` in kraken and bybit)
 *    and written as valid records; coinbase wrote a ticker's `best_bid` "Infinity" into a quote.
 *    The fuzzer (scripts/fuzz.ts) found binance-usdm writing a bookTicker's `"E":-1e999` as the
 *    quote time (both the scanner and the JSON path).
 *    Non-finite numbers are now bad (required fields) or "not provided" (NaN, optional fields).
 */

import { describe, expect, it } from 'vitest';
import { createBinanceSession } from '../src/venues/binance/session.js';
import { USDM_FLAVOR } from '../src/venues/binance/usdm.js';
import { createBybitSession } from '../src/venues/bybit/session.js';
import { createCoinbaseSession } from '../src/venues/coinbase/session.js';
import type { SessionContext, StreamSpec, VenueSession } from '../src/venues/contract.js';
import { createKrakenSession } from '../src/venues/kraken/session.js';
import { createOkxSession } from '../src/venues/okx/session.js';
import { recordingContext } from './kit/recording-context.js';

/** A session of `create` on the kit's recording context, with `streams`; `calls` are its sink calls. */
function harness(create: (ctx: SessionContext) => VenueSession, streams: StreamSpec[]) {
  const rc = recordingContext();
  const s = create(rc.ctx);
  s.addStreams(streams);
  return { s, calls: rc.recs, rc };
}

const plainErrorNaming = (venue: string) => (err: unknown) => {
  expect(Object.getPrototypeOf(err)).toBe(Error.prototype);
  expect((err as Error).message).toMatch(new RegExp(venue));
  return true;
};

describe('kraken: a bad entry rejects the whole frame', () => {
  const candle = (begin: string, high: unknown) => ({
    symbol: 'BTC/USD',
    open: 63376,
    high,
    low: 63364.8,
    close: 63364.8,
    trades: 30,
    volume: 0.14059436,
    vwap: 63367.1,
    interval_begin: begin,
    interval: 1,
    timestamp: begin,
  });
  const ohlc = (high: unknown) =>
    JSON.stringify({
      channel: 'ohlc',
      type: 'snapshot',
      timestamp: '2026-08-12T19:28:43.952985558Z',
      data: [candle('2026-08-12T19:19:00.000000000Z', 63376), candle('2026-08-12T19:20:00.000000000Z', high)],
    });
  const spec: StreamSpec = { channel: 'candles', symbol: 'BTC/USD', native: 'BTC/USD', symbolId: 1, interval: '1m' };

  it('ohlc snapshot whose second candle has high "" (shrunk counterexample) writes nothing', () => {
    const { s, calls } = harness((ctx) => createKrakenSession(ctx), [spec]);
    expect(() => s.onMessage(ohlc(''))).toThrow(/kraken/);
    expect(calls).toEqual([]);
    // The state is untouched too: the valid frame is then accepted whole.
    s.onMessage(ohlc(63360));
    expect(calls.map((c) => c.type)).toEqual(['candle', 'candle']);
  });

  it.each(['"Infinity"', '1e999'])('ohlc high %s is rejected, not written', (high) => {
    const { s, calls } = harness((ctx) => createKrakenSession(ctx), [spec]);
    expect(() => s.onMessage(ohlc('X').replace('"high":"X"', `"high":${high}`))).toThrow(/kraken/);
    expect(calls).toEqual([]);
  });

  it('a trade frame with a bad second trade writes nothing', () => {
    const spec: StreamSpec = { channel: 'trades', symbol: 'BTC/USD', native: 'BTC/USD', symbolId: 1 };
    const { s, calls } = harness((ctx) => createKrakenSession(ctx), [spec]);
    const trade = (id: number, price: unknown) => ({
      symbol: 'BTC/USD',
      side: 'buy',
      price,
      qty: 0.1,
      ord_type: 'limit',
      trade_id: id,
      timestamp: '2026-08-12T19:29:00.1Z',
    });
    let thrown: unknown;
    try {
      s.onMessage(JSON.stringify({ channel: 'trade', type: 'update', data: [trade(1, 63000.5), trade(2, null)] }));
    } catch (err) {
      thrown = err;
    }
    expect(plainErrorNaming('kraken')(thrown)).toBe(true);
    expect(calls).toEqual([]);
  });
});

describe('bybit: a bad trade or candle rejects the whole frame', () => {
  const spec: StreamSpec = { channel: 'trades', symbol: 'BTC/USDT:USDT', native: 'BTCUSDT', symbolId: 1 };
  const trade = (i: string, v: unknown) => ({ i, T: 1786538700833, p: '64104.5', v, S: 'Sell', seq: 112571834644, s: 'BTCUSDT', BT: false, RPI: false });
  const frame = (v: unknown) =>
    JSON.stringify({
      topic: 'publicTrade.BTCUSDT',
      ts: 1786538700834,
      type: 'snapshot',
      data: [trade('2290000001190010739', '0.00325'), trade('2290000001190010740', '0.00325'), trade('2290000001190010743', v)],
    });

  it('publicTrade whose third trade has "v": {} (shrunk counterexample) writes nothing', () => {
    const { s, calls } = harness((ctx) => createBybitSession(ctx), [spec]);
    let thrown: unknown;
    try {
      s.onMessage(frame({}));
    } catch (err) {
      thrown = err;
    }
    expect(plainErrorNaming('bybit')(thrown)).toBe(true);
    expect(calls).toEqual([]);
    // The dedupe state is untouched: the valid frame is then accepted whole.
    s.onMessage(frame('0.0016'));
    expect(calls.map((c) => c.type)).toEqual(['trade', 'trade', 'trade']);
  });

  it.each(['"Infinity"', '1e999'])('trade size %s is rejected, not written', (v) => {
    const { s, calls } = harness((ctx) => createBybitSession(ctx), [spec]);
    expect(() => s.onMessage(frame('X').replace('"v":"X"', `"v":${v}`))).toThrow(/bybit/);
    expect(calls).toEqual([]);
  });

  it('a trade time of 1e999 is rejected, not written', () => {
    const { s, calls } = harness((ctx) => createBybitSession(ctx), [spec]);
    expect(() => s.onMessage(frame('0.1').replace('"T":1786538700833', '"T":1e999'))).toThrow(/bybit/);
    expect(calls).toEqual([]);
  });

  it('a kline frame with a bad second candle writes nothing', () => {
    const k: StreamSpec = { channel: 'candles', symbol: 'BTC/USDT:USDT', native: 'BTCUSDT', symbolId: 1, interval: '1m' };
    const { s, calls } = harness((ctx) => createBybitSession(ctx), [k]);
    const candle = (start: number, close: unknown) => ({
      start,
      end: start + 59_999,
      interval: '1',
      open: '63975',
      close,
      high: '63975',
      low: '63971.2',
      volume: '0.329',
      turnover: '21047.0079',
      confirm: false,
      timestamp: start + 1441,
    });
    const text = JSON.stringify({
      topic: 'kline.1.BTCUSDT',
      data: [candle(1786540320000, '63971.2'), candle(1786540380000, 'Infinity')],
      ts: 1786540381441,
      type: 'snapshot',
    });
    expect(() => s.onMessage(text)).toThrow(/bybit/);
    expect(calls).toEqual([]);
  });
});

describe('okx: non-finite numbers and multi-item frames', () => {
  const spec: StreamSpec = { channel: 'trades', symbol: 'BTC/USDT', native: 'BTC-USDT', symbolId: 1 };
  const trade = (tradeId: string, px: string) => ({ instId: 'BTC-USDT', tradeId, px, sz: '0.00275031', side: 'sell', ts: '1652459233099' });
  const frame = (...data: unknown[]) => JSON.stringify({ arg: { channel: 'trades', instId: 'BTC-USDT' }, data });

  it.each(['Infinity', '-Infinity', '1e999'])('trade px %s (shrunk counterexample: "Infinity") is rejected, not written', (px) => {
    const { s, calls } = harness((ctx) => createOkxSession(ctx), [spec]);
    expect(() => s.onMessage(frame(trade('338476354', px)))).toThrow(/okx/);
    expect(calls).toEqual([]);
  });

  it('a trades frame with a bad second trade writes nothing, and leaves the dedupe mark alone', () => {
    const { s, calls } = harness((ctx) => createOkxSession(ctx), [spec]);
    expect(() => s.onMessage(frame(trade('338476354', '30230'), trade('338476355', 'abc')))).toThrow(/okx/);
    expect(calls).toEqual([]);
    s.onMessage(frame(trade('338476354', '30230'), trade('338476355', '30231')));
    expect(calls.map((c) => (c.type === 'trade' ? c.price : c.type))).toEqual([30230, 30231]);
  });

  it('a ticker "Infinity" in an optional field is "not provided" (NaN), never Infinity', () => {
    const t: StreamSpec = { channel: 'ticker', symbol: 'BTC/USDT', native: 'BTC-USDT', symbolId: 1 };
    const { s, calls } = harness((ctx) => createOkxSession(ctx), [t]);
    s.onMessage(
      JSON.stringify({
        arg: { channel: 'tickers', instId: 'BTC-USDT' },
        data: [{ instId: 'BTC-USDT', last: '30230', open24h: 'Infinity', high24h: '1e999', low24h: '30000', ts: '1652459233099' }],
      }),
    );
    expect(calls[0]).toMatchObject({ type: 'ticker', fields: { last: 30230, open: Number.NaN, high: Number.NaN } });
  });
});

describe('coinbase: non-finite numbers are never written', () => {
  const streams: StreamSpec[] = [
    { channel: 'ticker', symbol: 'SKL/USD', native: 'SKL-USD', symbolId: 1 },
    { channel: 'quotes', symbol: 'SKL/USD', native: 'SKL-USD', symbolId: 1 },
  ];
  const ticker = (bestBid: string) =>
    `{"type":"ticker","sequence":201391288,"product_id":"SKL-USD","price":"0.7909","open_24h":"0.7055","volume_24h":"34258463.00000000","low_24h":"0.6915","high_24h":"0.8098","volume_30d":"948685815.70000000","best_bid":${bestBid},"best_ask":"0.7920","side":"sell","time":"2021-04-17T16:43:47.854954Z","trade_id":1568276,"last_size":"80"}`;

  it.each(['"Infinity"', '"-Infinity"', '1e999'])('ticker best_bid %s (shrunk counterexample: "Infinity") gives a NaN bid, not Infinity', (bid) => {
    const { s, rc } = harness((ctx) => createCoinbaseSession(ctx), streams);
    s.onMessage(ticker(bid));
    const quote = rc.of('quote')[0]!;
    expect(quote.bidPrice).toBeNaN();
    expect(quote.askPrice).toBe(0.792);
    expect(rc.of('ticker')[0]!.fields.bidPrice).toBeNaN();
  });
});

describe('binance-usdm: a non-finite bookTicker event time is never written', () => {
  it.each([
    ['fast', '-1e999'],
    ['fast', '1e999'],
    ['json', '-1e999'],
    ['json', '1e999'],
  ] as const)('%s parser, E = %s (fuzzer reproducer) → quote time NaN', (parser, E) => {
    const streams: StreamSpec[] = [{ channel: 'quotes', symbol: 'CTK/USDT:USDT', native: 'CTKUSDT', symbolId: 1 }];
    const { s, calls } = harness((ctx) => createBinanceSession(ctx, { flavor: USDM_FLAVOR, parser }), streams);
    s.onMessage(
      `{"stream":"ctkusdt@bookTicker","data":{"e":"bookTicker","u":600859921774,"s":"CTKUSDT","b":"1.01100","B":"1443","a":"1.01200","A":"10902","T":1626992756703,"E":${E}}}`,
    );
    expect(calls).toEqual([
      { type: 'quote', symbolId: 1, ts: Number.NaN, seq: 600859921774, bidPrice: 1.011, bidAmount: 1443, askPrice: 1.012, askAmount: 10902 },
    ]);
  });
});
