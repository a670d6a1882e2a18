/**
 * Bybit v5 adapter: symbols, topics, subscribe batching, normalization against ccxt's recorded
 * v5 frames (`ccxt-ws/bybit.json`), book integrity rules and ticker merging.
 *
 * The cryptofeed Bybit capture (`cryptofeed/BYBIT.ws.26.0`) is not used: it records the legacy
 * inverse-perpetual v1 API (`wss://stream.bybit.com/realtime`, `orderBookL2_25` with per-level
 * ids and insert/update/delete lists, `trade.*`), which Bybit has retired and which shares neither
 * topic names nor message shapes nor sequence fields (`cross_seq` vs `u`/`seq`) with v5.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResyncReason, Side, StatusCode } from '../src/records/types.js';
import { bybitPublicUrl } from '../src/venues/bybit/adapter.js';

import { type BybitSession, type BybitSessionOptions, createBybitSession } from '../src/venues/bybit/session.js';
import { topicOf } from '../src/venues/bybit/topics.js';
import type { Channel, StreamSpec } from '../src/venues/contract.js';
import { getVenue, socketVenue } from '../src/venues/registry.js';
import { feedFrames, type Recorded, type RecordingContext, rebuildBook, recordingContext } from './kit/recording-context.js';

/** The adapters as registered (exchange code and endpoint variables are assigned there). */
const bybit = socketVenue('bybit');

// ─── recording context ─────────────────────────────────────────────────────────────────────

type Harness = RecordingContext & { session: BybitSession; feed(...frames: unknown[]): void };

/** A Bybit session on the kit's recording context (Bybit fetches nothing: a fetch would fail). */
function harness(options?: BybitSessionOptions): Harness {
  const rc = recordingContext({ restUrl: 'https://api.bybit.com', rest: () => Promise.reject(new Error('bybit needs no REST')) });
  const session = createBybitSession(rc.ctx, options);
  return Object.assign(rc, { session, feed: (...frames: unknown[]) => feedFrames(session, ...frames) });
}

function spec(channel: Channel, symbol: string, symbolId = 1, interval?: string): StreamSpec {
  return { channel, symbol, symbolId, native: bybit.nativeSymbol(symbol), interval };
}

/** The consumer's book rebuilt from the book records, as level lists, and the last book seq. */
function rebuild(recs: Recorded[]): { bids: [number, number][]; asks: [number, number][]; seq: number } {
  const book = rebuildBook(recs);
  const books = recs.filter((r) => r.type === 'book');
  return { bids: book.levels('bids'), asks: book.levels('asks'), seq: books.at(-1)?.seq ?? Number.NaN };
}

const book = (topic: string, type: 'snapshot' | 'delta', u: number, b: [string, string][], a: [string, string][], ts = 1000 + u) => ({
  topic,
  type,
  ts,
  data: { s: topic.split('.')[2], b, a, u, seq: 9_000_000 + u * 7 },
  cts: ts - 1,
});

afterEach(() => {
  vi.useRealTimers();
});

// ─── adapter ───────────────────────────────────────────────────────────────────────────────

