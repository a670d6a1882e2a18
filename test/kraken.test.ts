/**
 * Kraken WebSocket v2: adapter, checksum and session normalization, checked against ccxt's
 * recorded v2 frames (`ccxt-ws/kraken.json`).
 *
 * The cryptofeed Kraken captures (`KRAKEN.ws.49.0` / `.50.0`) are WS v1: positional array frames,
 * `XBT` pair names, string prices, checksums on updates only and `book-1000` republish semantics.
 * This adapter speaks v2 only, so they would need a second parser just for the tests; not used.
 */

import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ResyncReason, Side, StatusCode } from '../src/records/types.js';
import type { Channel, StreamSpec } from '../src/venues/contract.js';
import { crc32Ascii, krakenBookChecksum } from '../src/venues/kraken/checksum.js';
import { parseRfc3339 } from '../src/venues/kraken/protocol.js';
import { createKrakenSession, type KrakenSession, type KrakenSessionOptions } from '../src/venues/kraken/session.js';
import { getVenue, socketVenue, venues } from '../src/venues/registry.js';
import { feedFrames, type RecordedOf, type RecordingContext, recordingContext } from './kit/recording-context.js';

/** The adapter as registered (exchange code and endpoint variables are assigned there). */
const kraken = socketVenue('kraken');

type Obj = Record<string, unknown>;
interface Case {
  description: string;
  input: unknown[];
  messages: Obj[];
  parsedResponses?: unknown[];
  parsedResponse?: unknown;
}
const fixture = JSON.parse(
  readFileSync(new URL('../../shared/fixtures/ccxt-ws/kraken.json', import.meta.url), 'utf8'),
) as { methods: Record<string, Case[]> };

// ─── recording context ─────────────────────────────────────────────────────────────────────

type Harness = RecordingContext & { session: KrakenSession; feed(...frames: unknown[]): void };

/** A Kraken session on `streams` over the kit's recording context (no REST; Kraken writes no quotes). */
function harness(streams: StreamSpec[], options?: KrakenSessionOptions): Harness {
  const rc = recordingContext({
    restUrl: 'https://api.kraken.com',
    rest: () => Promise.reject(new Error('no REST for kraken')),
    refuse: ['quote'],
  });
  const session = createKrakenSession(rc.ctx, { minResyncIntervalMs: 0, ...options });
  session.addStreams(streams);
  return Object.assign(rc, { session, feed: (...frames: unknown[]) => feedFrames(session, ...frames) });
}

/** A candle record's open time and OHLCV, as ccxt lists a candle. */
const ohlcv = (k: RecordedOf<'candle'>): number[] => [k.openTs, k.open, k.high, k.low, k.close, k.volume];

function spec(channel: Channel, symbol: string, symbolId: number, interval?: string): StreamSpec {
  return { channel, symbol, symbolId, native: kraken.nativeSymbol(symbol), interval };
}

/** Precisions as Kraken's `instrument` channel reports them (the fixtures carry no instrument frame). */
const INSTRUMENT = {
  channel: 'instrument',
  type: 'snapshot',
  data: {
    assets: [],
    pairs: [
      { symbol: 'BTC/USD', base: 'BTC', quote: 'USD', price_precision: 1, qty_precision: 8 },
      { symbol: 'DOGE/USDT', base: 'DOGE', quote: 'USDT', price_precision: 5, qty_precision: 8 },
    ],
  },
};

/** Reference checksum straight from the documented text rule (toFixed, strip '.', strip leading zeros). */
function referenceChecksum(asks: [number, number][], bids: [number, number][], pp: number, qp: number): number {
  const f = (v: number, p: number) => v.toFixed(p).replace('.', '').replace(/^0+/, '');
  const text = [...asks.slice(0, 10), ...bids.slice(0, 10)].map(([p, q]) => f(p, pp) + f(q, qp)).join('');
  return crc32(text) >>> 0;
}

// ─── adapter ───────────────────────────────────────────────────────────────────────────────

