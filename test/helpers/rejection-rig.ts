/**
 * One engine against one venue simulator, subscribed to a listed symbol and one the venue does
 * not list: what test/rejections.test.ts and the `symbols` bad-input rows share. The cases are the
 * `rejection` of each row of test/kit/venue-cases.ts, on the venue's simulator (VENUE_SIMULATORS).
 */
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { SubscriptionRejection } from '../../src/engine/events.js';
import type { MarketRecord, StatusRecord } from '../../src/records/types.js';
import type { VenueSimulator } from '../../src/simulator/venues.js';
import { VENUE_CASES, type RejectionCase as VenueRejection } from '../kit/venue-cases.js';
import { captureLogger } from './engine.js';
import { waitFor } from './wait.js';

interface Sim {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly faults: { closeAll(code?: number, reason?: string): void };
  close(): Promise<void>;
}

export interface RejectionCase extends VenueRejection {
  readonly venue: string;
  start(): Promise<Sim>;
}

const SEED = 3;
const RATE = 80;

/** The venue's simulator, which must offer the `faults` this rig uses. */
function withFaults(venue: string, sim: VenueSimulator): Sim {
  const faults = (sim as { faults?: Partial<Sim['faults']> }).faults;
  if (typeof faults?.closeAll !== 'function') throw new Error(`${venue} simulator has no faults.closeAll`);
  return sim as Sim;
}

/** One per venue case, in table order. */
export const REJECTION_CASES: readonly RejectionCase[] = VENUE_CASES.map((c) => ({
  venue: c.id,
  ...c.rejection,
  start: async () => withFaults(c.id, await c.simulator.start({ seed: SEED, rate: RATE })),
}));

export interface RejectionRun {
  readonly engine: Engine;
  readonly sim: Sim;
  readonly records: MarketRecord[];
  readonly rejections: SubscriptionRejection[];
  readonly logs: Array<Record<string, unknown>>;
  /** Data records (not status) of `symbol` so far. */
  data(symbol: string): number;
  /** `rejected` status records of `symbol` so far. */
  rejectedStatuses(symbol: string): StatusRecord[];
  close(): Promise<void>;
}

/** Starts the simulator and an engine with `[good, bad]` subscribed on one connection. */
export async function startRejectionRun(c: RejectionCase): Promise<RejectionRun> {
  const sim = await c.start();
  const logs: Array<Record<string, unknown>> = [];
  const engine = createEngine({
    threads: 1,
    logger: captureLogger(logs),
    venues: { [c.venue]: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
    backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
  });
  const records: MarketRecord[] = [];
  const rejections: SubscriptionRejection[] = [];
  engine.onRecord((r) => records.push(r));
  engine.on('rejected', (r: SubscriptionRejection) => rejections.push(r));
  engine.subscribe({ exchange: c.venue, channels: [...c.channels], symbols: [c.good, c.bad] });
  return {
    engine,
    sim,
    records,
    rejections,
    logs,
    data: (symbol) => records.filter((r) => r.type !== 'status' && r.symbol === symbol).length,
    rejectedStatuses: (symbol) =>
      records.filter((r): r is StatusRecord => r.type === 'status' && r.status === 'rejected' && r.symbol === symbol),
    async close() {
      await engine.close();
      await sim.close();
    },
  };
}

/**
 * The shared assertion: every channel of `bad` is rejected with ERR_BAD_SYMBOL naming it (event
 * and status record), `good` delivers afterwards, and the connection never reconnected.
 */
export async function expectBadSymbolRejected(run: RejectionRun, c: RejectionCase, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => run.rejections.length >= c.channels.length, `${c.venue}: a rejected event per channel of ${c.bad}`, timeoutMs);
  for (const r of run.rejections) {
    if (r.code !== 'ERR_BAD_SYMBOL') throw new Error(`${c.venue}: rejection code ${r.code}, expected ERR_BAD_SYMBOL (${r.message})`);
    if (r.symbol !== c.bad || r.exchange !== c.venue) throw new Error(`${c.venue}: rejection names ${r.exchange} ${r.symbol}`);
    if (!r.message.includes(c.bad)) throw new Error(`${c.venue}: rejection message does not name ${c.bad}: ${r.message}`);
  }
  const channels = new Set(run.rejections.map((r) => r.channel));
  for (const ch of c.channels) if (!channels.has(ch)) throw new Error(`${c.venue}: no rejection for ${ch}`);
  await waitFor(() => run.rejectedStatuses(c.bad).length >= c.channels.length, `${c.venue}: rejected status records`, timeoutMs);
  const before = run.data(c.good);
  await waitFor(() => run.data(c.good) >= before + 5, `${c.venue}: ${c.good} records after the rejection`, timeoutMs);
  const stats = run.engine.stats();
  if (stats.reconnects !== 0) throw new Error(`${c.venue}: ${stats.reconnects} reconnects, expected 0`);
  if (stats.perStream.some((s) => s.symbol === c.bad)) throw new Error(`${c.venue}: ${c.bad} still in the stream list`);
  if (run.data(c.bad) !== 0) throw new Error(`${c.venue}: data records for ${c.bad}`);
}
