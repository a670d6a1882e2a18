/**
 * The steady, ramp, heavy-books and parsers scenarios (mixed-venues is in mixed-venues.ts). Each runs ringfeed and then every peer on the same offered load (same
 * simulator options and seed, fresh simulator per phase) and returns its report section.
 */
import { fmt, log, tableRow } from './console.js';
import type { FanoutConfig } from './fanout.js';
import type { Lab, PhaseOptions } from './lab.js';
import { HEAVY_SYMBOLS, heavyBooksLoad, MIX_CHANNELS, MIX_SYMBOLS, mixedLoad } from './load.js';
import type { MixedConfig } from './mixed-venues.js';
import { type RampPlan, type RampResult, rampSearch } from './ramp.js';
import { buildScenario } from './report.js';
import type { Measurement, Policy, ScenarioReport, TargetKind } from './types.js';

export interface BenchConfig {
  readonly quick: boolean;
  readonly peers: readonly Exclude<TargetKind, 'ringfeed'>[];
  readonly steady: { seconds: number; warmupSeconds: number; msgsPerSec: number };
  readonly ramp: { seconds: number; warmupSeconds: number; plan: RampPlan };
  readonly heavy: { seconds: number; warmupSeconds: number; diffsPerSymbolPerSec: number };
  readonly parsers: { runs: number; runMs: number };
  readonly mixed: MixedConfig;
  readonly fanout: FanoutConfig;
}

/** NATS with JetStream for the fanout scenario (RINGFEED_BENCH_NATS, else the local server). */
const BENCH_NATS = process.env.RINGFEED_BENCH_NATS ?? 'nats://127.0.0.1:4222';

export function benchConfig(quick: boolean): BenchConfig {
  return quick
    ? {
        quick,
        peers: ['naive', 'ccxt'],
        steady: { seconds: 12, warmupSeconds: 1.5, msgsPerSec: 20_000 },
        ramp: { seconds: 2.5, warmupSeconds: 1, plan: { start: 5_000, factor: 2, maxSteps: 6, bisections: 1, floor: 600 } },
        heavy: { seconds: 6, warmupSeconds: 1, diffsPerSymbolPerSec: 200 },
        parsers: { runs: 3, runMs: 40 },
        mixed: { seconds: 12, warmupSeconds: 1.5, binanceMsgsPerSec: 6_000, futuEventsPerSecurity: 400, futuPushMs: 10, ibStepsPerContract: 300 },
        fanout: { seconds: 8, warmupSeconds: 1.5, msgsPerSec: 20_000, listeners: 8, servers: BENCH_NATS },
      }
    : {
        quick,
        peers: ['naive', 'ccxt'],
        steady: { seconds: 60, warmupSeconds: 3, msgsPerSec: 20_000 },
        ramp: { seconds: 8, warmupSeconds: 2, plan: { start: 5_000, factor: 2, maxSteps: 8, bisections: 2, floor: 300 } },
        heavy: { seconds: 30, warmupSeconds: 2, diffsPerSymbolPerSec: 200 },
        parsers: { runs: 7, runMs: 150 },
        mixed: { seconds: 30, warmupSeconds: 3, binanceMsgsPerSec: 6_000, futuEventsPerSecurity: 400, futuPushMs: 10, ibStepsPerContract: 300 },
        fanout: { seconds: 30, warmupSeconds: 3, msgsPerSec: 20_000, listeners: 8, servers: BENCH_NATS },
      };
}

const MIX_SPEC = { symbols: MIX_SYMBOLS, channels: MIX_CHANNELS, candleInterval: '1m' } as const;

/** Runs one phase, prints its row; a failing peer is reported and skipped, not fatal. */
async function run(lab: Lab, kind: TargetKind, scenario: string, o: PhaseOptions, notes: string[], note = ''): Promise<Measurement | undefined> {
  try {
    const out = await lab.phase(kind, o);
    const extra = note || `sim ${out.simCpuPct.toFixed(0)}% cpu`;
    log(tableRow(scenario, kind, out.measurement, extra));
    return out.measurement;
  } catch (err) {
    const msg = `${scenario}/${kind}: ${(err as Error).message.split('\n')[0]}`;
    log(`${scenario.padEnd(16)}${kind.padEnd(9)}FAILED ${msg}`);
    notes.push(msg);
    return undefined;
  }
}

