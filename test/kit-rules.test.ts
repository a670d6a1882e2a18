/**
 * The rules the venue kit enforces, run for every venue with books (one row per venue):
 *  (a) a frame concerning a book with one malformed level resyncs that symbol: a `resync` status,
 *      nothing of the frame written, then after a good snapshot `synced` and the book correct;
 *  (b) an ask for a fresh snapshot that brings none is asked again after the timeout, and after
 *      the venue refuses it (Binance: a failed REST fetch, which is how a timed-out fetch ends);
 *  (c) a negative price or amount in a trade or a level is a plain Error naming the venue; in a
 *      level of a synced book it also resyncs the book.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResyncReason, StatusCode } from '../src/records/types.js';
import { createBinanceSession } from '../src/venues/binance/session.js';
import { USDM_FLAVOR } from '../src/venues/binance/usdm.js';
import { createBybitSession } from '../src/venues/bybit/session.js';
import { createCoinbaseSession } from '../src/venues/coinbase/session.js';
import type { StreamSpec, VenueSession } from '../src/venues/contract.js';
import { BookResync, BookSyncState } from '../src/venues/kit/book-resync.js';
import { createKrakenSession } from '../src/venues/kraken/session.js';
import { createOkxSession } from '../src/venues/okx/session.js';
import { type RecordingContext, recordingContext } from './kit/recording-context.js';

const MIN_INTERVAL = 1000;
const TIMEOUT = 5000;
const TIMING = { minResyncIntervalMs: MIN_INTERVAL, snapshotTimeoutMs: TIMEOUT };
const TS = '2024-01-01T00:00:00.000Z';

type Level = [string, string];

interface VenueRow {
  readonly venue: string;
  /** A session carrying the book and trades of one symbol (id 1). */
  open(rc: RecordingContext): VenueSession;
  /**
   * Deliver a good snapshot (bid 100 × 1, ask 101 × 1) by the venue's mechanism: a frame, or the
   * REST answer to the pending fetch (plus a bridging diff where the venue's rule waits for one).
   */
  snapshot(rc: RecordingContext, s: VenueSession, n: number): Promise<void>;
  /** A snapshot frame with one bad level; undefined where snapshots come by REST. */
  badSnapshot?(bad: Level): string;
  /** Where snapshots come by REST: the next REST snapshot has one bad level. */
  badRestSnapshot?(bad: Level): void;
  /** An update of the synced book (after snapshot `n`) carrying one good and one bad level. */
  update(n: number, bad: Level): string;
  trade(price: string, amount: string): string;
  /** Snapshot asks sent so far (resubscribes or REST fetches, the first subscribe excluded). */
  asks(rc: RecordingContext): number;
  /** The venue refuses the last ask. Binance: the next fetch fails. */
  refuse(rc: RecordingContext, s: VenueSession): void;
}

const spec = (channel: 'book' | 'trades', symbol: string, native: string): StreamSpec => ({
  channel,
  symbol,
  symbolId: 1,
  native,
});
const subscribes = (rc: RecordingContext, key: 'method' | 'op' | 'type') =>
  rc.sent.filter((t) => JSON.parse(t)[key] === 'subscribe').length;
const flush = () => vi.advanceTimersByTimeAsync(0);

