/**
 * The `mixed-venues` scenario: one ringfeed engine holding Binance, Futu (OpenD) and IB (TWS)
 * streams at once, each venue's simulator in its own process, the engine in another. Reports the
 * engine's totals and, per venue, messages, recv→consume latency, venue-time→consume latency where
 * the venue's times are usable, and the CPU of the venue's worker thread. ringfeed only: the peers
 * (naive, ccxt) speak neither OpenD's protocol nor TWS's.
 */
import { fmt, log, progress, tableRow } from './console.js';
import { Child } from './ipc.js';
import { toMeasurement } from './lab.js';
import { mixedLoad } from './load.js';
import { buildScenario } from './report.js';
import type { VenueStart } from './sim-host.js';
import type { Channel, LatencyUs, Measurement, MixedResult, MixedSpec, MixedVenue, ScenarioReport, VenueResult } from './types.js';

export interface MixedConfig {
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Binance: the steady mix's load (trades, touch quotes, depth diffs) scaled to this total. */
  readonly binanceMsgsPerSec: number;
  /** Futu: market events per second per security, pushed every `futuPushMs`. */
  readonly futuEventsPerSecurity: number;
  readonly futuPushMs: number;
  /** IB: market steps per second per contract (each: tick-by-tick bid/ask, depth ops, sometimes a trade). */
  readonly ibStepsPerContract: number;
}

export const MIXED_CHANNELS: readonly Channel[] = ['trades', 'quotes', 'book'];

export const MIXED_SYMBOLS: Readonly<Record<MixedVenue, readonly string[]>> = {
  binance: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'],
  futu: ['HK.00700', 'US.AAPL', 'SH.600519'],
  ib: ['AAPL', 'MSFT', 'SPY'],
};

const VENUES: readonly MixedVenue[] = ['binance', 'futu', 'ib'];

function simStart(venue: MixedVenue, c: MixedConfig): VenueStart {
  switch (venue) {
    case 'binance':
      return { venue, options: mixedLoad(c.binanceMsgsPerSec, MIXED_SYMBOLS.binance, 7) };
    case 'futu':
      return { venue, options: { seed: 5, ratePerSecurity: c.futuEventsPerSecurity, pushIntervalMs: c.futuPushMs } };
    case 'ib':
      return { venue, options: { seed: 6, rate: c.ibStepsPerContract } };
  }
}

type SimStats = { framesSent: number | null; framesDropped: number; cpuUs: number };

/** A venue simulator's figures over the window. */
export interface SimFigures {
  /** Frames sent per second (null: the simulator does not count them). */
  readonly framesPerSec: number | null;
  /** Frames it could not send (backpressure), counted as drops. */
  readonly framesDropped?: number;
  /** Process CPU, % of one core. */
  readonly cpuPct: number;
}

/** Per venue in the report's `details.venues`. */
export interface VenueRow {
  readonly venue: MixedVenue;
  readonly symbols: readonly string[];
  readonly streams: number;
  /** Frames the venue's simulator sent per second (Futu: packets; IB's simulator counts none: null). */
  readonly offeredMsgsPerSec: number | null;
  readonly deliveredMsgsPerSec: number;
  readonly recvToConsumeUs: LatencyUs | null;
  readonly exchangeToConsumeUs: LatencyUs | null;
  /** Why exchange→consume is null, or what it carries. */
  readonly exchangeTime: string;
  /** CPU of the venue's worker thread ÷ its messages, µs (null: not attributed). */
  readonly workerCpuUsPerMsg: number | null;
  /** Event-loop busy time of the venue's worker ÷ its messages, µs (null: not attributed). */
  readonly workerBusyUsPerMsg: number | null;
  /** The venue simulator's process CPU, % of one core. */
  readonly simCpuPct: number;
  readonly tradeIdHoles: number;
  readonly dropped: number;
  readonly resyncs: number;
  readonly reconnects: number;
  readonly badMessages: number;
  readonly recvDistribution: ReadonlyArray<readonly [number, number]>;
}