describe('kraken adapter', () => {
  it('is registered with code 4, v2 endpoints, env overrides and an app-level ping', () => {
    expect(getVenue('kraken')).toBe(kraken);
    expect(kraken).toMatchObject({
      exchangeCode: 4,
      defaultWsUrl: 'wss://ws.kraken.com/v2',
      defaultRestUrl: 'https://api.kraken.com',
      wsUrlEnv: 'RINGFEED_KRAKEN_WS_URL',
      restUrlEnv: 'RINGFEED_KRAKEN_REST_URL',
    });
    expect(kraken.appPing).toMatchObject({ text: '{"method":"ping"}' });
    expect(kraken.appPing!.intervalMs).toBeLessThanOrEqual(30_000);
    expect(kraken.connectUrl('ws://127.0.0.1:9/v2', [])).toBe('ws://127.0.0.1:9/v2');
  });

  it('keeps v2 pair names and refuses derivatives naming the symbol', () => {
    expect(kraken.nativeSymbol('BTC/USD')).toBe('BTC/USD');
    expect(kraken.nativeSymbol('DOGE/USDT')).toBe('DOGE/USDT');
    expect(() => kraken.nativeSymbol('BTC/USD:USD')).toThrow(/kraken.*BTC\/USD:USD/);
    expect(() => kraken.nativeSymbol('btcusd')).toThrow(/btcusd/);
  });

  it('subscribes instrument first, then one request per channel group', () => {
    const h = harness([]);
    const streams = [
      spec('trades', 'BTC/USD', 1),
      spec('trades', 'ETH/USD', 2),
      spec('book', 'BTC/USD', 1),
      spec('candles', 'BTC/USD', 1, '5m'),
      spec('ticker', 'ETH/USD', 2),
    ];
    const msgs = h.session.openMessages(streams).map((t) => JSON.parse(t));
    expect(msgs[0]).toMatchObject({ method: 'subscribe', params: { channel: 'instrument', snapshot: true } });
    expect(msgs.slice(1).map((m) => m.params)).toEqual([
      { channel: 'trade', snapshot: false, symbol: ['BTC/USD', 'ETH/USD'] },
      { channel: 'book', depth: 25, symbol: ['BTC/USD'] },
      { channel: 'ohlc', interval: 5, symbol: ['BTC/USD'] },
      { channel: 'ticker', symbol: ['ETH/USD'] },
    ]);
    expect(new Set(msgs.map((m) => m.req_id)).size).toBe(msgs.length);
    const unsub = JSON.parse(h.session.unsubscribeMessages([spec('book', 'BTC/USD', 1)])[0]!);
    expect(unsub).toMatchObject({ method: 'unsubscribe', params: { channel: 'book', depth: 25, symbol: ['BTC/USD'] } });
    expect(() => h.session.subscribeMessages([spec('candles', 'BTC/USD', 1, '2h')])).toThrow(/kraken.*2h.*BTC\/USD/);
    expect(() => h.session.subscribeMessages([spec('quotes', 'BTC/USD', 1)])).toThrow(/kraken.*quotes/);
    expect(() => createKrakenSession(h.session as never, { bookDepth: 20 })).toThrow(/depth 20/);
  });
});

// ─── checksum and time ───────────────────────────────────────────────────────────────────

describe('kraken checksum', () => {
  it('matches the documented text rule and zlib.crc32 on random books', () => {
    expect(crc32Ascii('452852100000')).toBe(crc32('452852100000') >>> 0);
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let round = 0; round < 200; round++) {
      const pp = Math.floor(rnd() * 7);
      const qp = Math.floor(rnd() * 9);
      const mk = (n: number) =>
        Array.from({ length: n }, () => [
          Math.max(1, Math.round(rnd() * 1e6)) / 10 ** pp,
          Math.max(1, Math.round(rnd() * 1e10)) / 10 ** qp,
        ]) as [number, number][];
      const asks = mk(Math.floor(rnd() * 13));
      const bids = mk(Math.floor(rnd() * 13));
      const ours = krakenBookChecksum(asks.flat(), asks.length, bids.flat(), bids.length, pp, qp);
      expect(ours).toBe(referenceChecksum(asks, bids, pp, qp));
    }
  });

  it('parses RFC 3339 times with micro- and nanosecond fractions', () => {
    expect(parseRfc3339('2026-08-12T19:29:00.921195Z')).toBeCloseTo(Date.parse('2026-08-12T19:29:00.921Z') + 0.195, 6);
    expect(parseRfc3339('2026-08-12T19:28:43.952985558Z')).toBeCloseTo(Date.parse('2026-08-12T19:28:43.952Z') + 0.985558, 3);
    expect(parseRfc3339('2026-08-12T19:20:00Z')).toBe(Date.parse('2026-08-12T19:20:00Z'));
    expect(parseRfc3339('yesterday')).toBeNaN();
    expect(parseRfc3339(undefined)).toBeNaN();
  });
});

// ─── normalization against ccxt's recorded v2 frames ──────────────────────────────────────

