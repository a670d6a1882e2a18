/**
 * Fault scenarios for every native venue with a fault case in test/kit/venue-cases.ts (all but
 * Binance spot, which has scenarios.test.ts): each venue's simulator, the fault
 * proxy in between, real workers. One seed per venue keeps the file fast; scenarios: connection
 * reset, half-open blackhole (dead peer by ping/pong), byte slicing. A table of venue × scenario,
 * passed and records checked is printed at the end.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../src/engine/options.js';
import type { MarketRecord } from '../../src/records/types.js';
import type { VenueSimulator } from '../../src/simulator/venues.js';
import { waitFor } from '../helpers/wait.js';
import { type FaultCase, VENUE_CASES } from '../kit/venue-cases.js';
import { inOrder, type Rig, startVenueRig, statusList } from './rig.js';

interface FaultRun extends FaultCase {
  readonly venue: string;
}

/** Every venue case with a fault case, in table order. */
const CASES: readonly FaultRun[] = VENUE_CASES.flatMap((c) => (c.faults ? [{ venue: c.id, ...c.faults }] : []));

/** Documented bound (as for Binance): first data after a reset, with backoff 20..200 ms, ms. */
const FIRST_DATA_AFTER_RESET_MS = 2000;
const PING_MS = 150;
const PONG_MS = 200;
/** Slack over ping interval + pong timeout for dead-peer detection (timer granularity, thread hop). */
const DETECTION_SLACK_MS = 250;
const SLICE_BYTES = 5;
const SLICE_FOR_MS = 1000;

interface Row {
  passed: number;
  checked: number;
  note: string;
}
const table = new Map<string, Row>();
function report(venue: string, scenario: string, checked: number, note = ''): void {
  table.set(`${venue}\u0000${scenario}`, { passed: 1, checked, note });
}

afterAll(() => {
  const scenarios = ['reset', 'blackhole', 'slicing'];
  const lines = [
    'venue fault scenarios (one seed per venue)',
    `${'venue'.padEnd(14)} ${'scenario'.padEnd(10)} ${'passed'.padStart(6)} ${'checked'.padStart(8)}  note`,
  ];
  for (const c of CASES) {
    for (const s of scenarios) {
      const r = table.get(`${c.venue}\u0000${s}`);
      lines.push(
        `${c.venue.padEnd(14)} ${s.padEnd(10)} ${(r ? '1/1' : '0/1').padStart(6)} ${String(r?.checked ?? 0).padStart(8)}  ${r?.note ?? ''}`,
      );
    }
  }
  console.log(lines.join('\n'));
});

let rig: Rig<VenueSimulator> | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function startVenueCase(c: FaultRun, engineOptions: EngineOptions = {}): Promise<Rig<VenueSimulator>> {
  rig = await startVenueRig(c.venue, c.seed, c.rate, engineOptions);
  return rig;
}

const since = (records: MarketRecord[], mark: number) => records.slice(mark);
const count = (records: MarketRecord[], type: string, symbol?: string) =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol)).length;
const syncedCount = (records: MarketRecord[], symbol: string) => statusList(records, symbol).filter((s) => s === 'synced').length;

/** Trades and book for every symbol; waits until every book is synced and trades flow. */
async function startSynced(c: FaultRun, engineOptions: EngineOptions = {}): Promise<Rig<VenueSimulator>> {
  const r = await startVenueCase(c, engineOptions);
  r.engine.subscribe({ exchange: c.venue, channels: ['trades', 'book'], symbols: [...c.symbols] });
  await waitFor(
    () => c.symbols.every((s) => syncedCount(r.records, s) >= 1 && count(r.records, 'trade', s) > 0),
    'every book synced and trades for every symbol',
  );
  return r;
}

