/**
 * The scanner path (default) and the JSON.parse path must produce identical records for every
 * Binance frame we have: cryptofeed captures, ccxt cases (re-serialized, raw and enveloped),
 * simulator-generated spot and USD-M frames, and irregular variants that must fall back.
 */

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinanceScanner, S_p, T_DECIMAL } from '../src/parse/binance-scan.js';
import { readDecimal } from '../src/parse/decimal.js';
import { SyntheticMarket } from '../src/simulator/binance/market.js';

import type { BinanceFlavor } from '../src/venues/binance/flavor.js';
import { SPOT_FLAVOR } from '../src/venues/binance/flavor.js';
import { type BinanceSession, createBinanceSession } from '../src/venues/binance/session.js';
import { USDM_FLAVOR } from '../src/venues/binance/usdm.js';

import type { Channel, StreamSpec, VenueAdapter } from '../src/venues/contract.js';
import { socketVenue, venues } from '../src/venues/registry.js';
import { type RecordingContext, recordingContext } from './kit/recording-context.js';

/** The adapters as registered (exchange code and endpoint variables are assigned there). */
const binance = socketVenue('binance');
const binanceUsdm = socketVenue('binance-usdm');

const fixture = (rel: string): string => readFileSync(new URL(`../../shared/fixtures/${rel}`, import.meta.url), 'utf8');
const flush = () => new Promise<void>((r) => setImmediate(r));

/** One session on the kit's recording context, the errors it threw and its unanswered snapshot fetches. */
interface Side {
  session: BinanceSession;
  rc: RecordingContext;
  /** Each error's message, with the number of records and resyncs written before it. */
  errors: [number, number, string][];
  pending: { url: string; resolve: (v: unknown) => void }[];
}

function side(flavor: BinanceFlavor, parser: 'fast' | 'json'): Side {
  const pending: Side['pending'] = [];
  const rc = recordingContext({ restUrl: 'http://rest', rest: (url) => new Promise((resolve) => pending.push({ url, resolve })) });
  return { session: createBinanceSession(rc.ctx, { flavor, parser, minResyncIntervalMs: 0 }), rc, errors: [], pending };
}

/** Everything a side emitted, as comparable values: records, resyncs, and errors in their places. */
const output = (s: Side) => ({ recs: s.rc.recs, resyncs: s.rc.resyncs, errors: s.errors });
/** How much a side emitted so far (records, resyncs and errors). */
const emitted = (s: Side): number => s.rc.recs.length + s.rc.resyncs.length + s.errors.length;

/** Feed one frame to both sides; errors are recorded as values so they must match too. */
function feed(sides: Side[], text: string): void {
  for (const s of sides) {
    try {
      s.session.onMessage(text);
    } catch (err) {
      s.errors.push([s.rc.recs.length, s.rc.resyncs.length, (err as Error).message]);
    }
  }
}

/** Answer every pending snapshot request on both sides with the same body. */
async function answer(sides: Side[], body: (url: string) => unknown): Promise<void> {
  for (const s of sides) for (const p of s.pending.splice(0)) p.resolve(body(p.url));
  await flush();
}

function pair(flavor: BinanceFlavor): [Side, Side] {
  return [side(flavor, 'fast'), side(flavor, 'json')];
}

function specsFor(adapter: VenueAdapter, channels: Channel[], symbols: string[], interval = '1m'): StreamSpec[] {
  const out: StreamSpec[] = [];
  symbols.forEach((symbol, i) => {
    for (const channel of channels) {
      out.push({ channel, symbol, symbolId: i + 1, native: adapter.nativeSymbol(symbol), interval: channel === 'candles' ? interval : undefined });
    }
  });
  return out;
}

async function replayCapture(ws: string, http: string, flavor: BinanceFlavor, adapter: VenueAdapter, symbols: string[]) {
  const sides = pair(flavor);
  const frames = ws
    .split('\n')
    .map((l) => /^(\d+\.\d+): (.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ ts: Number(m[1]), text: m[2] }));
  const snaps = new Map<string, { ts: number; body: unknown }>();
  for (const l of http.split('\n')) {
    const m = /^(\S+) -> (\d+\.\d+): (.*)$/.exec(l);
    if (m) snaps.set(new URL(m[1]).searchParams.get('symbol')!, { ts: Number(m[2]), body: JSON.parse(m[3]) });
  }
  for (const s of sides) s.session.addStreams(specsFor(adapter, ['aggTrades', 'book', 'candles', 'quotes'], symbols));
  for (const f of frames) {
    for (const s of sides) {
      for (let i = s.pending.length - 1; i >= 0; i--) {
        const snap = snaps.get(new URL(s.pending[i].url).searchParams.get('symbol')!)!;
        if (snap.ts <= f.ts) s.pending.splice(i, 1)[0].resolve(snap.body);
      }
    }
    await flush();
    feed(sides, f.text);
  }
  return { sides, frames: frames.length };
}