describe('kraken session vs ccxt-ws/kraken.json', () => {
  it('watchTicker: ticker fields agree with ccxt', () => {
    const c = fixture.methods.watchTicker![0]!;
    const h = harness([spec('ticker', 'BTC/USD', 1)]);
    h.feed(...c.messages);
    const tickers = h.of('ticker');
    expect(tickers).toHaveLength(2);
    const want = c.parsedResponses![0] as Obj;
    const t = tickers[0]!;
    expect(t.fields).toMatchObject({
      last: want.last,
      high: want.high,
      low: want.low,
      bidPrice: want.bid,
      askPrice: want.ask,
      baseVolume: want.baseVolume,
    });
    expect(t.fields.open).toBeCloseTo(want.open as number, 6);
    expect(t.fields.quoteVolume).toBeCloseTo(want.quoteVolume as number, 4);
    // ccxt leaves timestamp null for Kraken tickers; we keep the frame's own time.
    expect(t.ts).toBeCloseTo(Date.parse('2026-08-12T19:29:00.921Z') + 0.195, 3);
    expect(h.session.stats).toMatchObject({ acks: 1, errorAcks: 0 });
  });

  it('watchOHLCV: candles agree with ccxt (open time = interval_begin)', () => {
    const c = fixture.methods.watchOHLCV![0]!;
    const h = harness([spec('candles', 'BTC/USD', 1, '1m')]);
    h.feed(...c.messages);
    const candles = h.of('candle');
    const snapshotCount = (c.messages[2]!.data as unknown[]).length;
    // ccxt resolved on the snapshot: compare with the candles of our snapshot.
    const byOpen = new Map(candles.slice(0, snapshotCount).map((k) => [k.openTs, ohlcv(k)]));
    const want = c.parsedResponses!.at(-1) as number[][];
    for (const row of want) expect(byOpen.get(row[0]!)).toEqual(row);
    // The update then revises the newest candle.
    expect(candles).toHaveLength(snapshotCount + 1);
    expect(ohlcv(candles.at(-1)!)).toEqual([Date.parse('2026-08-12T19:28:00Z'), 63301.6, 63301.6, 63297.7, 63297.7, 0.04121249]);
    expect(candles.every((k) => k.intervalSec === 60)).toBe(true);
    // Every snapshot candle but the newest is final; the update is an open candle.
    expect(candles.slice(0, snapshotCount - 1).every((k) => k.closed)).toBe(true);
    expect(candles.at(-1)!.closed).toBe(false);
  });

  for (const c of fixture.methods.watchOrderBook!) {
    it(`watchOrderBook "${c.description}": every checksum verifies and the book agrees with ccxt`, () => {
      const symbol = c.input[0] as string;
      const h = harness([spec('book', symbol, 7)], { bookDepth: 10 });
      h.feed(INSTRUMENT, ...c.messages);
      expect(h.session.stats.checksumMismatches).toBe(0);
      expect(h.resyncs).toEqual([]);
      const withChecksum = c.messages.filter(
        (m) => m.channel === 'book' && (m.data as Obj[])[0]!.checksum !== undefined,
      ).length;
      expect(h.session.stats.unverified).toBe(
        c.messages.filter((m) => m.channel === 'book').length - withChecksum,
      );
      const book = h.session.book(symbol)!;
      const want = (c.parsedResponse ?? c.parsedResponses!.at(-1)) as { bids: number[][]; asks: number[][] };
      if (c.parsedResponse !== undefined) {
        expect(book.levels('bids')).toEqual(want.bids);
        expect(book.levels('asks')).toEqual(want.asks);
      } else {
        // ccxt resolved on the snapshot; our snapshot record is that book.
        const snap = h.of('book').find((r) => r.snapshot)!;
        expect(snap.bids).toEqual(want.bids);
        expect(snap.asks).toEqual(want.asks);
      }
      expect(h.of('status').filter((s) => s.code === StatusCode.synced)).toHaveLength(1);
    });
  }

  it('replays the records into the same book the session holds', () => {
    const c = fixture.methods.watchOrderBook![1]!;
    const h = harness([spec('book', 'BTC/USD', 7)], { bookDepth: 10 });
    h.feed(INSTRUMENT, ...c.messages);
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (const r of h.of('book')) {
      if (r.snapshot) {
        bids.clear();
        asks.clear();
      }
      for (const [p, q] of r.bids) q === 0 ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of r.asks) q === 0 ? asks.delete(p) : asks.set(p, q);
    }
    const book = h.session.book('BTC/USD')!;
    expect([...bids].sort((a, b) => b[0] - a[0])).toEqual(book.levels('bids'));
    expect([...asks].sort((a, b) => a[0] - b[0])).toEqual(book.levels('asks'));
  });
});