describe('bybit adapter', () => {
  it('is registered with code 5, its endpoints and env names', () => {
    expect(getVenue('bybit')).toBe(bybit);
    expect(bybit.exchangeCode).toBe(5);
    expect(bybit.defaultWsUrl).toBe('wss://stream.bybit.com');
    expect(bybit.defaultRestUrl).toBe('https://api.bybit.com');
    expect(bybit.wsUrlEnv).toBe('RINGFEED_BYBIT_WS_URL');
    expect(bybit.restUrlEnv).toBe('RINGFEED_BYBIT_REST_URL');
    expect(bybit.appPing).toEqual({ intervalMs: 20_000, text: '{"op":"ping"}' });
  });

  it('maps spot and USDT-perpetual symbols and rejects others with the symbol named', () => {
    expect(bybit.nativeSymbol('BTC/USDT')).toBe('BTCUSDT');
    expect(bybit.nativeSymbol('BTC/USDT:USDT')).toBe('BTCUSDT');
    expect(() => bybit.nativeSymbol('BTC/USD:BTC')).toThrow(/BTC\/USD:BTC.*inverse/);
    expect(() => bybit.nativeSymbol('BTC/USDC:USDC')).toThrow(/BTC\/USDC:USDC/);
    expect(() => bybit.nativeSymbol('btcusdt')).toThrow(/btcusdt/);
  });

  it('keeps spot and linear on separate sockets and picks the path by category', () => {
    const s = spec('trades', 'BTC/USDT');
    const l = spec('trades', 'BTC/USDT:USDT', 2);
    expect(bybit.connectionKey!(s)).toBe('spot');
    expect(bybit.connectionKey!(l)).toBe('linear');
    expect(bybit.connectUrl('ws://127.0.0.1:9/', [s])).toBe('ws://127.0.0.1:9/v5/public/spot');
    expect(bybit.connectUrl('wss://stream.bybit.com', [l])).toBe('wss://stream.bybit.com/v5/public/linear');
    expect(bybitPublicUrl('wss://x', 'linear')).toBe('wss://x/v5/public/linear');
    expect(() => bybit.connectionKey!(spec('funding', 'BTC/USDT'))).toThrow(/funding.*BTC\/USDT/);
    expect(() => bybit.connectionKey!(spec('candles', 'BTC/USDT', 1, '7m'))).toThrow(/7m/);
  });

  it('names topics per channel, with intervals mapped to Bybit spellings', () => {
    expect(topicOf(spec('trades', 'ETH/USDT'))).toBe('publicTrade.ETHUSDT');
    expect(topicOf(spec('ticker', 'ETH/USDT'))).toBe('tickers.ETHUSDT');
    expect(topicOf(spec('funding', 'ETH/USDT:USDT'))).toBe('tickers.ETHUSDT');
    expect(topicOf(spec('quotes', 'ETH/USDT'))).toBe('orderbook.1.ETHUSDT');
    expect(topicOf(spec('book', 'ETH/USDT'))).toBe('orderbook.50.ETHUSDT');
    expect(topicOf(spec('book', 'ETH/USDT'), 200)).toBe('orderbook.200.ETHUSDT');
    const k = (i: string) => topicOf(spec('candles', 'ETH/USDT', 1, i));
    expect([k('1m'), k('5m'), k('1h'), k('4h'), k('12h'), k('1d'), k('1w'), k('1M')]).toEqual([
      'kline.1.ETHUSDT',
      'kline.5.ETHUSDT',
      'kline.60.ETHUSDT',
      'kline.240.ETHUSDT',
      'kline.720.ETHUSDT',
      'kline.D.ETHUSDT',
      'kline.W.ETHUSDT',
      'kline.M.ETHUSDT',
    ]);
  });

  it('batches subscribe args by 10 and shares the tickers topic between ticker and funding', () => {
    const h = harness();
    const syms = ['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((b, i) => spec('trades', `${b}X/USDT`, i + 1));
    const streams = [...syms, ...syms.map((s) => ({ ...s, channel: 'quotes' as Channel }))];
    const frames = h.session.openMessages(streams).map((t) => JSON.parse(t));
    expect(frames.map((f) => f.args.length)).toEqual([10, 4]);
    expect(frames[0]).toMatchObject({ op: 'subscribe', req_id: '1' });
    expect(frames[1].req_id).toBe('2');

    const ticker = spec('ticker', 'BTC/USDT:USDT', 9);
    const funding = spec('funding', 'BTC/USDT:USDT', 9);
    h.session.addStreams([ticker]);
    expect(h.session.subscribeMessages([ticker]).map((t) => JSON.parse(t).args)).toEqual([['tickers.BTCUSDT']]);
    h.session.addStreams([funding]);
    expect(h.session.subscribeMessages([funding])).toEqual([]); // the topic is already subscribed
    h.session.removeStreams([ticker]);
    expect(h.session.unsubscribeMessages([ticker])).toEqual([]); // funding still needs it
    h.session.removeStreams([funding]);
    expect(h.session.unsubscribeMessages([funding]).map((t) => JSON.parse(t))).toEqual([
      { op: 'unsubscribe', req_id: expect.any(String), args: ['tickers.BTCUSDT'] },
    ]);
  });

  it('handles acks, rejected requests and pongs; throws a clear error for a malformed frame', () => {
    const h = harness();
    h.session.addStreams([spec('trades', 'BTC/USDT')]);
    h.session.openMessages([spec('trades', 'BTC/USDT')]);
    expect(h.session.pendingRequests).toBe(1);
    h.feed({ success: true, ret_msg: 'subscribe', conn_id: 'c1', req_id: '1', op: 'subscribe' });
    expect(h.session.pendingRequests).toBe(0);
    h.feed({ success: false, ret_msg: 'error:handler not found', conn_id: 'c1', req_id: '7', op: 'subscribe' });
    h.feed({ success: true, ret_msg: 'pong', conn_id: 'c1', req_id: '', op: 'ping' });
    h.feed({ op: 'pong', args: ['1675418560633'], conn_id: 'c1' });
    expect(h.session.stats).toMatchObject({ acks: 1, errorAcks: 1, pongs: 2 });
    expect(h.warns).toEqual(['bybit: request rejected']);
    expect(() => h.feed('{"topic":"publicTrade.BTCUSDT","data":[{"T":1,"p":"x"')).toThrow(/bybit: bad JSON/);
    expect(() =>
      h.feed({ topic: 'publicTrade.BTCUSDT', ts: 1, type: 'snapshot', data: [{ T: 1, s: 'BTCUSDT', S: 'Up', v: '1', p: '2', i: 'a' }] }),
    ).toThrow(/bybit: malformed publicTrade\.BTCUSDT frame: field "S"/);
    expect(() => h.feed([1, 2])).toThrow(/bybit: unexpected frame/);
    expect(() => h.feed({ hello: 1 })).toThrow(/bybit: unexpected frame/);
    h.feed({ topic: 'publicTrade.ETHUSDT', ts: 1, type: 'snapshot', data: [] });
    expect(h.session.stats.unknownStream).toBe(1);
  });

  it('trades: block trades (BT) are off the book, dropped and counted; a seq that is not a finite number is refused', () => {
    const h = harness();
    h.session.addStreams([spec('trades', 'BTC/USDT')]);
    const trade = (i: string, seq: number, BT: boolean) => ({ T: 1_786_538_700_833, s: 'BTCUSDT', S: 'Sell', v: '0.5', p: '64104.5', i, seq, BT, RPI: false });
    h.feed({ topic: 'publicTrade.BTCUSDT', ts: 1, type: 'snapshot', data: [trade('a', 10, false), trade('b', 11, true), trade('c', 12, false)] });
    expect(h.of('trade').map((t) => t.tradeId)).toEqual(['a', 'c']);
    expect(h.session.stats.offBookTrades).toBe(1);
    const text = JSON.stringify({ topic: 'publicTrade.BTCUSDT', ts: 2, type: 'snapshot', data: [trade('d', 13, false)] }).replace('"seq":13', '"seq":1e999');
    expect(() => h.feed(text)).toThrow(/bybit: malformed publicTrade\.BTCUSDT frame: field "seq" is not a finite number/);
    expect(h.of('trade')).toHaveLength(2);
  });
});

// ─── ccxt recorded v5 frames ───────────────────────────────────────────────────────────────

interface CcxtCase {
  description: string;
  input: unknown[];
  url: string;
  messages: unknown[];
  sentMessages: Array<{ op: string; args: string[] }>;
  parsedResponses: unknown[];
}

const ccxt = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../shared/fixtures/ccxt-ws/bybit.json', import.meta.url)), 'utf8'),
) as { methods: Record<string, CcxtCase[]> };

