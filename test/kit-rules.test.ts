/**
 * The rules the venue kit enforces, run for every venue case (its `kitRules` in
 * test/kit/venue-cases.ts):
 *  (a) a frame concerning a book with one malformed level resyncs that symbol: a `resync` status,
 *      nothing of the frame written, then after a good snapshot `synced` and the book correct;
 *  (b) an ask for a fresh snapshot that brings none is asked again after the timeout, and after
 *      the venue refuses it (Binance: a failed REST fetch, which is how a timed-out fetch ends);
 *  (c) a negative price or amount in a trade or a level is a plain Error naming the venue; in a
 *      level of a synced book it also resyncs the book.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResyncReason, StatusCode } from '../src/records/types.js';
import { BookResync, BookSyncState } from '../src/venues/kit/book-resync.js';
import { deliver, type KitRuleCase, type KitRuleEnv, type Level, type RuleFrame, type RuleSession } from './kit/kit-rule-case.js';
import { type RecordingContext, recordingContext } from './kit/recording-context.js';
import { VENUE_CASES } from './kit/venue-cases.js';

const MIN_INTERVAL = 1000;
const TIMEOUT = 5000;
const TIMING = { minResyncIntervalMs: MIN_INTERVAL, snapshotTimeoutMs: TIMEOUT };
const ENV: KitRuleEnv = { timing: TIMING, advance: (ms) => vi.advanceTimersByTimeAsync(ms) };

type VenueRow = KitRuleCase & { readonly venue: string };
/** One row per venue case, in table order. */
const ROWS: readonly VenueRow[] = VENUE_CASES.map((c) => ({ venue: c.id, ...c.kitRules(ENV) }));
const flush = () => vi.advanceTimersByTimeAsync(0);

/** Feed `frame`, expecting a plain Error naming the venue; returns the records it caused. */
function rejected(rc: RecordingContext, s: RuleSession, row: VenueRow, frame: RuleFrame) {
  const before = rc.recs.length;
  let threw: unknown;
  try {
    deliver(s, frame);
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