function binanceRow(venue: 'binance' | 'binance-usdm'): VenueRow {
  const usdm = venue === 'binance-usdm';
  let last = 0;
  const good = (L: number) => () => Promise.resolve({ lastUpdateId: L, bids: [['100', '1']], asks: [['101', '1']] });
  let answer: () => Promise<unknown> = good(100);
  let firstAnswer: (() => Promise<unknown>) | undefined;
  const depth = (U: number, u: number, b: Level[]) =>
    JSON.stringify({
      stream: 'btcusdt@depth@100ms',
      data: { e: 'depthUpdate', E: 1000 + u, T: 999 + u, s: 'BTCUSDT', U, u, pu: U - 1, b, a: [] },
    });
  return {
    venue,
    open(rc) {
      answer = firstAnswer ?? good(100);
      firstAnswer = undefined;
      rc.rest = () => answer();
      const s = createBinanceSession(rc.ctx, {
        minSnapshotIntervalMs: MIN_INTERVAL,
        ...(usdm ? { flavor: USDM_FLAVOR } : {}),
      });
      const symbol = usdm ? 'BTC/USDT:USDT' : 'BTC/USDT';
      s.addStreams([spec('book', symbol, 'BTCUSDT'), spec('trades', symbol, 'BTCUSDT')]);
      return s;
    },
    async snapshot(_rc, s, n) {
      const L = 100 * n;
      answer = good(L);
      await vi.advanceTimersByTimeAsync(n === 1 ? 0 : MIN_INTERVAL);
      last = L;
      // USD-M holds the snapshot until a diff bridges it (U <= L <= u).
      if (usdm) {
        s.onMessage(depth(L - 1, L + 1, [['100', '1']]));
        last = L + 1;
      }
    },
    badRestSnapshot(bad) {
      firstAnswer = () => Promise.resolve({ lastUpdateId: 100, bids: [['100', '1'], bad], asks: [['101', '1']] });
    },
    update: (_n, bad) => depth(last + 1, last + 1, [['100', '2'], bad]),
    trade: (p, q) =>
      JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'trade', E: 1, s: 'BTCUSDT', t: 1, p, q, T: 1, m: false, M: true } }),
    asks: (rc) => rc.fetched.length - 1,
    refuse() {
      answer = () => Promise.reject(new Error('HTTP 503'));
    },
  };
}

