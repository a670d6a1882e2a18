import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { MarketRecord } from '../src/records/types.js';
import { ResyncReason, StatusCode } from '../src/records/types.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { type BinanceSession, createBinanceSession } from '../src/venues/binance/session.js';
import { USDM_FLAVOR } from '../src/venues/binance/usdm.js';

import type { Channel, StreamSpec, TickerFields } from '../src/venues/contract.js';
import { getVenue, socketVenue, } from '../src/venues/registry.js';
import { captureLogger } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';
import { type RecordingContext, rebuildBook, recordingContext } from './kit/recording-context.js';

/** The adapters as registered (exchange code and endpoint variables are assigned there). */
const binanceUsdm = socketVenue('binance-usdm');

const fixture = (rel: string): string => readFileSync(new URL(`../../shared/fixtures/${rel}`, import.meta.url), 'utf8');

/** A recording context on USD-M's REST base; `rest` answers the snapshot fetches. */
const harness = (rest: (url: string) => Promise<unknown>) => recordingContext({ restUrl: 'https://fapi.binance.com', rest });
type H = RecordingContext;

const flush = () => new Promise<void>((r) => setImmediate(r));

function spec(channel: Channel, symbol: string, symbolId: number, interval?: string): StreamSpec {
  return { channel, symbol, symbolId, native: binanceUsdm.nativeSymbol(symbol), interval };
}

function usdm(h: H, parser: 'fast' | 'json' = 'fast', extra = {}): BinanceSession {
  return createBinanceSession(h.ctx, { flavor: USDM_FLAVOR, parser, ...extra });
}

// ─── adapter surface ───────────────────────────────────────────────────────────────────────

describe('binance-usdm adapter', () => {
  it('identity, endpoints, symbols, stream names, registry', () => {
    expect(binanceUsdm.id).toBe('binance-usdm');
    expect(binanceUsdm.exchangeCode).toBe(2);
    expect(binanceUsdm.defaultWsUrl).toBe('wss://fstream.binance.com');
    expect(binanceUsdm.defaultRestUrl).toBe('https://fapi.binance.com');
    expect(binanceUsdm.wsUrlEnv).toBe('RINGFEED_BINANCE_USDM_WS_URL');
    expect(binanceUsdm.restUrlEnv).toBe('RINGFEED_BINANCE_USDM_REST_URL');
    expect(binanceUsdm.channels).toContain('funding');
    expect(getVenue('binance-usdm')).toBe(binanceUsdm);
    expect(binanceUsdm.nativeSymbol('BTC/USDT:USDT')).toBe('BTCUSDT');
    for (const bad of ['BTC/USDT', 'BTC/USD:BTC', 'btc/usdt:usdt', 'BTC-USDT']) {
      expect(() => binanceUsdm.nativeSymbol(bad), bad).toThrow(JSON.stringify(bad));
    }
    const specs = [
      spec('trades', 'BTC/USDT:USDT', 1),
      spec('aggTrades', 'BTC/USDT:USDT', 1),
      spec('quotes', 'BTC/USDT:USDT', 1),
      spec('ticker', 'BTC/USDT:USDT', 1),
      spec('book', 'BTC/USDT:USDT', 1),
      spec('funding', 'BTC/USDT:USDT', 1),
      spec('candles', 'ETH/USDT:USDT', 2, '1h'),
    ];
    expect(binanceUsdm.connectUrl('wss://x/', specs)).toBe(
      'wss://x/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@ticker/' +
        'btcusdt@depth@100ms/btcusdt@markPrice@1s/ethusdt@kline_1h',
    );
    expect(() => binanceUsdm.connectUrl('wss://x', [spec('candles', 'BTC/USDT:USDT', 1, '1s')])).toThrow(
      /binance-usdm: unsupported candle interval "1s"/,
    );
  });
});