const CHANNEL_OF_METHOD: Record<string, Channel> = {
  watchBidsAsks: 'quotes',
  watchTicker: 'ticker',
  watchOHLCV: 'candles',
  watchTrades: 'trades',
  watchOrderBook: 'book',
};

function caseStream(method: string, c: CcxtCase): StreamSpec {
  const first = c.input[0];
  const symbol = Array.isArray(first) ? (first[0] as string) : (first as string);
  const interval = method === 'watchOHLCV' ? (c.input[1] as string) : undefined;
  return spec(CHANNEL_OF_METHOD[method]!, symbol, 1, interval);
}

/** The session for one case: the book depth follows the case's subscription (`orderbook.1` …). */
function caseHarness(c: CcxtCase): Harness {
  const m = /^orderbook\.(\d+)\./.exec(c.sentMessages[0]!.args[0]!);
  return harness(m && c.input.length > 1 ? { bookDepth: Number(m[1]) } : undefined);
}

const cases: Array<[string, string, CcxtCase]> = [];
for (const [method, list] of Object.entries(ccxt.methods)) for (const c of list) cases.push([method, c.description, c]);

describe('bybit: ccxt v5 cases (ccxt-ws/bybit.json)', () => {
  it('covers every recorded case (spot and linear)', () => {
    expect(cases.map(([m, d]) => `${m}: ${d}`).sort()).toEqual([
      'watchBidsAsks: spot bids asks',
      'watchOHLCV: linear swap ohlcv 1m',
      'watchOHLCV: spot ohlcv 1m',
      'watchOrderBook: linear swap orderbook',
      'watchOrderBook: spot orderbook depth 1',
      'watchTicker: linear swap ticker',
      'watchTicker: spot ticker',
      'watchTrades: linear swap trades',
      'watchTrades: spot trades',
    ]);
  });

  it.each(cases)('%s: %s', (method, _d, c) => {
    const h = caseHarness(c);
    const stream = caseStream(method, c);
    expect(bybit.connectUrl('wss://stream.bybit.com', [stream])).toBe(c.url);
    h.session.addStreams([stream]);
    const sent = h.session.openMessages([stream]).map((t) => JSON.parse(t));
    expect(sent.map((f) => ({ op: f.op, args: f.args }))).toEqual(c.sentMessages.map((f) => ({ op: f.op, args: f.args })));

    const responses = c.parsedResponses;
    switch (method) {
      case 'watchBidsAsks': {
        h.feed(...c.messages);
        const quotes = h.of('quote');
        expect(quotes.length).toBeGreaterThanOrEqual(responses.length);
        responses.forEach((resp, i) => {
          const t = Object.values(resp as Record<string, Record<string, number>>)[0]!;
          expect(quotes[i]).toMatchObject({ ts: t.timestamp, bidPrice: t.bid, bidAmount: t.bidVolume, askPrice: t.ask, askAmount: t.askVolume });
        });
        break;
      }
      case 'watchTicker': {
        h.feed(...c.messages);
        const tickers = h.of('ticker');
        expect(tickers).toHaveLength(responses.length);
        responses.forEach((resp, i) => {
          const t = resp as Record<string, number | null>;
          const n = (v: number | null) => (v === null ? Number.NaN : v);
          expect(tickers[i]!.ts).toBe(t.timestamp);
          expect(tickers[i]!.fields).toMatchObject({
            last: n(t.last),
            open: n(t.open),
            high: n(t.high),
            low: n(t.low),
            baseVolume: n(t.baseVolume),
            bidPrice: n(t.bid),
            askPrice: n(t.ask),
            markPrice: n(t.markPrice),
            indexPrice: n(t.indexPrice),
          });
          // ccxt re-parses the quote volume through a float sum; compare to 1e-9 relative.
          expect(tickers[i]!.fields.quoteVolume / n(t.quoteVolume)).toBeCloseTo(1, 9);
        });
        if (stream.symbol.includes(':')) {
          // Linear tickers carry funding data, kept across the delta.
          const raw = (c.messages[0] as { data: Record<string, string> }).data;
          for (const tk of tickers) {
            expect(tk.fields.fundingRate).toBe(Number(raw.fundingRate));
            expect(tk.fields.nextFundingTs).toBe(Number(raw.nextFundingTime));
          }
        }
        break;
      }
      case 'watchOHLCV': {
        h.feed(...c.messages);
        const candles = h.of('candle');
        expect(candles.map((k) => [k.openTs, k.open, k.high, k.low, k.close, k.volume])).toEqual(responses.map((r) => (r as unknown[])[0]));
        expect(candles.every((k) => k.intervalSec === 60 && !k.closed)).toBe(true);
        break;
      }
      case 'watchTrades': {
        h.feed(...c.messages);
        const trades = h.of('trade');
        const expected = (responses as Array<Array<Record<string, unknown>>>).flat();
        expect(trades).toHaveLength(expected.length);
        expected.forEach((t, i) => {
          expect(trades[i]).toMatchObject({
            ts: t.timestamp,
            price: t.price,
            amount: t.amount,
            side: t.side === 'buy' ? Side.buy : Side.sell,
          });
        });
        break;
      }
      case 'watchOrderBook': {
        // Compare our book after each data frame with ccxt's book after it.
        const data = c.messages.filter((m) => (m as { topic?: string }).topic !== undefined);
        expect(data).toHaveLength(responses.length);
        data.forEach((m, i) => {
          h.feed(m);
          const ours = rebuild(h.recs);
          const want = responses[i] as { bids: [number, number][]; asks: [number, number][]; timestamp: number };
          expect(ours.bids).toEqual(want.bids);
          expect(ours.asks).toEqual(want.asks);
          expect(h.of('book').at(-1)!.ts).toBe(want.timestamp);
        });
        expect(h.of('status')).toEqual([{ type: 'status', symbolId: 1, code: StatusCode.synced, detail: h.of('book')[0]!.seq }]);
        break;
      }
      default:
        throw new Error(`no comparison for ${method}`);
    }
  });
});