describe.each(CASES)('venue faults: $venue (seed $seed)', (c) => {
  it('connection reset → reconnect, disconnected status, trades again, every book synced again', async () => {
    const r = await startSynced(c);
    const before = new Set(r.changes.map((ch) => ch.connectionId));
    const mark = r.records.length;
    const t0 = Date.now();
    r.proxy.reset();
    await waitFor(() => statusList(since(r.records, mark), '').includes('disconnected'), 'a disconnected status');
    // Counted from the disconnect: trades that arrived between the mark and the reset do not count.
    const disconnectedAt = r.records.findIndex((x, i) => i >= mark && x.type === 'status' && x.status === 'disconnected');
    await waitFor(
      () =>
        c.symbols.every(
          (s) => count(since(r.records, disconnectedAt), 'trade', s) > 0 && syncedCount(since(r.records, disconnectedAt), s) >= 1,
        ),
      'trades and a synced book for every symbol after the reset',
      FIRST_DATA_AFTER_RESET_MS + 5000,
    );
    // Every connection that existed went reconnecting → connected after the reset.
    for (const id of before) {
      const states = r.changes.filter((ch) => ch.connectionId === id && ch.at >= t0).map((ch) => ch.state);
      expect(inOrder(states, ['reconnecting', 'connected']), `connection ${id}: ${states.join(',')}`).toBe(true);
    }
    for (const ch of r.changes.filter((x) => x.state === 'reconnecting')) expect(ch.delayMs).toBeLessThanOrEqual(200);
    expect(r.engine.stats().reconnects).toBeGreaterThanOrEqual(1);
    const later = since(r.records, mark);
    const disc = later.findIndex((x) => x.type === 'status' && x.status === 'disconnected');
    expect(inOrder(statusList(later, ''), ['disconnected', 'connected'])).toBe(true);
    const firstData = r.records.findIndex((x, i) => i > mark + disc && x.type === 'trade');
    const firstDataMs = r.times[firstData]! - t0;
    expect(firstDataMs).toBeLessThan(FIRST_DATA_AFTER_RESET_MS);
    for (const s of c.symbols) {
      // Rebuilt from a fresh snapshot after the disconnect; synced after it.
      const snap = later.findIndex((x) => x.type === 'book' && x.symbol === s && x.snapshot);
      const synced = later.findIndex((x) => x.type === 'status' && x.symbol === s && x.status === 'synced');
      expect(snap).toBeGreaterThan(disc);
      expect(synced).toBeGreaterThan(disc);
      expect(r.engine.book(c.venue, s)?.synced).toBe(true);
    }
    expect(r.engine.stats().integrityErrors).toBe(0);
    report(c.venue, 'reset', r.records.length, `first data ${firstDataMs} ms (bound ${FIRST_DATA_AFTER_RESET_MS})`);
  });

  it('half-open blackhole → dead peer detected within ping interval + pong timeout, then recovers', async () => {
    // A reconnect attempt that starts while the blackhole is still on hangs in its handshake until
    // connectTimeoutMs: keep that short so recovery does not wait out the 10 s default.
    const r = await startSynced(c, {
      limits: { pingIntervalMs: PING_MS, pongTimeoutMs: PONG_MS, staleTimeoutMs: 60_000, connectTimeoutMs: 1000 },
    });
    const conns = new Set(r.changes.map((ch) => ch.connectionId));
    const t0 = Date.now();
    r.proxy.set({ blackhole: true });
    await waitFor(
      () => [...conns].every((id) => r.changes.some((ch) => ch.connectionId === id && ch.state === 'reconnecting' && ch.at >= t0)),
      'dead peer detected on every connection',
      5000,
    );
    const detections = [...conns].map((id) => r.changes.find((ch) => ch.connectionId === id && ch.state === 'reconnecting' && ch.at >= t0)!);
    for (const d of detections) {
      expect(d.reason).toMatch(/pong/);
      expect(d.at - t0).toBeLessThanOrEqual(PING_MS + PONG_MS + DETECTION_SLACK_MS);
    }
    r.proxy.set({ blackhole: false });
    const mark = r.records.length;
    await waitFor(
      () => c.symbols.every((s) => count(since(r.records, mark), 'trade', s) > 2 && syncedCount(since(r.records, mark), s) >= 1),
      'trades and synced books after recovery',
    );
    for (const s of c.symbols) expect(r.engine.book(c.venue, s)?.synced).toBe(true);
    expect(r.engine.stats().integrityErrors).toBe(0);
    report(
      c.venue,
      'blackhole',
      r.records.length,
      `detected ${detections.map((d) => d.at - t0).join('/')} ms (bound ${PING_MS}+${PONG_MS}+${DETECTION_SLACK_MS}); reason "${detections[0]!.reason}"`,
    );
  });

  it(`byte slicing (${SLICE_BYTES} B pieces for ${SLICE_FOR_MS} ms) → no bad message, no reconnect, books stay synced`, async () => {
    const r = await startSynced(c);
    const mark = r.records.length;
    const down0 = r.proxy.stats().bytesDown;
    const t0 = Date.now();
    r.proxy.set({ sliceBytes: SLICE_BYTES });
    await waitFor(
      () => Date.now() - t0 >= SLICE_FOR_MS && c.symbols.every((s) => count(since(r.records, mark), 'trade', s) >= 3),
      `${SLICE_FOR_MS} ms of sliced data with trades for every symbol`,
    );
    const slicedBytes = r.proxy.stats().bytesDown - down0;
    r.proxy.set({ sliceBytes: 0 });
    const mark2 = r.records.length;
    await waitFor(() => c.symbols.every((s) => count(since(r.records, mark2), 'trade', s) > 0), 'trades after slicing');
    const later = since(r.records, mark);
    const statuses = statusList(later);
    expect(statuses.filter((s) => s === 'badMessage')).toEqual([]);
    expect(statuses.filter((s) => s === 'resync' || s === 'disconnected')).toEqual([]);
    expect(slicedBytes).toBeGreaterThan(SLICE_BYTES * 100);
    const stats = r.engine.stats();
    expect(stats.reconnects).toBe(0);
    expect(stats.badMessages).toBe(0);
    expect(stats.integrityErrors).toBe(0);
    expect(stats.resyncs).toBe(0);
    expect(r.changes.filter((ch) => ch.state !== 'connecting' && ch.state !== 'connected')).toEqual([]);
    for (const s of c.symbols) expect(r.engine.book(c.venue, s)?.synced).toBe(true);
    report(c.venue, 'slicing', later.length, `${slicedBytes} B in ${SLICE_BYTES} B pieces`);
  });
});