describe('binance-usdm: off-book trades', () => {
  // The trade event as Binance's USD-M documentation shows it, with each `X` it names.
  const trade = (t: number, X: unknown) =>
    JSON.stringify({
      stream: 'btcusdt@trade',
      data: { e: 'trade', E: 1_700_000_000_100, T: 1_700_000_000_099, s: 'BTCUSDT', t, p: '50000.10', q: '0.002', X, m: true },
    });

  it.each(['fast', 'json'] as const)('%s parser: only MARKET trades are trades; insurance-fund, ADL and NA fills are counted and dropped', (parser) => {
    const h = harness(() => new Promise(() => {}));
    const s = usdm(h, parser);
    s.addStreams([spec('trades', 'BTC/USDT:USDT', 1)]);
    s.onMessage(trade(1, 'MARKET'));
    s.onMessage(trade(2, 'INSURANCE_FUND'));
    s.onMessage(trade(3, 'ADL'));
    s.onMessage(trade(4, 'NA'));
    s.onMessage(trade(5, 'MARKET'));
    s.onMessage(trade(3, 'MARKET')); // already seen (dropped off-book): a duplicate, not a trade
    expect(h.of('trade').map((r) => r.seq)).toEqual([1, 5]);
    expect(s.stats.offBookTrades).toBe(3);
    expect(s.stats.duplicates).toBe(1);
    expect(() => s.onMessage(trade(6, 7))).toThrow(/binance-usdm: .*X.* is not a string/);
  });
});

// ─── cryptofeed replay ─────────────────────────────────────────────────────────────────────

async function replayFutures(parser: 'fast' | 'json') {
  const wsLines = fixture('cryptofeed/BINANCE_FUTURES.ws.1.0').split('\n');
  const httpLines = fixture('cryptofeed/BINANCE_FUTURES.http.0.0').split('\n');
  const connectUrl = /^(\S+) <-> (\d+\.\d+)$/.exec(wsLines[0])![1];
  const frames: { ts: number; text: string }[] = [];
  for (const line of wsLines) {
    const m = /^(\d+\.\d+): (.*)$/.exec(line);
    if (m) frames.push({ ts: Number(m[1]), text: m[2] });
  }
  const snapshots = new Map<string, { ts: number; body: unknown }>();
  for (const line of httpLines) {
    const m = /^(\S+) -> (\d+\.\d+): (.*)$/.exec(line);
    if (m) snapshots.set(m[1], { ts: Number(m[2]), body: JSON.parse(m[3]) });
  }
  const pending: { ts: number; resolve: (v: unknown) => void; body: unknown }[] = [];
  const h = harness((url) => {
    const snap = snapshots.get(url);
    if (!snap) return Promise.reject(new Error(`no fixture for ${url}`));
    return new Promise((resolve) => pending.push({ ts: snap.ts, resolve, body: snap.body }));
  });
  const session = usdm(h, parser);
  const symbols = ['SUSHI/USDT:USDT', 'AKRO/USDT:USDT', 'KEEP/USDT:USDT', 'CTK/USDT:USDT'];
  const specs: StreamSpec[] = [];
  for (const ch of ['aggTrades', 'book', 'candles', 'quotes'] as const) {
    symbols.forEach((sym, i) => {
      specs.push(spec(ch, sym, i + 1, ch === 'candles' ? '1m' : undefined));
    });
  }
  session.addStreams(specs);
  const diffs = new Map<number, { U: number; u: number; pu: number }[]>();
  for (const f of frames) {
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i].ts <= f.ts) {
        pending[i].resolve(pending[i].body);
        pending.splice(i, 1);
      }
    }
    await flush();
    const d = JSON.parse(f.text).data;
    if (d.e === 'depthUpdate') {
      const sid = symbols.findIndex((s) => `${s.split('/')[0]}USDT` === d.s) + 1;
      if (!diffs.has(sid)) diffs.set(sid, []);
      diffs.get(sid)!.push({ U: d.U, u: d.u, pu: d.pu });
    }
    session.onMessage(f.text);
  }
  return { h, session, frames, connectUrl, specs, diffs, snapshots, pending };
}