// ─── book integrity ────────────────────────────────────────────────────────────────────────

describe('bybit: order book rules', () => {
  const T = 'orderbook.50.BTCUSDT';
  const snap = (u: number) =>
    book(
      T,
      'snapshot',
      u,
      [
        ['100', '1'],
        ['99', '2'],
      ],
      [
        ['101', '1'],
        ['102', '3'],
      ],
    );

  function synced(options?: BybitSessionOptions): Harness {
    const h = harness({ minResyncIntervalMs: 1000, ...options });
    h.session.addStreams([spec('book', 'BTC/USDT', 7)]);
    h.feed(snap(10));
    return h;
  }

  it('applies a snapshot then contiguous deltas; drops duplicates silently', () => {
    const h = synced();
    h.feed(book(T, 'delta', 11, [['100', '0']], [['101.5', '4']]));
    h.feed(book(T, 'delta', 11, [['100', '0']], [['101.5', '4']])); // same frame again (second socket)
    h.feed(book(T, 'delta', 12, [['99.5', '5']], []));
    expect(h.of('book').map((b) => [b.snapshot, b.firstSeq, b.seq])).toEqual([
      [true, Number.NaN, 10],
      [false, 11, 11],
      [false, 12, 12],
    ]);
    expect(rebuild(h.recs)).toEqual({
      bids: [
        [99.5, 5],
        [99, 2],
      ],
      asks: [
        [101, 1],
        [101.5, 4],
        [102, 3],
      ],
      seq: 12,
    });
    expect(h.session.stats.duplicates).toBe(1);
    expect(h.of('status').map((s) => s.code)).toEqual([StatusCode.synced]);
    expect(h.session.isSynced(7)).toBe(true);
    expect(h.session.book(7)!.bestBid()).toBe(99.5);
  });

  it('drops an older snapshot while in sync, but u == 1 (service restart) always replaces the book', () => {
    const h = synced();
    h.feed(book(T, 'delta', 11, [], [['103', '1']]));
    h.feed(snap(9)); // an earlier snapshot (e.g. a successor socket's) — already passed
    expect(h.of('book')).toHaveLength(2);
    h.feed(book(T, 'delta', 1, [['50', '1']], [['60', '1']])); // u == 1: a snapshot whatever the type
    const last = h.of('book').at(-1)!;
    expect(last).toMatchObject({ snapshot: true, seq: 1 });
    expect(rebuild(h.recs)).toMatchObject({ bids: [[50, 1]], asks: [[60, 1]] });
    h.feed(book(T, 'delta', 2, [['51', '1']], []));
    expect(h.of('book').at(-1)).toMatchObject({ snapshot: false, seq: 2 });
    expect(h.of('status').map((s) => s.code)).toEqual([StatusCode.synced]); // never out of sync
  });

  it('a gap resyncs that symbol only: status, onResync, resubscribe, deltas dropped until the snapshot', () => {
    const h = harness({ minResyncIntervalMs: 1000 });
    h.session.addStreams([spec('book', 'BTC/USDT', 7), spec('book', 'ETH/USDT', 8)]);
    h.feed(snap(10), book('orderbook.50.ETHUSDT', 'snapshot', 500, [['10', '1']], [['11', '1']]));
    h.feed(book(T, 'delta', 12, [['99.5', '1']], [])); // 11 is missing
    expect(h.of('status').slice(-1)).toEqual([{ type: 'status', symbolId: 7, code: StatusCode.resync, detail: ResyncReason.sequenceGap }]);
    expect(h.resyncs).toEqual([[7, ResyncReason.sequenceGap]]);
    expect(h.sent.map((t) => JSON.parse(t)).map((f) => [f.op, f.args])).toEqual([
      ['unsubscribe', [T]],
      ['subscribe', [T]],
    ]);
    expect(h.session.isSynced(7)).toBe(false);
    expect(h.session.isSynced(8)).toBe(true);
    h.feed(book(T, 'delta', 13, [['98', '1']], [])); // old subscription still flowing
    expect(h.session.stats.deltasWhileUnsynced).toBe(1);
    h.feed(book('orderbook.50.ETHUSDT', 'delta', 501, [['10', '2']], [])); // ETH unaffected
    h.feed(snap(20), book(T, 'delta', 21, [['99', '0']], []));
    const btc = h.recs.filter((r) => r.symbolId === 7);
    expect(btc.map((r) => (r.type === 'status' ? `status:${r.code}` : r.type === 'book' ? `${r.snapshot ? 'S' : 'D'}${r.seq}` : r.type))).toEqual([
      'S10',
      `status:${StatusCode.synced}`,
      `status:${StatusCode.resync}`,
      'S20',
      `status:${StatusCode.synced}`,
      'D21',
    ]);
    expect(h.of('book').filter((b) => b.symbolId === 8).map((b) => b.seq)).toEqual([500, 501]);
  });

  it('rate-limits resubscribes per topic', () => {
    vi.useFakeTimers();
    let now = 0;
    const h = synced({ now: () => now });
    h.feed(book(T, 'delta', 12, [], [])); // gap → resubscribe now
    expect(h.sent).toHaveLength(2);
    now = 100;
    h.feed(snap(30), book(T, 'delta', 35, [], [])); // another gap 100 ms later
    expect(h.sent).toHaveLength(2); // held back
    now = 1000;
    vi.advanceTimersByTime(900);
    expect(h.sent).toHaveLength(4);
    expect(h.session.stats).toMatchObject({ resyncs: 2, resubscribes: 2 });
  });

  it('retries a resubscribe the venue rejected', () => {
    vi.useFakeTimers();
    let now = 0;
    const h = synced({ now: () => now });
    h.feed(book(T, 'delta', 12, [], [])); // gap → unsubscribe (req 1) + subscribe (req 2)
    const sub = JSON.parse(h.sent[1]!);
    h.feed({ success: false, ret_msg: 'error:already subscribed', conn_id: 'c', req_id: sub.req_id, op: 'subscribe' });
    now = 1000;
    vi.advanceTimersByTime(1000);
    expect(h.sent.map((t) => JSON.parse(t).op)).toEqual(['unsubscribe', 'subscribe', 'unsubscribe', 'subscribe']);
    h.feed(snap(40));
    expect(h.session.isSynced(7)).toBe(true);
  });

  it('a crossed book after a delta is a desync (crossedBook); the delta is not emitted', () => {
    const h = synced();
    h.feed(book(T, 'delta', 11, [['101', '1']], []));
    expect(h.of('book')).toHaveLength(1);
    expect(h.resyncs).toEqual([[7, ResyncReason.crossedBook]]);
    expect(h.of('status').at(-1)).toMatchObject({ code: StatusCode.resync, detail: ResyncReason.crossedBook });
  });

  it('a disconnect clears books; the next snapshot resyncs and says so', () => {
    const h = synced();
    h.session.onDisconnect();
    expect(h.session.isSynced(7)).toBe(false);
    expect(h.session.book(7)!.bidDepth).toBe(0);
    h.feed(book(T, 'delta', 11, [], [])); // no snapshot yet on the new socket
    expect(h.session.stats.deltasWhileUnsynced).toBe(1);
    h.feed(snap(3)); // a lower u is fine after a disconnect
    expect(h.of('status').map((s) => [s.code, s.detail])).toEqual([
      [StatusCode.synced, 10],
      [StatusCode.synced, 3],
    ]);
  });

  it('quotes come from the level-1 topic (snapshots or deltas), deduplicated by u', () => {
    const h = harness();
    h.session.addStreams([spec('quotes', 'BTC/USDT:USDT', 3)]);
    const Q = 'orderbook.1.BTCUSDT';
    h.feed(book(Q, 'snapshot', 5, [['100', '1']], [['101', '2']]));
    h.feed(book(Q, 'snapshot', 5, [['100', '1']], [['101', '2']])); // 3-second re-push, same u
    h.feed(book(Q, 'delta', 6, [['100', '0'], ['100.5', '3']], []));
    h.feed(book(Q, 'snapshot', 7, [], [['101', '2']])); // empty bid side
    expect(h.of('quote').map((q) => [q.seq, q.bidPrice, q.bidAmount, q.askPrice, q.askAmount])).toEqual([
      [5, 100, 1, 101, 2],
      [6, 100.5, 3, 101, 2],
      [7, Number.NaN, Number.NaN, 101, 2],
    ]);
    // A quotes-only topic resyncs silently: no book status for a symbol without a book stream.
    h.feed(book(Q, 'delta', 9, [], []));
    expect(h.of('status')).toEqual([]);
    expect(h.resyncs).toEqual([]);
    expect(h.session.stats.resyncs).toBe(1);
    expect(h.sent).toHaveLength(2);
  });
});