/** What each venue's time is, for the exchange→consume figure. */
const VENUE_TIME: Record<MixedVenue, string> = {
  binance: 'Binance E (ms) → consume; bookTicker quotes carry no E and are not in it',
  futu: 'Futu ticker / order-book time (ms) → consume; includes up to futuPushMs of the simulator batching events into pushes',
  ib: 'IB tick-by-tick time → consume',
};

function exchangeTimeNote(v: VenueResult): string {
  if (v.wholeSecondShare === null) return 'no venue time on these records';
  if (v.exchangeToConsumeUs === null) return `venue times are whole seconds (${(v.wholeSecondShare * 100).toFixed(0)} % of stamped records): not usable`;
  return VENUE_TIME[v.venue];
}

const perMsg = (us: number | null, messages: number): number | null => (us === null || messages <= 0 ? null : us / messages);

/** Pure: the target's result and the simulators' counters → the scenario report (tested in test/bench.test.ts). */
export function buildMixedScenario(
  c: MixedConfig,
  result: MixedResult,
  sims: Readonly<Record<MixedVenue, SimFigures>>,
): ScenarioReport {
  const rows: VenueRow[] = result.venues.map((v) => ({
    venue: v.venue,
    symbols: MIXED_SYMBOLS[v.venue],
    streams: MIXED_SYMBOLS[v.venue].length * MIXED_CHANNELS.length,
    offeredMsgsPerSec: sims[v.venue].framesPerSec,
    deliveredMsgsPerSec: result.total.seconds > 0 ? v.messages / result.total.seconds : 0,
    recvToConsumeUs: v.recvToConsumeUs,
    exchangeToConsumeUs: v.exchangeToConsumeUs,
    exchangeTime: exchangeTimeNote(v),
    workerCpuUsPerMsg: perMsg(v.workerCpuUs, v.messages),
    workerBusyUsPerMsg: perMsg(v.workerBusyUs, v.messages),
    simCpuPct: sims[v.venue].cpuPct,
    tradeIdHoles: v.tradeIdHoles,
    dropped: v.dropped,
    resyncs: v.resyncs,
    reconnects: v.reconnects,
    badMessages: v.badMessages,
    recvDistribution: v.recvDistribution,
  }));
  const streams = rows.reduce((n, r) => n + r.streams, 0);
  const counted = rows.every((r) => r.offeredMsgsPerSec !== null);
  const offered = counted ? rows.reduce((n, r) => n + (r.offeredMsgsPerSec ?? 0), 0) : Number.NaN;
  const simDropped = VENUES.reduce((n, v) => n + (sims[v].framesDropped ?? 0), 0);
  const base = toMeasurement(result.total, streams, offered, simDropped);
  // The engine's one exchange→consume histogram mixes venues whose times are not comparable
  // (IB's whole seconds): the scenario's `latencyUs` is null; per-venue figures are in details.
  const ringfeed: Measurement = { ...base, latencyUs: null };
  const workerCpu = rows.every((r) => r.workerCpuUsPerMsg !== null);
  return buildScenario({
    name: 'mixed-venues',
    description:
      `One ringfeed engine holding ${VENUES.map((v) => `${v} (${MIXED_SYMBOLS[v].join(', ')})`).join(', ')} at once, ` +
      `${MIXED_CHANNELS.join('/')} on each = ${streams} streams, one worker thread per venue, each simulator in its own process; ${c.seconds} s window, drop policy. ` +
      'ringfeed only: the naive and ccxt peers speak neither OpenD nor TWS. Top-level latency is null (venue times are not comparable across venues: IB stamps whole seconds); ' +
      'recv→consume is over all venues, per-venue latency and worker CPU are in details.venues' +
      (counted ? '.' : '; offered/s is null because the IB simulator does not count what it sends.') +
      (workerCpu ? '' : ` Worker CPU attribution: ${result.attribution}.`),
    ringfeed,
    peers: [],
    compareCpu: false,
    compareP99: false,
    details: {
      venues: rows,
      threads: result.threads,
      mainThreadCpuUsPerMsg: perMsg(result.mainThreadCpuUs, result.total.messages),
      attribution: result.attribution,
      integrityErrors: result.total.extra.integrityErrors ?? 0,
      config: c,
    },
  });
}