describe('binance-usdm: replay of cryptofeed BINANCE_FUTURES.ws.1.0 + http.0.0', () => {
  it('syncs all 4 books with the futures rule (drops 3/1/3/5, no pu breaks); fast and JSON paths agree', async () => {
    const fast = await replayFutures('fast');
    const { h, session, frames, connectUrl, specs, diffs } = fast;
    expect(frames.length).toBe(1535);
    expect(binanceUsdm.connectUrl('wss://fstream.binance.com', specs)).toBe(connectUrl);
    expect(h.fetched[0]).toBe('https://fapi.binance.com/fapi/v1/depth?symbol=SUSHIUSDT&limit=1000');
    expect(fast.pending.length).toBe(0);
    const expectedDrops = [3, 1, 3, 5];
    for (let sid = 1; sid <= 4; sid++) {
      const books = h.of('book', sid);
      expect(books[0].snapshot).toBe(true);
      expect(books.filter((b) => b.snapshot).length).toBe(1);
      const deltas = books.filter((b) => !b.snapshot);
      expect(deltas.length).toBe(diffs.get(sid)!.length - expectedDrops[sid - 1]);
      const L = books[0].seq as number;
      // First applied: U <= L <= u; then every applied diff's pu is the previous u.
      expect(deltas[0].firstSeq as number).toBeLessThanOrEqual(L);
      expect(deltas[0].seq as number).toBeGreaterThanOrEqual(L);
      const byU = new Map(diffs.get(sid)!.map((d) => [d.u, d]));
      for (let i = 1; i < deltas.length; i++) expect(byU.get(deltas[i].seq as number)!.pu).toBe(deltas[i - 1].seq);
      expect(h.of('status', sid)).toEqual([{ type: 'status', symbolId: sid, code: StatusCode.synced, detail: L }]);
      const worker = session.book(sid)!;
      const consumer = rebuildBook(books);
      expect(worker.levels('bids')).toEqual(consumer.levels('bids'));
      expect(worker.levels('asks')).toEqual(consumer.levels('asks'));
      expect(worker.isCrossed()).toBe(false);
      expect(session.isSynced(sid)).toBe(true);
    }
    expect(session.stats.droppedBeforeSnapshot + session.stats.duplicates).toBe(12);
    expect(session.stats.resyncs).toBe(0);
    expect(session.stats.staleSnapshots).toBe(0);
    expect(h.resyncs).toEqual([]);
    expect(session.unknownStream).toBe(0);
    expect(h.of('trade').length).toBe(91);
    expect(h.of('quote').length).toBe(613);
    expect(h.of('quote').every((q) => Number.isFinite(q.ts as number))).toBe(true); // USD-M bookTicker has E
    expect(h.of('candle').length).toBe(67);
    expect(h.warns).toEqual([]);
    // All depth/bookTicker/aggTrade frames took the scanner path; klines took JSON.parse.
    expect(session.stats.fastPath).toBe(1535 - 67);

    const json = await replayFutures('json');
    expect(json.session.stats.fastPath).toBe(0);
    expect(json.h.recs).toEqual(h.recs);
  });
});

// ─── ccxt USD-M cases ──────────────────────────────────────────────────────────────────────

interface CcxtCase {
  description: string;
  input: unknown[];
  url: string;
  messages: unknown[];
  parsedResponses?: unknown[];
  parsedResponse?: unknown;
  httpResponse?: unknown;
}
const ccxt = JSON.parse(fixture('ccxt-ws/binance.json')) as { methods: Record<string, CcxtCase[]> };
const usdmCases: [string, string, CcxtCase][] = [];
for (const [method, cases] of Object.entries(ccxt.methods)) {
  for (const c of cases) if (new URL(c.url).hostname === 'fstream.binance.com') usdmCases.push([method, c.description, c]);
}
const nn = (v: unknown): number => (v === null || v === undefined ? Number.NaN : (v as number));