describe('scanner vs JSON.parse: identical records', () => {
  it('cryptofeed BINANCE.ws.1.0 (spot) and BINANCE_FUTURES.ws.1.0 (USD-M)', async () => {
    const spot = await replayCapture(
      fixture('cryptofeed/BINANCE.ws.1.0'),
      fixture('cryptofeed/BINANCE.http.0.0'),
      SPOT_FLAVOR,
      binance,
      ['NKN/USDT', 'BLZ/ETH', 'LRC/BTC', 'RUNE/EUR'],
    );
    const fut = await replayCapture(
      fixture('cryptofeed/BINANCE_FUTURES.ws.1.0'),
      fixture('cryptofeed/BINANCE_FUTURES.http.0.0'),
      USDM_FLAVOR,
      binanceUsdm,
      ['SUSHI/USDT:USDT', 'AKRO/USDT:USDT', 'KEEP/USDT:USDT', 'CTK/USDT:USDT'],
    );
    for (const { sides, frames } of [spot, fut]) {
      const [fast, json] = sides;
      expect(emitted(fast)).toBeGreaterThan(frames / 2);
      expect(output(fast)).toEqual(output(json));
      expect(fast.errors).toEqual([]);
      expect(fast.session.stats.fastPath).toBeGreaterThan(frames * 0.9);
      expect(json.session.stats.fastPath).toBe(0);
    }
  });

  it('every ccxt binance.json spot and USD-M message, raw and in the combined envelope', async () => {
    const ccxt = JSON.parse(fixture('ccxt-ws/binance.json')) as {
      methods: Record<string, { input: unknown[]; url: string; messages: unknown[]; httpResponse?: unknown }[]>;
    };
    const channelOf: Record<string, Channel> = {
      watchTrades: 'trades',
      watchTicker: 'ticker',
      watchOHLCV: 'candles',
      watchOrderBook: 'book',
      watchBidsAsks: 'quotes',
    };
    let cases = 0;
    let fastFrames = 0;
    for (const [method, list] of Object.entries(ccxt.methods)) {
      const channel = channelOf[method];
      if (channel === undefined) continue; // private streams (ws-api)
      for (const c of list) {
        const host = new URL(c.url).hostname;
        const usdm = host === 'fstream.binance.com';
        if (!usdm && host !== 'stream.binance.com') continue; // COIN-M is not ours
        const adapter = usdm ? binanceUsdm : binance;
        const input = c.input[0];
        const symbol = (Array.isArray(input) ? input[0] : input) as string;
        for (const wrap of [false, true]) {
          const sides = pair(usdm ? USDM_FLAVOR : SPOT_FLAVOR);
          const specs = specsFor(adapter, [channel], [symbol], channel === 'candles' ? (c.input[1] as string) : '1m');
          const name = adapter.connectUrl('', specs).split('=')[1];
          for (const s of sides) {
            s.session.subscribeMessages(specs);
            s.session.addStreams(specs);
          }
          for (const m of c.messages) {
            const isAck = (m as { id?: unknown }).id !== undefined;
            feed(sides, wrap && !isAck ? JSON.stringify({ stream: name, data: m }) : JSON.stringify(m));
          }
          await answer(sides, () => c.httpResponse);
          expect(emitted(sides[0]), `${method} ${c.url}`).toBeGreaterThan(0);
          expect(output(sides[0])).toEqual(output(sides[1]));
          fastFrames += sides[0].session.stats.fastPath;
          cases++;
        }
      }
    }
    expect(cases).toBe(2 * 10); // 5 spot + 5 USD-M cases
    // Enveloped trade/bookTicker/depth frames: spot bidsAsks 2 + trades 1 + book 2, USD-M book 11 + 2 + trades 2.
    expect(fastFrames).toBe(20);
  });

  for (const futures of [false, true]) {
    it(`simulator-generated ${futures ? 'USD-M' : 'spot'} frames (thousands, every stream type)`, async () => {
      const adapter = futures ? binanceUsdm : binance;
      const symbols = futures ? ['BTC/USDT:USDT', 'XRP/USDT:USDT', 'ADA/USDT:USDT'] : ['BTC/USDT', 'XRP/USDT', 'ETH/BTC'];
      const channels: Channel[] = ['trades', 'aggTrades', 'quotes', 'book', 'ticker', 'candles'];
      if (futures) channels.push('funding');
      const specs = specsFor(adapter, channels, symbols);
      const names = new Set(adapter.connectUrl('', specs).split('=')[1].split('/'));
      const frames: string[] = [];
      const market = new SyntheticMarket(
        {
          seed: futures ? 5 : 4,
          symbols: specs.map((s) => s.native),
          ratePerStream: 60,
          rates: { ticker: 4, kline: 4 },
          depthLevels: 40,
          depthIntervalMs: 100,
          epochMs: 1_700_000_000_000,
          futures,
        },
        { wants: (s) => names.has(s), emit: (_t, stream, data) => frames.push(`{"stream":"${stream}","data":${data}}`) },
      );
      for (const s of specs) if (s.channel === 'candles') market.ensureKline(s.native, '1m');
      const sides = pair(futures ? USDM_FLAVOR : SPOT_FLAVOR);
      for (const s of sides) s.session.addStreams(specs);
      let total = 0;
      for (let t = 1; t <= 12_000; t += 50) {
        market.advance(t);
        for (const f of frames.splice(0)) {
          feed(sides, f);
          total++;
        }
        // Snapshots are answered mid-stream with the market's book at that moment.
        if (sides[0].pending.length > 0) {
          await answer(sides, (url) => JSON.parse(market.snapshotJson(new URL(url).searchParams.get('symbol')!, 1000)));
        }
      }
      expect(total).toBeGreaterThan(3000);
      const [fast, json] = sides;
      expect(output(fast)).toEqual(output(json));
      expect(fast.errors).toEqual([]);
      const kinds = new Set(fast.rc.recs.map((r) => r.type));
      for (const k of ['trade', 'quote', 'book', 'ticker', 'candle', 'status']) expect(kinds, k).toContain(k);
      for (let i = 1; i <= symbols.length; i++) expect(fast.session.isSynced(i)).toBe(true);
      expect(fast.session.stats.resyncs).toBe(0);
      expect(fast.session.stats.fastPath).toBeGreaterThan(total * 0.7);
    });
  }

  it('irregular variants fall back to JSON.parse and still agree (errors included)', () => {
    const base = [
      '{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":10,"p":"64000.10","q":"0.5","T":2,"m":true,"M":true}}',
      '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":20,"p":"64000.10","q":"0.5","f":1,"l":2,"T":2,"m":false,"M":true}}',
      '{"stream":"btcusdt@bookTicker","data":{"u":30,"s":"BTCUSDT","b":"63999.9","B":"1.5","a":"64000.1","A":"2.25"}}',
    ];
    const mutations: ((s: string) => string)[] = [
      (s) => s.replace('"p":"64000.10"', '"p" : "64000.10"'),
      (s) => s.replace('"data":{', '"data": {'),
      (s) => s.replace('"p":"64000.10"', '"p":"6400\\u0030.10"'),
      (s) => s.replace('"s":"BTCUSDT"', '"s":"BTC\\"USDT"'),
      (s) => s.replace('"T":2', '"T":2e0'),
      (s) => s.replace('"T":2', '"T":02'),
      (s) => s.replace('"q":"0.5"', '"q":"5e-1"'),
      (s) => s.replace('"q":"0.5"', '"q":".5"'),
      (s) => s.replace('"q":"0.5"', '"q":""'),
      (s) => s.replace('"q":"0.5"', '"q":0.5'),
      (s) => s.replace('"m":true', '"m":"true"'),
      (s) => s.replace('"E":1', '"E":1,"E":3'),
      (s) => s.replace('"t":10', '"t":10,"t":11'),
      (s) => s.replace('"B":"1.5"', '"B":"1.5","B":"9"'),
      (s) => s.replace('"E":1', '"x":{"y":1},"E":1'),
      (s) => s.replace('"E":1', '"x":[1],"E":1'),
      (s) => s.slice(0, -1),
      (s) => `${s} `,
      (s) => `${s}x`,
      (s) => s.replace('{"stream":"btcusdt@trade","data":', '{"data":').replace(/}$/, ',"stream":"btcusdt@trade"}'),
      (s) => s.replace('"stream":"btcusdt@', '"stream":"ethusdt@'),
      (s) => s.replace('"u":30', '"u":30.5'),
      (s) => s.replace('"t":10', '"t":-10'),
      (s) => s.replace('"t":10', '"t":12345678901234567'),
      (s) => s.replace('"p":"64000.10"', '"p":"64000.1000000000000000001"'),
      (s) => s.replace('"p":"64000.10"', '"p":"-1"'),
      (s) => s.replace('"m":true', '"m":null'),
    ];
    const depthBase =
      '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":101,"u":102,"b":[["63999.9","1"]],"a":[["64000.1","2"]]}}';
    const depthMut: ((s: string) => string)[] = [
      (s) => s.replace('["63999.9","1"]', '["63999.9","1","x"]'),
      (s) => s.replace('["63999.9","1"]', '["63999.9","-1"]'),
      (s) => s.replace('["63999.9","1"]', '[63999.9,1]'),
      (s) => s.replace('["63999.9","1"]', '["63999.9", "1"]'),
      (s) => s.replace('"U":101', '"U":103'),
      (s) => s.replace('"b":[["63999.9","1"]]', '"b":[]'),
      (s) => s.replace('"a":[["64000.1","2"]]', '"a":"x"'),
      (s) => s.replace('"U":101', '"U":"101"'),
    ];
    const frames = [base, base.flatMap((b) => mutations.map((m) => m(b))), depthBase, depthMut.map((m) => m(depthBase))].flat();
    const [fast, json] = pair(SPOT_FLAVOR);
    const specs = specsFor(binance, ['trades', 'aggTrades', 'quotes', 'book'], ['BTC/USDT']);
    for (const s of [fast, json]) {
      s.session.addStreams(specs);
      s.pending.splice(0)[0].resolve({ lastUpdateId: 100, bids: [['63999', '1']], asks: [['64001', '1']] });
    }
    return flush().then(() => {
      for (const f of frames) {
        const before = [fast, json].map((s) => [s.rc.recs.length, s.rc.resyncs.length, s.errors.length]);
        feed([fast, json], f);
        const [fastNew, jsonNew] = [fast, json].map((s, i) => {
          const [recs, resyncs, errors] = before[i]!;
          return { recs: s.rc.recs.slice(recs), resyncs: s.rc.resyncs.slice(resyncs), errors: s.errors.slice(errors) };
        });
        expect(fastNew, f).toEqual(jsonNew);
      }
      expect(fast.errors.length).toBeGreaterThan(0);
      // Only the unmodified frames (and harmless variants such as extra unknown scalars) took the fast path.
      expect(fast.session.stats.fastPath).toBeLessThan(frames.length / 2);
    });
  });
});

describe('decimal reader', () => {
  it('matches Number() bit for bit on random decimals', () => {
    const out = { value: 0, end: 0 };
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.stringMatching(/^[0-9]{1,20}$/),
        fc.option(fc.stringMatching(/^[0-9]{1,25}$/), { nil: undefined }),
        (neg, int, frac) => {
          const s = `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`;
          const text = `"${s}"`;
          expect(readDecimal(text, 1, out, true)).toBe(true);
          expect(out.end).toBe(text.length - 1);
          expect(Object.is(out.value, Number(s))).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the scanner reports decimals and levels without JSON.parse', () => {
    const sc = new BinanceScanner();
    expect(sc.scan('{"stream":"x@trade","data":{"p":"1.10","b":[["1","2"],["3","4"]],"a":[]}}')).toBe(true);
    expect(sc.type[S_p]).toBe(T_DECIMAL);
    expect(sc.val[S_p]).toBe(1.1);
    expect([sc.bidCount, sc.askCount]).toEqual([2, 0]);
    expect(Array.from(sc.bids.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(sc.scan('{"stream":"x@trade","data":{"p":"1.10"} }')).toBe(false);
  });
});