/** Runs the scenario: three simulator processes, one engine process, one window. */
export async function mixedVenues(c: MixedConfig, notes: string[]): Promise<ScenarioReport | undefined> {
  const sims = Object.fromEntries(VENUES.map((v) => [v, Child.fork(`simulator ${v}`, new URL('./sim-host.js', import.meta.url))])) as Record<MixedVenue, Child>;
  const target = Child.fork('ringfeed-mixed', new URL('./target-host.js', import.meta.url), ['ringfeed-mixed']);
  try {
    const urls = {} as Record<MixedVenue, { wsUrl: string; restUrl: string }>;
    for (const v of VENUES) urls[v] = await sims[v].call('startVenue', simStart(v, c));
    const spec: MixedSpec = {
      policy: 'drop',
      channels: MIXED_CHANNELS,
      venues: VENUES.map((v) => ({ venue: v, ...urls[v], symbols: MIXED_SYMBOLS[v] })),
    };
    await target.call('start', spec, 90_000);
    await new Promise((r) => setTimeout(r, c.warmupSeconds * 1000));
    const s0 = await Promise.all(VENUES.map((v) => sims[v].call<SimStats>('stats')));
    const t0 = performance.now();
    await target.call('mark');
    await progress('mixed-venues ringfeed', c.seconds * 1000);
    const s1 = await Promise.all(VENUES.map((v) => sims[v].call<SimStats>('stats')));
    const elapsed = (performance.now() - t0) / 1000;
    const result = await target.call<MixedResult>('finish', undefined, 30_000);
    const simFigures = Object.fromEntries(
      VENUES.map((v, i) => {
        const a = s0[i]!;
        const b = s1[i]!;
        const framesPerSec = a.framesSent === null || b.framesSent === null ? null : (b.framesSent - a.framesSent) / elapsed;
        const framesDropped = b.framesDropped - a.framesDropped;
        if (framesDropped > 0) notes.push(`mixed-venues: the ${v} simulator could not send ${framesDropped} frames`);
        return [v, { framesPerSec, framesDropped, cpuPct: ((b.cpuUs - a.cpuUs) / 1e6 / elapsed) * 100 }];
      }),
    ) as Record<MixedVenue, SimFigures>;
    const report = buildMixedScenario(c, result, simFigures);
    const simCpu = VENUES.map((v) => simFigures[v].cpuPct).reduce((a, b) => a + b, 0);
    const mainCpu = report.details.mainThreadCpuUsPerMsg as number | null;
    log(tableRow('mixed-venues', 'ringfeed', report, `all venues; main thread ${fmt(mainCpu, 2)} µs/msg; sims ${simCpu.toFixed(0)}% cpu`));
    for (const r of report.details.venues as VenueRow[]) {
      const lat = (l: LatencyUs | null) => (l ? `${fmt(l.p50)}/${fmt(l.p99)}` : '-');
      log(
        `  ${r.venue.padEnd(8)} ${fmt(r.deliveredMsgsPerSec).padStart(6)} msg/s (offered ${fmt(r.offeredMsgsPerSec)})  recv→consume p50/p99 ${lat(r.recvToConsumeUs)} µs  ` +
          `venue→consume ${lat(r.exchangeToConsumeUs)} µs  worker cpu ${fmt(r.workerCpuUsPerMsg, 2)} µs/msg (busy ${fmt(r.workerBusyUsPerMsg, 2)})  ` +
          `sim ${r.simCpuPct.toFixed(0)}%  holes ${r.tradeIdHoles} drops ${r.dropped} resyncs ${r.resyncs}`,
      );
    }
    if (!report.details.venues || (report.details.venues as VenueRow[]).some((r) => r.workerCpuUsPerMsg === null)) {
      notes.push(`mixed-venues: ${result.attribution}`);
    }
    return report;
  } catch (err) {
    const msg = `mixed-venues/ringfeed: ${(err as Error).message.split('\n')[0]}`;
    log(`${'mixed-venues'.padEnd(16)}${'ringfeed'.padEnd(9)}FAILED ${msg}`);
    notes.push(msg);
    return undefined;
  } finally {
    await target.close();
    await Promise.all(VENUES.map((v) => sims[v].call('stop').catch(() => undefined)));
    await Promise.all(VENUES.map((v) => sims[v].close()));
  }
}