describe('binance-usdm: ccxt USD-M cases (ccxt-ws/binance.json)', () => {
  it('has the expected cases', () => {
    expect(usdmCases.map(([m, d]) => `${m}: ${d}`).sort()).toEqual([
      'watchOHLCV: linear swap ohlcv 1m',
      'watchOrderBook: linear swap orderbook depth 5',
      'watchOrderBook: linear swap orderbook with pu continuity chain',
      'watchTicker: linear swap ticker',
      'watchTrades: linear swap trades',
    ]);
  });

  // Recorded on the single-stream endpoints (no envelope): fed as recorded, and also wrapped in
  // the combined-stream envelope (which takes the scanner path) — both must give ccxt's values.
  for (const wrap of [false, true]) {
    it.each(usdmCases)(`%s: %s (${wrap ? 'combined envelope' : 'raw'})`, async (method, _d, c) => {
      const symbol = c.input[0] as string;
      let release: (() => void) | undefined;
      const h = harness(() => new Promise((resolve) => (release = () => resolve(c.httpResponse))));
      const session = usdm(h);
      const channel = (
        { watchTrades: 'trades', watchTicker: 'ticker', watchOHLCV: 'candles', watchOrderBook: 'book' } as Record<string, Channel>
      )[method];
      const s = spec(channel, symbol, 7, channel === 'candles' ? (c.input[1] as string) : undefined);
      session.subscribeMessages([s]);
      session.addStreams([s]);
      const name = binanceUsdm.connectUrl('', [s]).split('=')[1];
      for (const m of c.messages) {
        const isAck = (m as { id?: unknown }).id !== undefined;
        session.onMessage(wrap && !isAck ? JSON.stringify({ stream: name, data: m }) : JSON.stringify(m));
      }
      if (release) {
        release();
        await flush();
      }
      expect(session.unknownStream).toBe(0);
      expect(session.pendingRequests).toBe(0);
      switch (method) {
        case 'watchTrades': {
          const expected = c.parsedResponses!.flat() as { price: number; amount: number; side: string; timestamp: number; id: string }[];
          const got = h.of('trade');
          expect(got.length).toBe(expected.length);
          got.forEach((t, i) => {
            expect(t.price).toBe(expected[i].price);
            expect(t.amount).toBe(expected[i].amount);
            expect(t.side).toBe(expected[i].side === 'buy' ? 1 : 2);
            expect(t.ts).toBe(expected[i].timestamp);
            expect(String(t.seq)).toBe(expected[i].id);
          });
          if (wrap) expect(session.stats.fastPath).toBe(2);
          break;
        }
        case 'watchTicker': {
          // ccxt's default is `@miniTicker`; its payload is accepted by the ticker stream parser.
          const expected = c.parsedResponses as Record<string, number | null>[];
          const got = h.of('ticker');
          expect(got.length).toBe(expected.length);
          got.forEach((t, i) => {
            const e = expected[i];
            const f = t.fields as TickerFields;
            expect(t.ts).toBe(e.timestamp);
            expect([f.last, f.open, f.high, f.low, f.baseVolume, f.quoteVolume]).toEqual([
              e.last,
              e.open,
              e.high,
              e.low,
              e.baseVolume,
              e.quoteVolume,
            ]);
            expect(f.bidPrice).toBe(nn(e.bid));
            expect(f.markPrice).toBe(nn(e.markPrice));
          });
          break;
        }
        case 'watchOHLCV': {
          const expected = c.parsedResponses as number[][][];
          const got = h.of('candle');
          expect(got.length).toBe(expected.length);
          got.forEach((k, i) => {
            expect([k.openTs, k.open, k.high, k.low, k.close, k.volume]).toEqual(expected[i].at(-1));
            expect(k.intervalSec).toBe(60);
          });
          break;
        }
        case 'watchOrderBook': {
          const e = c.parsedResponse as { bids: number[][]; asks: number[][]; nonce: number; timestamp: number } | undefined;
          const expected = (e ?? (c.parsedResponses!.at(-1) as typeof e))!;
          const limit = (c.input[1] as number | undefined) ?? Number.POSITIVE_INFINITY;
          const books = h.of('book');
          const consumer = rebuildBook(books);
          // ccxt trims to the requested depth (5 in one case); compare that many levels.
          expect(consumer.levels('bids').slice(0, limit)).toEqual(expected.bids);
          expect(consumer.levels('asks').slice(0, limit)).toEqual(expected.asks);
          const last = books.at(-1)!;
          expect(last.seq).toBe(expected.nonce);
          // ccxt's timestamp is E for diffs (for a snapshot-only state it uses the snapshot's T).
          expect(last.ts).toBe(expected.timestamp);
          expect(h.of('status')).toEqual([
            { type: 'status', symbolId: 7, code: StatusCode.synced, detail: books[0].seq },
          ]);
          expect(h.resyncs).toEqual([]);
          break;
        }
        default:
          throw new Error(`unexpected ${method}`);
      }
    });
  }
});

// ─── pu continuity, funding ────────────────────────────────────────────────────────────────

const depth = (sym: string, U: number, u: number, pu: number, b: [string, string][], a: [string, string][] = []) =>
  JSON.stringify({
    stream: `${sym}@depth@100ms`,
    data: { e: 'depthUpdate', E: 1000 + u, T: 999 + u, s: sym.toUpperCase(), U, u, pu, b, a },
  });