export async function steady(lab: Lab, cfg: BenchConfig, notes: string[]): Promise<ScenarioReport | undefined> {
  const c = cfg.steady;
  const o: PhaseOptions = {
    load: mixedLoad(c.msgsPerSec),
    spec: { ...MIX_SPEC, policy: 'drop' },
    seconds: c.seconds,
    warmupSeconds: c.warmupSeconds,
    label: 'steady',
  };
  const rf = await run(lab, 'ringfeed', 'steady', o, notes);
  if (!rf) return undefined;
  const peers: Array<{ name: string; measurement: Measurement }> = [];
  for (const kind of cfg.peers) {
    const m = await run(lab, kind, 'steady', o, notes);
    if (m) peers.push({ name: kind, measurement: m });
  }
  return buildScenario({
    name: 'steady',
    description: `${MIX_SYMBOLS.length} symbols × ${MIX_CHANNELS.join('/')} = ${MIX_SYMBOLS.length * MIX_CHANNELS.length} streams, ~${fmt(c.msgsPerSec)} msg/s mixed, ${c.seconds} s window, drop policy.`,
    ringfeed: rf,
    peers,
  });
}

async function rampOf(lab: Lab, cfg: BenchConfig, kind: TargetKind, policy: Policy, notes: string[]): Promise<RampResult> {
  const c = cfg.ramp;
  return rampSearch(c.plan, async (rate) => {
    const label = `ramp-${policy} ${fmt(rate)}`;
    const o: PhaseOptions = { load: mixedLoad(rate), spec: { ...MIX_SPEC, policy }, seconds: c.seconds, warmupSeconds: c.warmupSeconds, label };
    try {
      const out = await lab.phase(kind, o);
      return out.measurement;
    } catch (err) {
      notes.push(`ramp/${kind} at ${fmt(rate)}: ${(err as Error).message.split('\n')[0]}`);
      return failed(rate);
    }
  }).then((r) => {
    for (const s of r.steps) log(tableRow(`ramp-${policy} ${fmt(s.requested)}`, kind, s.measurement, s.verdict.reason));
    return r;
  });
}

/** A step whose phase could not run: counts as not sustained. */
function failed(rate: number): Measurement {
  return {
    streams: MIX_SYMBOLS.length * MIX_CHANNELS.length,
    offeredMsgsPerSec: rate,
    deliveredMsgsPerSec: 0,
    cpuUsPerMsg: Number.NaN,
    latencyUs: null,
    recvToConsumeUs: null,
    rssMb: 0,
    drops: 0,
    gaps: 0,
    tradeIdHoles: 0,
    distribution: [],
  };
}

function stepSummary(r: RampResult) {
  return r.steps.map((s) => ({
    requested: Math.round(s.requested),
    offered: Math.round(s.measurement.offeredMsgsPerSec),
    delivered: Math.round(s.measurement.deliveredMsgsPerSec),
    cpuUsPerMsg: s.measurement.cpuUsPerMsg,
    p99Us: s.measurement.latencyUs?.p99 ?? null,
    drops: s.measurement.drops,
    tradeIdHoles: s.measurement.tradeIdHoles,
    ok: s.verdict.ok,
    verdict: s.verdict.reason,
  }));
}

export async function ramp(lab: Lab, cfg: BenchConfig, notes: string[]): Promise<ScenarioReport | undefined> {
  const rf = await rampOf(lab, cfg, 'ringfeed', 'drop', notes);
  if (!rf.best) {
    notes.push('ramp: ringfeed sustained none of the steps');
    return undefined;
  }
  // Block mode: at the sustainable rate and one step above, nothing may be lost.
  const block: Array<Record<string, unknown>> = [];
  for (const rate of [rf.best.requested, rf.best.requested * cfg.ramp.plan.factor]) {
    const o: PhaseOptions = {
      load: mixedLoad(rate),
      spec: { ...MIX_SPEC, policy: 'block' },
      seconds: cfg.ramp.seconds,
      warmupSeconds: cfg.ramp.warmupSeconds,
      label: `ramp-block ${fmt(rate)}`,
    };
    const m = await run(lab, 'ringfeed', `ramp-block ${fmt(rate)}`, o, notes, '');
    if (!m) continue;
    const zeroLoss = m.tradeIdHoles === 0 && m.drops === 0;
    block.push({
      requested: Math.round(rate),
      offered: Math.round(m.offeredMsgsPerSec),
      delivered: Math.round(m.deliveredMsgsPerSec),
      p99Us: m.latencyUs?.p99 ?? null,
      drops: m.drops,
      tradeIdHoles: m.tradeIdHoles,
      zeroLoss,
    });
    log(`  block mode at ${fmt(rate)}/s: ${zeroLoss ? '0 loss (trade ids consecutive)' : `LOSS: ${m.drops} drops, ${m.tradeIdHoles} trade-id holes`}`);
  }
  const peers: Array<{ name: string; measurement: Measurement; sustainableMsgsPerSec: number | null }> = [];
  const peerSteps: Record<string, unknown> = {};
  for (const kind of cfg.peers) {
    const r = await rampOf(lab, cfg, kind, 'drop', notes);
    peerSteps[kind] = { steps: stepSummary(r), simulatorBound: r.simulatorBound, lowerBound: r.lowerBound };
    const measurement = r.best?.measurement ?? r.steps[r.steps.length - 1]?.measurement;
    if (!measurement) continue;
    peers.push({ name: kind, measurement, sustainableMsgsPerSec: r.best ? r.best.measurement.offeredMsgsPerSec : null });
  }
  const sustainable = rf.best.measurement.offeredMsgsPerSec;
  const bound = rf.simulatorBound ? ' (simulator-bound: the simulator could not offer more)' : rf.lowerBound ? ' (no step failed: a lower bound)' : '';
  log(`  ramp: ringfeed sustained ${fmt(sustainable)} msg/s${bound}`);
  return buildScenario({
    name: 'ramp',
    description: `Mixed load on ${MIX_SYMBOLS.length * MIX_CHANNELS.length} streams raised ×${cfg.ramp.plan.factor} per step (then bisected) until loss, p99 > 200 ms or delivered < 97 % of offered; drop policy, then block mode at the sustainable rate and one step above.`,
    ringfeed: rf.best.measurement,
    sustainableMsgsPerSec: sustainable,
    compareCpu: false,
    compareP99: false,
    details: {
      ringfeedSteps: stepSummary(rf),
      ringfeedSimulatorBound: rf.simulatorBound,
      ringfeedLowerBound: rf.lowerBound,
      blockMode: block,
      blockModeZeroLoss: block.length > 0 && block.every((b) => b.zeroLoss === true),
      peerSteps,
    },
    peers,
  });
}