// ─── integrity ─────────────────────────────────────────────────────────────────────────────

describe('kraken book integrity', () => {
  const bookCase = fixture.methods.watchOrderBook![1]!;
  const bookFrames = bookCase.messages.filter((m) => m.channel === 'book');

  it('a corrupted checksum resyncs that symbol only: status, onResync, unsubscribe + subscribe, then synced', () => {
    const h = harness([spec('book', 'BTC/USD', 1), spec('trades', 'ETH/USD', 2)]);
    h.feed(INSTRUMENT, bookFrames[0], bookFrames[1]);
    const bad = structuredClone(bookFrames[2]) as Obj;
    ((bad.data as Obj[])[0] as Obj).checksum = 12345;
    const booksBefore = h.of('book').length;
    h.feed(bad);
    expect(h.of('book')).toHaveLength(booksBefore); // the bad update is not emitted
    expect(h.of('status').at(-1)).toEqual({ type: 'status', symbolId: 1, code: StatusCode.resync, detail: ResyncReason.checksum });
    expect(h.resyncs).toEqual([[1, ResyncReason.checksum]]);
    expect(h.session.isSynced('BTC/USD')).toBe(false);
    expect(h.sent.map((t) => JSON.parse(t))).toMatchObject([
      { method: 'unsubscribe', params: { channel: 'book', symbol: ['BTC/USD'], depth: 25 } },
      { method: 'subscribe', params: { channel: 'book', symbol: ['BTC/USD'], depth: 25 } },
    ]);
    // Updates before the new snapshot are dropped; trades of other symbols keep flowing.
    h.feed(bookFrames[3]);
    expect(h.session.stats.droppedUnsynced).toBe(1);
    h.feed({ channel: 'trade', type: 'update', data: [{ symbol: 'ETH/USD', side: 'buy', price: 3000.5, qty: 0.1, ord_type: 'limit', trade_id: 9, timestamp: '2026-08-12T19:29:00.1Z' }] });
    expect(h.of('trade', 2)).toHaveLength(1);
    h.feed(bookFrames[5], bookFrames[6]);
    expect(h.session.isSynced('BTC/USD')).toBe(true);
    expect(h.of('status').map((s) => s.code)).toEqual([StatusCode.synced, StatusCode.resync, StatusCode.synced]);
    expect(h.session.stats).toMatchObject({ resyncs: 1, checksumMismatches: 1 });
  });

  it('resubscribes at most once per interval per symbol', () => {
    let now = 1000;
    const h = harness([spec('book', 'BTC/USD', 1)], { minResyncIntervalMs: 500, now: () => now });
    h.feed(INSTRUMENT, bookFrames[0]);
    const bad = structuredClone(bookFrames[0]) as Obj;
    ((bad.data as Obj[])[0] as Obj).checksum = 1;
    h.feed(bad);
    expect(h.sent).toHaveLength(2);
    now += 100;
    h.feed(bad); // the re-snapshot is bad again: another resync status, but no new request yet
    expect(h.sent).toHaveLength(2);
    expect(h.resyncs).toHaveLength(2);
    h.session.removeStreams([spec('book', 'BTC/USD', 1)]); // clears the pending timer
  });

  it('without the pair precision, checksums are counted as unverified, not failed', () => {
    const h = harness([spec('book', 'BTC/USD', 1)]);
    h.feed(...bookFrames.slice(0, 5));
    expect(h.session.stats).toMatchObject({ unverified: 5, checksumMismatches: 0, resyncs: 0 });
  });

  it('truncates to the subscribed depth and emits the dropped levels as deletes', () => {
    const h = harness([spec('book', 'BTC/USD', 1)], { bookDepth: 10 });
    h.feed(INSTRUMENT, bookFrames[0]);
    const snap = h.of('book')[0]!;
    const worstBid = snap.bids.at(-1)![0];
    const better = 85600; // between the two best bids (85600.4, 85599.6)
    const levels = [...snap.bids.slice(0, 10), [better, 1]].sort((a, b) => b[0]! - a[0]!).slice(0, 10) as [number, number][];
    const checksum = referenceChecksum(snap.asks, levels, 1, 8);
    h.feed({
      channel: 'book',
      type: 'update',
      data: [{ symbol: 'BTC/USD', bids: [{ price: better, qty: 1 }], asks: [], checksum, timestamp: '2026-10-06T08:04:58Z' }],
    });
    expect(h.session.stats.checksumMismatches).toBe(0);
    const delta = h.of('book').at(-1)!;
    expect(delta.snapshot).toBe(false);
    expect(delta.bids).toEqual([
      [better, 1],
      [worstBid, 0],
    ]);
    expect(h.session.book('BTC/USD')!.bidDepth).toBe(10);
  });

  it('a crossed book resyncs with crossedBook', () => {
    const h = harness([spec('book', 'BTC/USD', 1)]);
    h.feed(INSTRUMENT, bookFrames[0]);
    h.feed({ channel: 'book', type: 'update', data: [{ symbol: 'BTC/USD', bids: [{ price: 90000, qty: 1 }], asks: [], checksum: 1 }] });
    expect(h.resyncs).toEqual([[1, ResyncReason.crossedBook]]);
  });

  it('clears books on disconnect and takes the next snapshot', () => {
    const h = harness([spec('book', 'BTC/USD', 1)]);
    h.feed(INSTRUMENT, bookFrames[0]);
    h.session.onDisconnect();
    expect(h.session.book('BTC/USD')!.bidDepth).toBe(0);
    h.feed(bookFrames[1]);
    expect(h.session.stats.droppedUnsynced).toBe(1);
    h.feed(bookFrames[0]);
    expect(h.of('status').map((s) => s.code)).toEqual([StatusCode.synced, StatusCode.synced]);
  });
});

