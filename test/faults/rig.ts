/** Test rig for fault scenarios: simulator → fault proxy → engine, plus what the consumer saw. */

import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/options.js';
import type { MarketRecord, TradeRecord } from '../../src/records/types.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import { VENUE_SIMULATORS, type VenueSimulator } from '../../src/simulator/venues.js';
import type { StateChange } from '../../src/supervisor/connection-supervisor.js';
import { captureLogger } from '../helpers/engine.js';
import { type FaultProxy, startFaultProxy } from './proxy.js';

export interface Rig<S extends RigSimulator = Simulator> {
  sim: S;
  proxy: FaultProxy;
  engine: Engine;
  records: MarketRecord[];
  /** Arrival time (Date.now()) of each record, same index as `records`. */
  times: number[];
  changes: Array<StateChange & { at: number }>;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** What the rig needs of any venue simulator. */
interface RigSimulator {
  readonly wsUrl: string;
  readonly restUrl: string;
  close(): Promise<void>;
}

/** The Binance simulator → fault proxy (or direct) → engine. */
export async function startRig(
  seed: number,
  simOptions: SimulatorOptions,
  engineOptions: EngineOptions = {},
  opts: { direct?: boolean; keepRecords?: boolean } = {},
): Promise<Rig> {
  // Fault scenarios ping far faster than Binance allows (50–150 ms): its message limit is off here (test/pacing.test.ts has it).
  const sim = await startSimulator({ seed, maxClientMessagesPerSec: 0, ...simOptions });
  return attachRig(sim, 'binance', seed, engineOptions, opts);
}

/** Another native venue's simulator (see `VENUE_SIMULATORS`) → fault proxy → engine. */
export async function startVenueRig(venue: string, seed: number, rate: number, engineOptions: EngineOptions = {}): Promise<Rig<VenueSimulator>> {
  const sim = await VENUE_SIMULATORS[venue]!.start({ port: 0, seed, rate, maxClientMessagesPerSec: 0 });
  return attachRig(sim, venue, seed, engineOptions, {});
}

async function attachRig<S extends RigSimulator>(
  sim: S,
  venue: string,
  seed: number,
  engineOptions: EngineOptions,
  opts: { direct?: boolean; keepRecords?: boolean },
): Promise<Rig<S>> {
  // A TCP venue's simulator (tcp://) speaks its own protocol: the proxy passes it through raw.
  const tcp = sim.wsUrl.startsWith('tcp:');
  const proxy = await startFaultProxy({ targetPort: Number(new URL(sim.wsUrl).port), seed, raw: tcp });
  const logs: Array<Record<string, unknown>> = [];
  const endpoint = opts.direct
    ? { wsUrl: sim.wsUrl, restUrl: sim.restUrl }
    : { wsUrl: tcp ? proxy.tcpUrl : proxy.wsUrl, restUrl: proxy.restUrl };
  const engine = createEngine({
    threads: 1,
    ...engineOptions,
    logger: captureLogger(logs, 'warn'),
    venues: { [venue]: endpoint },
    backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2, ...engineOptions.backoff },
  });
  const records: MarketRecord[] = [];
  const times: number[] = [];
  if (opts.keepRecords !== false) {
    engine.onRecord((r) => {
      records.push(r);
      times.push(Date.now());
    });
  }
  const changes: Rig['changes'] = [];
  engine.on('state', (c: StateChange) => changes.push({ ...c, at: Date.now() }));
  return {
    sim,
    proxy,
    engine,
    records,
    times,
    changes,
    logs,
    async close() {
      await engine.close();
      await proxy.close();
      await sim.close();
    },
  };
}

export function trades(records: readonly MarketRecord[], symbol: string): TradeRecord[] {
  return records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
}

export function statusList(records: readonly MarketRecord[], symbol?: string): string[] {
  return records
    .filter((r) => r.type === 'status' && (symbol === undefined || r.symbol === symbol))
    .map((r) => (r.type === 'status' ? r.status : ''));
}

/** Lost / duplicated / reordered counts of a venue sequence that must increase by one. */
export function sequenceAudit(seqs: readonly number[]): { lost: number; duplicated: number; reordered: number } {
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  for (let i = 1; i < seqs.length; i++) {
    const d = seqs[i]! - seqs[i - 1]!;
    if (d > 1) lost += d - 1;
    else if (d === 0) duplicated++;
    else if (d < 0) reordered++;
  }
  return { lost, duplicated, reordered };
}

/** Whether `wanted` occurs in `list` as a subsequence (in order, gaps allowed). */
export function inOrder(list: readonly string[], wanted: readonly string[]): boolean {
  let i = 0;
  for (const s of list) if (s === wanted[i]) i++;
  return i === wanted.length;
}