describe('binance-usdm: pu continuity', () => {
  it('a pu break resyncs that symbol only; a missing pu is an error; the snapshot waits for a bridging diff', async () => {
    const bodies = new Map<string, unknown[]>();
    const answer = (sym: string, body: unknown) => {
      if (!bodies.has(sym)) bodies.set(sym, []);
      bodies.get(sym)!.push(body);
    };
    const waiting: { sym: string; resolve: (v: unknown) => void }[] = [];
    const h = harness((url) => {
      const sym = new URL(url).searchParams.get('symbol')!;
      return new Promise((resolve) => waiting.push({ sym, resolve }));
    });
    const release = async () => {
      for (const w of waiting.splice(0)) w.resolve(bodies.get(w.sym)!.shift());
      await flush();
    };
    const session = usdm(h, 'fast', { minResyncIntervalMs: 0 });
    session.addStreams([spec('book', 'BTC/USDT:USDT', 1), spec('book', 'ETH/USDT:USDT', 2)]);
    expect(h.fetched.map((u) => new URL(u).pathname)).toEqual(['/fapi/v1/depth', '/fapi/v1/depth']);
    // Snapshots arrive before any diff: held until a diff shows U <= L <= u.
    answer('BTCUSDT', { lastUpdateId: 100, E: 5, T: 4, bids: [['100', '1']], asks: [['101', '1']] });
    answer('ETHUSDT', { lastUpdateId: 200, E: 6, T: 5, bids: [['10', '1']], asks: [['11', '1']] });
    await release();
    expect(h.of('book')).toEqual([]);
    session.onMessage(depth('btcusdt', 90, 99, 80, [['100', '2']])); // covered (u < L): dropped
    session.onMessage(depth('btcusdt', 95, 105, 99, [['100', '3']])); // bridges
    session.onMessage(depth('ethusdt', 195, 205, 190, [['10', '3']]));
    session.onMessage(depth('btcusdt', 106, 110, 105, [['99', '1']]));
    session.onMessage(depth('btcusdt', 106, 110, 105, [['99', '1']])); // duplicate: silent
    session.onMessage(depth('ethusdt', 206, 210, 205, [['9', '1']]));
    expect(h.of('status').map((s) => [s.symbolId, s.code])).toEqual([
      [1, StatusCode.synced],
      [2, StatusCode.synced],
    ]);
    expect(h.of('book', 1).map((b) => [b.snapshot, b.firstSeq, b.seq])).toEqual([
      [true, Number.NaN, 100],
      [false, 95, 105],
      [false, 106, 110],
    ]);
    expect(session.stats.droppedBeforeSnapshot).toBe(1);
    expect(session.stats.duplicates).toBe(1);

    // BTC: pu 115 != prev u 110 → resync BTC only.
    session.onMessage(depth('btcusdt', 120, 125, 115, [['98', '1']]));
    expect(h.resyncs).toEqual([[1, ResyncReason.sequenceGap]]);
    expect(h.of('status', 1).at(-1)).toEqual({ type: 'status', symbolId: 1, code: StatusCode.resync, detail: ResyncReason.sequenceGap });
    expect(session.isSynced(1)).toBe(false);
    expect(session.isSynced(2)).toBe(true);
    session.onMessage(depth('ethusdt', 211, 215, 210, [['9', '2']])); // ETH carries on
    expect(h.of('book', 2).at(-1)).toMatchObject({ seq: 215, snapshot: false });
    session.onMessage(depth('btcusdt', 126, 130, 125, [['98', '2']]));
    answer('BTCUSDT', { lastUpdateId: 127, E: 7, T: 6, bids: [['100', '1']], asks: [['101', '1']] });
    await release();
    expect(session.isSynced(1)).toBe(true);
    expect(h.of('status', 1).at(-1)).toEqual({ type: 'status', symbolId: 1, code: StatusCode.synced, detail: 127 });
    expect(h.of('book', 1).slice(-2).map((b) => [b.snapshot, b.seq])).toEqual([
      [true, 127],
      [false, 130],
    ]);

    // A snapshot that no diff bridges is refetched (not a resync).
    session.onDisconnect();
    session.onMessage(depth('ethusdt', 300, 305, 299, [['9', '3']]));
    answer('ETHUSDT', { lastUpdateId: 290, bids: [['10', '1']], asks: [['11', '1']] });
    await release();
    expect(session.stats.staleSnapshots).toBe(1);
    expect(h.resyncs.length).toBe(1);
    answer('ETHUSDT', { lastUpdateId: 302, bids: [['10', '1']], asks: [['11', '1']] });
    await release();
    expect(session.isSynced(2)).toBe(true);

    expect(() => session.onMessage(JSON.stringify({ stream: 'ethusdt@depth@100ms', data: { e: 'depthUpdate', E: 1, U: 1, u: 2, b: [], a: [] } }))).toThrow(
      /binance-usdm: malformed frame for ethusdt@depth@100ms: field "pu" is not an integer/,
    );
  });

  it('markPrice → funding ticker record; 24h ticker without bid/ask', () => {
    const h = harness(() => new Promise(() => {}));
    const session = usdm(h);
    session.addStreams([spec('funding', 'BTC/USDT:USDT', 3), spec('ticker', 'BTC/USDT:USDT', 3)]);
    const mark = {
      e: 'markPriceUpdate',
      E: 1562305380000,
      s: 'BTCUSDT',
      p: '11794.15000000',
      ap: '11794.15000000',
      i: '11784.62659091',
      P: '11784.25641265',
      r: '0.00038167',
      T: 1562306400000,
    };
    session.onMessage(JSON.stringify({ stream: 'btcusdt@markPrice@1s', data: mark }));
    session.onMessage(JSON.stringify({ stream: 'btcusdt@markPrice@1s', data: mark })); // duplicate
    session.onMessage(JSON.stringify(mark)); // raw payload, same event: duplicate too
    session.onMessage(
      JSON.stringify({
        stream: 'btcusdt@ticker',
        data: { e: '24hrTicker', E: 1562305381000, s: 'BTCUSDT', c: '2', o: '1', h: '3', l: '0.5', v: '10', q: '20', L: 77 },
      }),
    );
    const [f, t] = h.of('ticker');
    expect(f).toMatchObject({ symbolId: 3, ts: 1562305380000 });
    expect(f.seq).toBeNaN();
    const ff = f.fields as TickerFields;
    expect([ff.markPrice, ff.indexPrice, ff.fundingRate, ff.nextFundingTs]).toEqual([11794.15, 11784.62659091, 0.00038167, 1562306400000]);
    expect(ff.last).toBeNaN();
    const tf = t.fields as TickerFields;
    expect([tf.last, tf.open, tf.high, tf.low, tf.baseVolume, tf.quoteVolume]).toEqual([2, 1, 3, 0.5, 10, 20]);
    expect([tf.bidPrice, tf.markPrice, tf.fundingRate]).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(t.seq).toBe(77);
    expect(session.stats.duplicates).toBe(2);
  });
});