const ROWS: VenueRow[] = [
  binanceRow('binance'),
  binanceRow('binance-usdm'),
  {
    venue: 'coinbase',
    open(rc) {
      const s = createCoinbaseSession(rc.ctx, TIMING);
      s.addStreams([spec('book', 'BTC/USD', 'BTC-USD'), spec('trades', 'BTC/USD', 'BTC-USD')]);
      return s;
    },
    async snapshot(_rc, s) {
      s.onMessage(JSON.stringify({ type: 'snapshot', product_id: 'BTC-USD', bids: [['100', '1']], asks: [['101', '1']] }));
    },
    badSnapshot: (bad) => JSON.stringify({ type: 'snapshot', product_id: 'BTC-USD', bids: [['100', '1'], bad], asks: [['101', '1']] }),
    update: (_n, bad) =>
      JSON.stringify({ type: 'l2update', product_id: 'BTC-USD', time: TS, changes: [['buy', '100', '2'], ['buy', ...bad]] }),
    trade: (price, size) =>
      JSON.stringify({
        type: 'match',
        trade_id: 1,
        sequence: 1,
        maker_order_id: 'a',
        taker_order_id: 'b',
        time: TS,
        product_id: 'BTC-USD',
        size,
        price,
        side: 'buy',
      }),
    asks: (rc) => subscribes(rc, 'type'),
    refuse(_rc, s) {
      s.onMessage(JSON.stringify({ type: 'error', message: 'Failed to subscribe', reason: 'try again' }));
    },
  },
  {
    venue: 'kraken',
    open(rc) {
      const s = createKrakenSession(rc.ctx, TIMING);
      s.addStreams([spec('book', 'BTC/USD', 'BTC/USD'), spec('trades', 'BTC/USD', 'BTC/USD')]);
      return s;
    },
    async snapshot(_rc, s) {
      s.onMessage(
        JSON.stringify({
          channel: 'book',
          type: 'snapshot',
          data: [{ symbol: 'BTC/USD', bids: [{ price: 100, qty: 1 }], asks: [{ price: 101, qty: 1 }], timestamp: TS }],
        }),
      );
    },
    badSnapshot: ([price, qty]) =>
      JSON.stringify({
        channel: 'book',
        type: 'snapshot',
        data: [{ symbol: 'BTC/USD', bids: [{ price: 100, qty: 1 }, { price, qty }], asks: [{ price: 101, qty: 1 }], timestamp: TS }],
      }),
    update: (_n, [price, qty]) =>
      JSON.stringify({
        channel: 'book',
        type: 'update',
        data: [{ symbol: 'BTC/USD', bids: [{ price: 100, qty: 2 }, { price, qty }], asks: [], timestamp: TS }],
      }),
    trade: (price, qty) =>
      JSON.stringify({
        channel: 'trade',
        type: 'update',
        data: [{ symbol: 'BTC/USD', side: 'buy', price, qty, ord_type: 'market', trade_id: 1, timestamp: TS }],
      }),
    asks: (rc) => subscribes(rc, 'method'),
    refuse(rc, s) {
      const req = JSON.parse(rc.sent.filter((t) => JSON.parse(t).method === 'subscribe').at(-1)!).req_id;
      s.onMessage(JSON.stringify({ method: 'subscribe', success: false, error: 'Already subscribed', symbol: 'BTC/USD', req_id: req }));
    },
  },
  {
    venue: 'bybit',
    open(rc) {
      const s = createBybitSession(rc.ctx, TIMING);
      s.addStreams([spec('book', 'BTC/USDT', 'BTCUSDT'), spec('trades', 'BTC/USDT', 'BTCUSDT')]);
      return s;
    },
    async snapshot(_rc, s, n) {
      s.onMessage(
        JSON.stringify({
          topic: 'orderbook.50.BTCUSDT',
          type: 'snapshot',
          ts: 1,
          data: { s: 'BTCUSDT', b: [['100', '1']], a: [['101', '1']], u: 10 * n, seq: 1 },
        }),
      );
    },
    badSnapshot: (bad) =>
      JSON.stringify({
        topic: 'orderbook.50.BTCUSDT',
        type: 'snapshot',
        ts: 1,
        data: { s: 'BTCUSDT', b: [['100', '1'], bad], a: [['101', '1']], u: 5, seq: 1 },
      }),
    update: (n, bad) =>
      JSON.stringify({
        topic: 'orderbook.50.BTCUSDT',
        type: 'delta',
        ts: 2,
        data: { s: 'BTCUSDT', b: [['100', '2'], bad], a: [], u: 10 * n + 1, seq: 2 },
      }),
    trade: (p, v) =>
      JSON.stringify({ topic: 'publicTrade.BTCUSDT', type: 'snapshot', ts: 1, data: [{ T: 1, s: 'BTCUSDT', S: 'Buy', v, p, i: 't1', seq: 5 }] }),
    asks: (rc) => subscribes(rc, 'op'),
    refuse(rc, s) {
      const req = JSON.parse(rc.sent.filter((t) => JSON.parse(t).op === 'subscribe').at(-1)!).req_id;
      s.onMessage(JSON.stringify({ success: false, ret_msg: 'error:already subscribed', conn_id: 'c', req_id: req, op: 'subscribe' }));
    },
  },
  {
    venue: 'okx',
    open(rc) {
      const s = createOkxSession(rc.ctx, TIMING);
      s.addStreams([spec('book', 'BTC/USDT', 'BTC-USDT'), spec('trades', 'BTC/USDT', 'BTC-USDT')]);
      return s;
    },
    async snapshot(_rc, s, n) {
      s.onMessage(
        JSON.stringify({
          arg: { channel: 'books', instId: 'BTC-USDT' },
          action: 'snapshot',
          data: [{ asks: [['101', '1', '0', '1']], bids: [['100', '1', '0', '1']], ts: '1', checksum: 0, seqId: 10 * n, prevSeqId: -1 }],
        }),
      );
    },
    badSnapshot: (bad) =>
      JSON.stringify({
        arg: { channel: 'books', instId: 'BTC-USDT' },
        action: 'snapshot',
        data: [{ asks: [['101', '1', '0', '1']], bids: [['100', '1', '0', '1'], [...bad, '0', '1']], ts: '1', checksum: 0, seqId: 5, prevSeqId: -1 }],
      }),
    update: (n, bad) =>
      JSON.stringify({
        arg: { channel: 'books', instId: 'BTC-USDT' },
        action: 'update',
        data: [{ asks: [], bids: [['100', '2', '0', '1'], [...bad, '0', '1']], ts: '2', checksum: 0, seqId: 10 * n + 1, prevSeqId: 10 * n }],
      }),
    trade: (px, sz) =>
      JSON.stringify({
        arg: { channel: 'trades', instId: 'BTC-USDT' },
        data: [{ instId: 'BTC-USDT', tradeId: '1', px, sz, side: 'buy', ts: '1' }],
      }),
    asks: (rc) => subscribes(rc, 'op'),
    refuse(_rc, s) {
      s.onMessage(JSON.stringify({ event: 'error', code: '60012', msg: 'channel:books,instId:BTC-USDT busy, try again' }));
    },
  },
];