// ─── tickers, trades, candles ──────────────────────────────────────────────────────────────

describe('bybit: tickers, trades and candles', () => {
  const linearSnapshot = {
    topic: 'tickers.BTCUSDT',
    type: 'snapshot',
    cs: 100,
    ts: 1000,
    data: {
      symbol: 'BTCUSDT',
      lastPrice: '100.5',
      prevPrice24h: '99',
      highPrice24h: '101',
      lowPrice24h: '98',
      volume24h: '10',
      turnover24h: '1000',
      bid1Price: '100.4',
      ask1Price: '100.6',
      markPrice: '100.45',
      indexPrice: '100.44',
      fundingRate: '0.0001',
      nextFundingTime: '1786550400000',
    },
  };

  it('merges linear ticker deltas into the last full ticker; drops deltas before a snapshot and stale frames', () => {
    const h = harness();
    h.session.addStreams([spec('ticker', 'BTC/USDT:USDT')]);
    h.feed({ topic: 'tickers.BTCUSDT', type: 'delta', cs: 99, ts: 990, data: { symbol: 'BTCUSDT', lastPrice: '1' } });
    expect(h.session.stats.tickerDeltasWithoutSnapshot).toBe(1);
    h.feed(linearSnapshot);
    h.feed({ topic: 'tickers.BTCUSDT', type: 'delta', cs: 101, ts: 1100, data: { symbol: 'BTCUSDT', lastPrice: '100.7', fundingRate: '0.0002' } });
    h.feed({ topic: 'tickers.BTCUSDT', type: 'delta', cs: 101, ts: 1100, data: { symbol: 'BTCUSDT', lastPrice: '100.7' } }); // duplicate
    h.feed(linearSnapshot); // an older snapshot (e.g. from a successor socket) does not roll back
    const t = h.of('ticker');
    expect(t).toHaveLength(2);
    expect(t[1]).toMatchObject({ ts: 1100, seq: 101 });
    expect(t[1]!.fields).toEqual({
      last: 100.7,
      open: 99,
      high: 101,
      low: 98,
      baseVolume: 10,
      quoteVolume: 1000,
      bidPrice: 100.4,
      askPrice: 100.6,
      markPrice: 100.45,
      indexPrice: 100.44,
      fundingRate: 0.0002,
      nextFundingTs: 1786550400000,
    });
    expect(h.session.stats.duplicates).toBe(2);
  });

  it('a funding-only stream emits on snapshots and on deltas that touch funding fields', () => {
    const h = harness();
    h.session.addStreams([spec('funding', 'BTC/USDT:USDT')]);
    h.feed(linearSnapshot);
    h.feed({ topic: 'tickers.BTCUSDT', type: 'delta', cs: 101, ts: 1100, data: { symbol: 'BTCUSDT', lastPrice: '100.7' } });
    h.feed({ topic: 'tickers.BTCUSDT', type: 'delta', cs: 102, ts: 1200, data: { symbol: 'BTCUSDT', markPrice: '100.8' } });
    const t = h.of('ticker');
    expect(t.map((x) => x.ts)).toEqual([1000, 1200]);
    expect(t[1]!.fields).toMatchObject({ last: 100.7, markPrice: 100.8, fundingRate: 0.0001 });
  });

  it('dedupes trades by sequence and id (one match shares a seq; linear ids are UUIDs)', () => {
    const h = harness();
    h.session.addStreams([spec('trades', 'BTC/USDT')]);
    const tr = (i: string, seq: number, S = 'Buy') => ({ T: 5, s: 'BTCUSDT', S, v: '1', p: '2', i, seq, BT: false });
    const frame = (data: unknown[]) => ({ topic: 'publicTrade.BTCUSDT', type: 'snapshot', ts: 6, data });
    h.feed(frame([tr('a', 10), tr('b', 10, 'Sell')]));
    h.feed(frame([tr('a', 10), tr('b', 10, 'Sell'), tr('c', 10)])); // overlap from a second socket
    h.feed(frame([tr('z', 9)])); // older
    h.feed(frame([tr('d', 11)]));
    // The records carry the venue's ids ('a' is not an integer: text, seq NaN).
    expect(h.of('trade').map((t) => [t.tradeId, t.seq, t.side])).toEqual([
      ['a', Number.NaN, Side.buy],
      ['b', Number.NaN, Side.sell],
      ['c', Number.NaN, Side.buy],
      ['d', Number.NaN, Side.buy],
    ]);
    expect(h.session.stats.duplicates).toBe(3);
  });

  it('emits closed candles and drops repeated kline frames', () => {
    const h = harness();
    h.session.addStreams([spec('candles', 'BTC/USDT', 1, '1h')]);
    const k = (ts: number, start: number, confirm: boolean) => ({
      topic: 'kline.60.BTCUSDT',
      type: 'snapshot',
      ts,
      data: [{ start, end: start + 3_599_999, interval: '60', open: '1', close: '2', high: '3', low: '0.5', volume: '9', turnover: '18', confirm, timestamp: ts }],
    });
    h.feed(k(1000, 0, false), k(1000, 0, false), k(3_600_000, 0, true), k(3_600_001, 3_600_000, false));
    expect(h.of('candle').map((c) => [c.openTs, c.closed, c.intervalSec])).toEqual([
      [0, false, 3600],
      [0, true, 3600],
      [3_600_000, false, 3600],
    ]);
  });
});