// ─── end to end ────────────────────────────────────────────────────────────────────────────

describe('binance-usdm: engine against the futures simulator', () => {
  let sim: Simulator | undefined;
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.close();
    await sim?.close();
    engine = undefined;
    sim = undefined;
  });

  it('streams trades, quotes, books (pu sync), funding and candles; a hidden change resyncs that book', async () => {
    sim = await startSimulator({ futures: true, seed: 11, ratePerStream: 40 });
    const logs: Array<Record<string, unknown>> = [];
    engine = createEngine({
      threads: 1,
      logger: captureLogger(logs),
      venues: { 'binance-usdm': { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
      backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
    });
    const records: MarketRecord[] = [];
    engine.onRecord((r) => records.push(r));
    const symbols = ['BTC/USDT:USDT', 'ETH/USDT:USDT'];
    engine.subscribe({ exchange: 'binance-usdm', channels: ['trades', 'quotes', 'book', 'funding', 'candles'], symbols });
    const count = (type: string, symbol: string) => records.filter((r) => r.type === type && r.symbol === symbol).length;
    const synced = (symbol: string) =>
      records.filter((r) => r.type === 'status' && r.symbol === symbol && r.status === 'synced').length;
    await waitFor(
      () =>
        symbols.every(
          (s) => count('trade', s) >= 3 && count('quote', s) >= 3 && count('book', s) >= 5 && count('ticker', s) >= 1 && synced(s) >= 1,
        ),
      'records of every type and a synced book for both symbols',
    );
    const r0 = records.find((r) => r.type === 'trade')!;
    expect(r0).toMatchObject({ exchange: 'binance-usdm' });
    const funding = records.find((r) => r.type === 'ticker' && r.symbol === 'BTC/USDT:USDT');
    expect(funding).toBeDefined();
    expect(JSON.stringify(funding)).toContain('fundingRate');
    // Hide one ETH change: the next diff's pu points past the last u → ETH resyncs, BTC does not.
    sim.faults.gap('ETHUSDT');
    await waitFor(() => synced('ETH/USDT:USDT') >= 2, 'ETH to resync and sync again');
    const st = (s: string) => records.filter((r) => r.type === 'status' && r.symbol === s).map((r) => (r.type === 'status' ? r.status : ''));
    expect(st('ETH/USDT:USDT')).toContain('resync');
    expect(st('BTC/USDT:USDT')).not.toContain('resync');
    expect(engine.stats().integrityErrors).toBe(0);
  });
});