/** Feed `frame`, expecting a plain Error naming the venue; returns the records it caused. */
function rejected(rc: RecordingContext, s: VenueSession, row: VenueRow, frame: string) {
  const before = rc.recs.length;
  let threw: unknown;
  try {
    s.onMessage(frame);
  } catch (err) {
    threw = err;
  }
  expect(threw).toBeInstanceOf(Error);
  expect(Object.getPrototypeOf(threw)).toBe(Error.prototype);
  expect((threw as Error).message.startsWith(`${row.venue}: `)).toBe(true);
  return rc.recs.slice(before);
}

const RESYNC_ONLY = [{ type: 'status', symbolId: 1, code: StatusCode.resync, detail: expect.any(Number) }];

function expectGoodBook(rc: RecordingContext): void {
  const book = rc.consumerBook(1);
  expect([book.bestBid(), book.bestBidAmount(), book.bestAsk(), book.bestAskAmount()]).toEqual([100, 1, 101, 1]);
  expect(book.bidDepth).toBe(1);
}

describe.each(ROWS)('kit rules: $venue', (row) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  async function synced() {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const rc = recordingContext();
    const s = row.open(rc);
    await row.snapshot(rc, s, 1);
    await flush();
    expect(rc.statuses(1)).toEqual([StatusCode.synced]);
    return { rc, s };
  }

  it('(a) an update with one malformed level resyncs that symbol; a good snapshot brings it back', async () => {
    const { rc, s } = await synced();
    const n = rc.recs.length;
    expect(rejected(rc, s, row, row.update(1, ['abc', '1']))).toEqual(RESYNC_ONLY);
    expect(rc.resyncs).toHaveLength(1);
    await row.snapshot(rc, s, 2);
    await flush();
    expect(rc.statuses(1)).toEqual([StatusCode.synced, StatusCode.resync, StatusCode.synced]);
    expect(rc.recs.slice(n).some((r) => r.type === 'book' && r.bids.some(([p]) => Number.isNaN(p)))).toBe(false);
    expectGoodBook(rc);
  });

  it.skipIf(row.badSnapshot === undefined)('(a) a snapshot with one malformed level resyncs; never applied in part', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const rc = recordingContext();
    const s = row.open(rc);
    expect(rejected(rc, s, row, row.badSnapshot!(['100.5', 'x']))).toEqual(RESYNC_ONLY);
    expect(rc.recs.filter((r) => r.type === 'book')).toEqual([]);
    await vi.advanceTimersByTimeAsync(MIN_INTERVAL);
    expect(row.asks(rc)).toBe(1);
    await row.snapshot(rc, s, 2);
    expect(rc.statuses(1)).toEqual([StatusCode.resync, StatusCode.synced]);
    expectGoodBook(rc);
  });

  it.runIf(row.badRestSnapshot !== undefined)('(a) a REST snapshot with one malformed level is refused whole and fetched again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const rc = recordingContext();
    row.badRestSnapshot!(['100.5', 'x']);
    const s = row.open(rc);
    await flush();
    expect(rc.recs).toEqual([]);
    expect(rc.warns.some((w) => w.includes('snapshot failed'))).toBe(true);
    await row.snapshot(rc, s, 2);
    await vi.advanceTimersByTimeAsync(MIN_INTERVAL);
    expect(rc.fetched.length).toBeGreaterThanOrEqual(2);
    expect(rc.statuses(1)).toEqual([StatusCode.synced]);
    expectGoodBook(rc);
  });

  it('(b) no snapshot after the ask: asked again after the timeout, and after a refusal', async () => {
    const { rc, s } = await synced();
    if (row.venue.startsWith('binance')) {
      // Binance asks by REST: a fetch that fails (also how a timed-out fetch ends) is retried.
      row.refuse(rc, s);
      rejected(rc, s, row, row.update(1, ['abc', '1']));
      await vi.advanceTimersByTimeAsync(MIN_INTERVAL);
      expect(row.asks(rc)).toBe(1);
      await vi.advanceTimersByTimeAsync(MIN_INTERVAL);
      expect(row.asks(rc)).toBeGreaterThanOrEqual(2);
    } else {
      rejected(rc, s, row, row.update(1, ['abc', '1']));
      // The ask goes at once, or (Coinbase: its first subscribe counts) after the rate limit.
      await vi.advanceTimersByTimeAsync(MIN_INTERVAL);
      expect(row.asks(rc)).toBe(1);
      await vi.advanceTimersByTimeAsync(TIMEOUT - 1 - MIN_INTERVAL);
      expect(row.asks(rc)).toBe(1);
      await vi.advanceTimersByTimeAsync(1 + MIN_INTERVAL);
      expect(row.asks(rc)).toBe(2); // timed out: asked again
      row.refuse(rc, s);
      await vi.advanceTimersByTimeAsync(MIN_INTERVAL);
      expect(row.asks(rc)).toBe(3); // refused: asked again (rate-limited)
    }
    const asked = row.asks(rc);
    await row.snapshot(rc, s, 2);
    await flush();
    expect(rc.statuses(1).at(-1)).toBe(StatusCode.synced);
    expectGoodBook(rc);
    const afterSync = row.asks(rc);
    expect(afterSync - asked).toBeLessThanOrEqual(1);
    await vi.advanceTimersByTimeAsync(10 * TIMEOUT);
    expect(row.asks(rc)).toBe(afterSync); // in sync: no more asks
  });

  it('(c) a negative price or amount in a trade is a plain Error naming the venue; nothing is written', async () => {
    const { rc, s } = await synced();
    for (const [p, q] of [
      ['-1', '1'],
      ['100', '-1'],
    ] as const) {
      expect(rejected(rc, s, row, row.trade(p, q))).toEqual([]);
    }
    expect(rc.recs.some((r) => r.type === 'trade')).toBe(false);
  });

  it('(c) a negative price or amount in a level of a synced book: an Error naming the venue, and a resync', async () => {
    for (const bad of [
      ['-100', '1'],
      ['99', '-1'],
    ] as Level[]) {
      const { rc, s } = await synced();
      expect(rejected(rc, s, row, row.update(1, bad))).toEqual(RESYNC_ONLY);
      expect(rc.resyncs).toHaveLength(1);
      vi.useRealTimers();
    }
  });
});