export async function heavyBooks(lab: Lab, cfg: BenchConfig, notes: string[]): Promise<ScenarioReport | undefined> {
  const c = cfg.heavy;
  const o: PhaseOptions = {
    load: heavyBooksLoad(c.diffsPerSymbolPerSec),
    spec: { symbols: HEAVY_SYMBOLS, channels: ['book'], candleInterval: '1m', policy: 'drop' },
    seconds: c.seconds,
    warmupSeconds: c.warmupSeconds,
    label: 'heavy-books',
  };
  const rf = await run(lab, 'ringfeed', 'heavy-books', o, notes);
  if (!rf) return undefined;
  const peers: Array<{ name: string; measurement: Measurement }> = [];
  for (const kind of cfg.peers) {
    const m = await run(lab, kind, 'heavy-books', o, notes);
    if (m) peers.push({ name: kind, measurement: m });
  }
  return buildScenario({
    name: 'heavy-books',
    description: `Depth diffs only on ${HEAVY_SYMBOLS.length} symbols, ${c.diffsPerSymbolPerSec} diffs/s per symbol of ~20 changed levels (parse-bound), ${c.seconds} s window.`,
    ringfeed: rf,
    peers,
  });
}

interface ParserRow {
  message: string;
  bytes: number;
  ns: Record<string, number>;
}

/** Calls `runParserBench` from bench/parsers.ts (owned by the parser work) if it is there. */
export async function parsers(cfg: BenchConfig, notes: string[]): Promise<ScenarioReport | undefined> {
  let mod: { runParserBench?: (o: { runs: number; runMs: number }) => Promise<ParserRow[]> };
  try {
    mod = await import(new URL('./parsers.js', import.meta.url).href);
  } catch (err) {
    notes.push(`parsers: bench/parsers.ts could not be loaded: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
  if (typeof mod.runParserBench !== 'function') {
    notes.push('parsers: bench/parsers.ts does not export runParserBench');
    return undefined;
  }
  const rows = await mod.runParserBench(cfg.parsers);
  const mean = (variant: string): number => {
    const xs = rows.map((r) => r.ns[variant]).filter((x): x is number => typeof x === 'number');
    return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
  };
  // ringfeed's path is the session on its scanner; the peer is the session on JSON.parse.
  const micro = (nsPerMsg: number): Measurement => ({
    streams: 0,
    offeredMsgsPerSec: 0,
    deliveredMsgsPerSec: nsPerMsg > 0 ? 1e9 / nsPerMsg : 0,
    cpuUsPerMsg: nsPerMsg / 1000,
    latencyUs: null,
    recvToConsumeUs: null,
    rssMb: process.memoryUsage.rss() / (1024 * 1024),
    drops: 0,
    gaps: 0,
    tradeIdHoles: 0,
    distribution: [],
  });
  for (const r of rows) {
    log(`  parsers ${r.message.padEnd(10)} ${String(r.bytes).padStart(5)} B  ${Object.entries(r.ns).map(([k, v]) => `${k} ${v} ns`).join(' · ')}`);
  }
  return buildScenario({
    name: 'parsers',
    description:
      'Micro-benchmark of bench/parsers.ts (one thread, no sockets): ns per message. ringfeed = BinanceSession on its scanner, peer "json-session" = the same session on JSON.parse; cpuUsPerMsg is the mean over trade, aggTrade, bookTicker and depth20.',
    ringfeed: micro(mean('session (scanner)')),
    peers: [{ name: 'json-session', measurement: micro(mean('session (JSON.parse)')) }],
    compareP99: false,
    details: { parserRows: rows },
  });
}