// ─── trades, dedupe and bad frames ────────────────────────────────────────────────────────

describe('kraken trades and bad frames', () => {
  const trade = (id: number, side: string) => ({
    channel: 'trade',
    type: 'update',
    data: [{ symbol: 'BTC/USD', side, price: 63297.8, qty: 0.0015, ord_type: 'market', trade_id: id, timestamp: '2026-08-12T19:29:01.5Z' }],
  });

  it('normalizes trades and drops duplicates by trade_id', () => {
    const h = harness([spec('trades', 'BTC/USD', 3)]);
    h.feed(trade(100, 'buy'), trade(101, 'sell'), trade(101, 'sell'), trade(99, 'buy'));
    expect(h.of('trade')).toEqual([
      { type: 'trade', symbolId: 3, ts: Date.parse('2026-08-12T19:29:01.5Z'), seq: 100, side: Side.buy, price: 63297.8, amount: 0.0015 },
      { type: 'trade', symbolId: 3, ts: Date.parse('2026-08-12T19:29:01.5Z'), seq: 101, side: Side.sell, price: 63297.8, amount: 0.0015 },
    ]);
    expect(h.session.stats.duplicates).toBe(2);
  });

  it('drops a ticker it already emitted (same timestamp)', () => {
    const c = fixture.methods.watchTicker![0]!;
    const h = harness([spec('ticker', 'BTC/USD', 1)]);
    h.feed(c.messages[2], c.messages[2], c.messages[4]);
    expect(h.of('ticker')).toHaveLength(2);
  });

  it('ignores heartbeats, status, pongs; logs rejected requests; throws clear errors for bad frames', () => {
    const h = harness([spec('trades', 'BTC/USD', 3), spec('book', 'BTC/USD', 3)]);
    h.feed({ channel: 'heartbeat' }, { method: 'pong', req_id: 4 }, fixture.methods.watchTicker![0]!.messages[0]);
    h.feed({ error: 'Currency pair not supported BTC/USDX', method: 'subscribe', success: false, symbol: 'BTC/USDX' });
    expect(h.session.stats.errorAcks).toBe(1);
    expect(h.warns).toContain('kraken: request rejected');
    expect(h.recs).toEqual([]);
    expect(() => h.feed('{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","pri')).toThrow(/kraken: bad JSON/);
    expect(() => h.feed('[1,2]')).toThrow(/kraken: unexpected frame/);
    expect(() => h.feed({ foo: 1 })).toThrow(/kraken: frame has neither/);
    expect(() => h.feed({ ...trade(5, 'buy'), data: [{ symbol: 'BTC/USD', side: 'up', price: 1, qty: 1, trade_id: 5 }] })).toThrow(
      /kraken: trade BTC\/USD: side "up"/,
    );
    expect(() => h.feed({ channel: 'book', type: 'update', data: [{ symbol: 'BTC/USD', bids: [{ price: 'x', qty: 1 }], asks: [] }] })).toThrow(
      /kraken: book BTC\/USD: bids level 0/,
    );
    expect(() => h.feed({ channel: 'trade', type: 'update' })).toThrow(/kraken: trade frame has no "data"/);
  });
});