describe('kit: book resync timing', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an unanswered ask is repeated with a doubling timeout, capped; a snapshot or a removal stops it', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const rc = recordingContext();
    const resync = new BookResync('test', rc.ctx, { minResyncIntervalMs: 100, snapshotTimeoutMs: 1000, maxSnapshotTimeoutMs: 3000 });
    const asks: number[] = [];
    const t0 = Date.now();
    const st = new BookSyncState('X', () => asks.push(Date.now() - t0));
    resync.desync(st, 1, ResyncReason.checksum);
    expect(rc.recs).toEqual([{ type: 'status', symbolId: 1, code: StatusCode.resync, detail: ResyncReason.checksum }]);
    expect(rc.resyncs).toEqual([[1, ResyncReason.checksum]]);
    vi.advanceTimersByTime(10_000);
    // 1 s, then 2 s, then capped at 3 s.
    expect(asks).toEqual([0, 1000, 3000, 6000, 9000]);
    expect(resync.snapshotApplied(st)).toBe(true);
    expect(resync.snapshotApplied(st)).toBe(false);
    vi.advanceTimersByTime(10_000);
    expect(asks).toHaveLength(5);
    // A second desync soon after an ask waits for the rate limit; a removal cancels it.
    resync.desync(st, 1, ResyncReason.crossedBook, false);
    expect(asks).toHaveLength(6);
    resync.desync(st, 1, ResyncReason.crossedBook, false);
    expect(asks).toHaveLength(6);
    resync.remove(st);
    vi.advanceTimersByTime(10_000);
    expect(asks).toHaveLength(6);
    expect(rc.resyncs).toHaveLength(1); // the invisible desyncs wrote no status and counted nothing
  });
});
