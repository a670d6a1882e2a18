import { describe, expect, it } from 'vitest';
import { buildFanoutScenario, type FanoutConfig, type ListenerRow } from '../bench/fanout.js';
import { advantage, GATE_RULES, gate } from '../bench/gate.js';
import { buildHtml, percentileX } from '../bench/html.js';
import { buildMixedScenario, type MixedConfig, type VenueRow } from '../bench/mixed-venues.js';
import { judgeStep, nextRate, type RampPlan, type RampStep } from '../bench/ramp.js';
import { buildReport, buildScenario, ratiosVsRingfeed, reportFileName, validateReport } from '../bench/report.js';
import type { Measurement, MixedResult, Report, VenueResult } from '../bench/types.js';

function m(over: Partial<Measurement> = {}): Measurement {
  return {
    streams: 24,
    offeredMsgsPerSec: 20_000,
    deliveredMsgsPerSec: 20_000,
    cpuUsPerMsg: 4,
    latencyUs: { p50: 500, p95: 800, p99: 1000, p999: 2000, max: 5000 },
    recvToConsumeUs: { p50: 50, p95: 80, p99: 100, p999: 200, max: 500 },
    rssMb: 100,
    drops: 0,
    gaps: 0,
    tradeIdHoles: 0,
    distribution: [
      [0, 100],
      [50, 500],
      [99, 1000],
      [99.9, 2000],
      [100, 5000],
    ],
    ...over,
  };
}

/** A report where ringfeed's CPU is `cpu` µs/msg against a naive peer at 8 µs/msg. */
function report(cpu: number, rate = 80_000): Report {
  const steady = buildScenario({ name: 'steady', description: '', ringfeed: m({ cpuUsPerMsg: cpu }), peers: [{ name: 'naive', measurement: m({ cpuUsPerMsg: 8 }) }] });
  const heavy = buildScenario({ name: 'heavy-books', description: '', ringfeed: m({ cpuUsPerMsg: cpu }), peers: [{ name: 'naive', measurement: m({ cpuUsPerMsg: 8 }) }] });
  const ramp = buildScenario({
    name: 'ramp',
    description: '',
    ringfeed: m(),
    sustainableMsgsPerSec: rate,
    compareCpu: false,
    compareP99: false,
    peers: [{ name: 'naive', measurement: m(), sustainableMsgsPerSec: 40_000 }],
  });
  return buildReport(
    { createdAt: new Date('2025-01-31T12:00:00Z'), commit: 'abc1234', commitDirty: false, node: 'v20.0.0', cpus: 2, cpuModel: 'x', quick: true },
    [steady, ramp, heavy],
  );
}

describe('report', () => {
  it('builds the documented schema with ratios ringfeed ÷ peer', () => {
    const r = report(4);
    expect(validateReport(r)).toEqual([]);
    expect(r.scenarios.map((s) => s.name)).toEqual(['steady', 'ramp', 'heavy-books']);
    const steady = r.scenarios[0]!;
    expect(steady.peers[0]!.ratioVsRingfeed).toEqual({ cpuUsPerMsg: 0.5, sustainableRate: null, p99: 1 });
    const ramp = r.scenarios[1]!;
    expect(ramp.sustainableMsgsPerSec).toBe(80_000);
    expect(ramp.peers[0]!.ratioVsRingfeed).toEqual({ cpuUsPerMsg: null, sustainableRate: 2, p99: null });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('gives null ratios instead of NaN or Infinity', () => {
    const r = ratiosVsRingfeed({ ...m({ cpuUsPerMsg: Number.NaN }), sustainableMsgsPerSec: null }, { ...m({ latencyUs: null }), sustainableMsgsPerSec: 0 });
    expect(r).toEqual({ cpuUsPerMsg: null, sustainableRate: null, p99: null });
  });

  it('names report files by UTC date and short sha', () => {
    expect(reportFileName(new Date('2025-01-31T23:59:59Z'), 'abc1234')).toBe('2025-01-31-abc1234.json');
  });

  it('rejects documents that are not reports', () => {
    expect(validateReport({ commit: 'x' }).length).toBeGreaterThan(0);
    const broken = JSON.parse(JSON.stringify(report(4)));
    delete broken.scenarios[0].latencyUs.p99;
    expect(validateReport(broken)).toContain('scenarios[0].latencyUs.p99 must be a number');
  });
});

describe('perf gate', () => {
  it('passes within tolerance and fails beyond it', () => {
    const baseline = report(4); // 2x cheaper than naive
    expect(gate(baseline, report(4.4)).ok).toBe(true); // advantage 1.82x, floor 1.5x
    const worse = gate(baseline, report(6)); // advantage 1.33x
    expect(worse.ok).toBe(false);
    expect(worse.checks.filter((c) => !c.ok).map((c) => c.scenario)).toEqual(['steady', 'heavy-books']);
  });

  it('can gate the sustainable rate ratio (reported only by default on 2 cores)', () => {
    expect(GATE_RULES.some((r) => r.metric === 'sustainableRate')).toBe(false);
    const rule = { scenario: 'ramp', metric: 'sustainableRate', tolerance: 0.35 } as const;
    const result = gate(report(4, 80_000), report(4, 40_000), [rule]);
    const rate = result.checks.find((c) => c.metric === 'sustainableRate')!;
    expect(rate.baseline).toBe(2);
    expect(rate.current).toBe(1);
    expect(rate.ok).toBe(false);
  });

  it('fails when a gated scenario is missing from the run, skips when the baseline lacks it', () => {
    const partial = { ...report(4), scenarios: report(4).scenarios.filter((s) => s.name !== 'heavy-books') };
    expect(gate(report(4), partial).ok).toBe(false);
    expect(gate(partial, report(4)).checks.find((c) => c.scenario === 'heavy-books')!.note).toMatch(/skipped/);
  });

  it('turns ratios into advantages where higher is better', () => {
    expect(advantage('cpuUsPerMsg', 0.5)).toBe(2);
    expect(advantage('p99', 0.25)).toBe(4);
    expect(advantage('sustainableRate', 3)).toBe(3);
    expect(advantage('cpuUsPerMsg', null)).toBeNull();
    expect(GATE_RULES.every((r) => r.tolerance > 0 && r.tolerance < 1)).toBe(true);
  });
});

describe('ramp', () => {
  const plan: RampPlan = { start: 5000, factor: 2, maxSteps: 6, bisections: 1, floor: 1000 };
  const step = (requested: number, ok: boolean, simulatorBound = false): RampStep => ({
    requested,
    measurement: m(),
    verdict: { ok, simulatorBound, reason: '' },
  });

  it('judges loss, latency and falling behind', () => {
    expect(judgeStep(m(), 20_000).ok).toBe(true);
    expect(judgeStep(m({ drops: 3 }), 20_000).ok).toBe(false);
    expect(judgeStep(m({ tradeIdHoles: 1 }), 20_000).ok).toBe(false);
    expect(judgeStep(m({ latencyUs: { p50: 1, p95: 1, p99: 250_000, p999: 1, max: 1 } }), 20_000).reason).toMatch(/p99 250 ms/);
    expect(judgeStep(m({ deliveredMsgsPerSec: 15_000 }), 20_000).ok).toBe(false);
    expect(judgeStep(m({ offeredMsgsPerSec: 10_000, deliveredMsgsPerSec: 10_000 }), 20_000).simulatorBound).toBe(true);
  });

  it('climbs, then bisects once between the last pass and the first failure', () => {
    expect(nextRate(plan, [])).toBe(5000);
    expect(nextRate(plan, [step(5000, true)])).toBe(10_000);
    const s = [step(5000, true), step(10_000, true), step(20_000, false)];
    expect(nextRate(plan, s)).toBeCloseTo(Math.sqrt(10_000 * 20_000));
    expect(nextRate(plan, [...s, step(14_142, true)])).toBeUndefined();
  });

  it('steps down when the first rate already fails, and stops when the simulator is the limit', () => {
    expect(nextRate(plan, [step(5000, false)])).toBe(2500);
    expect(nextRate(plan, [step(5000, false), step(2500, false), step(1250, false)])).toBeUndefined();
    expect(nextRate(plan, [step(5000, true), step(10_000, true, true)])).toBeUndefined();
  });
});

describe('html', () => {
  it('is self-contained with one SVG plot per scenario and a table row per target', () => {
    const html = buildHtml(report(4));
    expect(html.match(/<section>/g)).toHaveLength(3);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html.match(/<polyline /g)).toHaveLength(6);
    expect(html.match(/<tr>/g)!.length).toBe(6 + 1);
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('draws bars for the parser scenario and escapes text', () => {
    const parsers = buildScenario({
      name: 'parsers',
      description: 'a <b> & c',
      ringfeed: m({ latencyUs: null, distribution: [] }),
      peers: [],
      details: { parserRows: [{ message: 'trade', bytes: 150, ns: { scanner: 900, 'JSON.parse': 1300 } }] },
    });
    const html = buildHtml({ ...report(4), scenarios: [parsers] });
    expect(html).toContain('a &lt;b&gt; &amp; c');
    expect(html).toContain('900 ns');
    expect(html.match(/<svg /g)).toHaveLength(1);
  });

  it('maps percentiles to log10(1/(1-p)) with the max at the right edge', () => {
    expect(percentileX(0)).toBe(0);
    expect(percentileX(90)).toBeCloseTo(1);
    expect(percentileX(99.9)).toBeCloseTo(3);
    expect(percentileX(100)).toBe(5);
  });
});

describe('ramp search', () => {
  it('reports a lower bound only when no step failed', async () => {
    const { rampSearch } = await import('../bench/ramp.js');
    const plan: RampPlan = { start: 10_000, factor: 2, maxSteps: 3, bisections: 1, floor: 1000 };
    const at = (limit: number) => async (rate: number) => m({ offeredMsgsPerSec: rate, deliveredMsgsPerSec: rate, drops: rate > limit ? 1 : 0 });
    const capped = await rampSearch(plan, at(1e9));
    expect(capped.steps.map((s) => s.requested)).toEqual([10_000, 20_000, 40_000]);
    expect(capped.lowerBound).toBe(true);
    const found = await rampSearch(plan, at(30_000));
    expect(found.lowerBound).toBe(false);
    expect(found.best!.requested).toBeCloseTo(Math.sqrt(20_000 * 40_000));
  });
});

describe('mixed-venues report', () => {
  const config: MixedConfig = { seconds: 10, warmupSeconds: 1, binanceMsgsPerSec: 6000, futuEventsPerSecurity: 400, futuPushMs: 10, ibStepsPerContract: 300 };
  const lat = { p50: 80, p95: 200, p99: 1000, p999: 3000, max: 5000 };
  const venue = (v: VenueResult['venue'], over: Partial<VenueResult> = {}): VenueResult => ({
    venue: v,
    messages: 10_000,
    recvToConsumeUs: lat,
    exchangeToConsumeUs: lat,
    wholeSecondShare: 0.001,
    recvDistribution: m().distribution,
    tradeIdHoles: 0,
    connections: 1,
    dropped: 0,
    resyncs: 0,
    reconnects: 0,
    badMessages: 0,
    workerBusyUs: 120_000,
    workerCpuUs: 100_000,
    ...over,
  });
  const result = (venues: VenueResult[], attribution = 'ok'): MixedResult => ({
    total: {
      messages: 30_000,
      seconds: 10,
      cpuUs: 600_000,
      rssMb: 150,
      drops: 0,
      gaps: 0,
      tradeIdHoles: 0,
      latencyUs: lat,
      recvToConsumeUs: lat,
      distribution: m().distribution,
      levelsPerBookMsg: 0,
      extra: { integrityErrors: 0 },
    },
    venues,
    mainThreadCpuUs: 240_000,
    attribution,
    threads: 3,
  });
  const sims = { binance: { framesPerSec: 1000, cpuPct: 10 }, futu: { framesPerSec: 500, cpuPct: 5 }, ib: { framesPerSec: null, cpuPct: 5 } };

  it('reports per-venue rate, latency and worker CPU; no top-level venue-time latency; IB whole seconds are not usable', () => {
    const ib = venue('ib', { exchangeToConsumeUs: null, wholeSecondShare: 1 });
    const s = buildMixedScenario(config, result([venue('binance'), venue('futu'), ib]), sims);
    const r = buildReport({ createdAt: new Date('2026-12-03T00:00:00Z'), commit: 'abc1234', commitDirty: false, node: 'v20', cpus: 2, cpuModel: 'x', quick: true }, [s]);
    expect(validateReport(JSON.parse(JSON.stringify(r)))).toEqual([]);
    expect(s).toMatchObject({ name: 'mixed-venues', streams: 27, deliveredMsgsPerSec: 3000, cpuUsPerMsg: 20, latencyUs: null, peers: [] });
    expect(s.recvToConsumeUs).toEqual(lat);
    expect(JSON.parse(JSON.stringify(s)).offeredMsgsPerSec).toBeNull(); // IB's simulator counts nothing it sends
    expect(s.description).toMatch(/ringfeed only/);
    expect(s.details.mainThreadCpuUsPerMsg).toBe(8);
    const rows = s.details.venues as VenueRow[];
    expect(rows.map((v) => [v.venue, v.deliveredMsgsPerSec, v.workerCpuUsPerMsg, v.workerBusyUsPerMsg, v.offeredMsgsPerSec])).toEqual([
      ['binance', 1000, 10, 12, 1000],
      ['futu', 1000, 10, 12, 500],
      ['ib', 1000, 10, 12, null],
    ]);
    expect(rows[2]!.exchangeTime).toMatch(/whole seconds .*not usable/);
    expect(gate(r, r).checks.some((c) => c.scenario === 'mixed-venues')).toBe(false);

    const html = buildHtml(r);
    expect(html).toContain('recv → consume latency per venue');
    expect(html.match(/<polyline /g)).toHaveLength(3);
    expect(html).toMatch(/<td>ib<\/td><td>9<\/td><td>-<\/td>/);
  });

  it('says why worker CPU could not be attributed', () => {
    const s = buildMixedScenario(config, result(['binance', 'futu', 'ib'].map((v) => venue(v as VenueResult['venue'], { workerCpuUs: null })), 'no /proc/self/task'), sims);
    expect((s.details.venues as VenueRow[]).every((v) => v.workerCpuUsPerMsg === null && v.workerBusyUsPerMsg === 12)).toBe(true);
    expect(s.description).toMatch(/Worker CPU attribution: no \/proc\/self\/task/);
  });
});

describe('fanout report', () => {
  const config: FanoutConfig = { seconds: 10, warmupSeconds: 1, msgsPerSec: 20_000, listeners: 2, servers: 'nats://127.0.0.1:4222' };
  const lat = (p99: number) => ({ p50: 500, p95: 900, p99, p999: p99 * 2, max: p99 * 3 });
  const pub = { seconds: 10, cpuUs: 3_000_000, rssMb: 140, consumed: 200_000, ackedInWindow: 199_000, recordsTotal: 260_000, ackedTotal: 260_000, dropped: 0, batches: 20_000, recordsPerBatch: 13 };
  const listener = (records: number, total: number, p99: number) => ({
    window: { seconds: 10, cpuUs: 900_000, rssMb: 90, recordsInWindow: records, latencyUs: lat(p99) },
    drain: { recordsTotal: total, gaps: 0 },
  });

  it('reports per-listener rate and CPU, publisher CPU per record, the worst listener latency and loss against what JetStream acknowledged', () => {
    const s = buildFanoutScenario(config, 20_100, pub, [listener(200_000, 260_000, 1500), listener(199_000, 259_990, 2500)]);
    const r = buildReport({ createdAt: new Date('2026-12-03T00:00:00Z'), commit: 'abc1234', commitDirty: false, node: 'v20', cpus: 2, cpuModel: 'x', quick: true }, [s]);
    expect(validateReport(JSON.parse(JSON.stringify(r)))).toEqual([]);
    expect(s).toMatchObject({ name: 'fanout', deliveredMsgsPerSec: 20_000, cpuUsPerMsg: 15, offeredMsgsPerSec: 20_100, peers: [] });
    expect(s.latencyUs!.p99).toBe(2500);
    expect(s.drops).toBe(10);
    expect(s.details.lost).toBe(10);
    const rows = s.details.listeners as ListenerRow[];
    expect(rows.map((l) => [l.deliveredRecordsPerSec, l.cpuUsPerRecord, l.lost])).toEqual([
      [20_000, 4.5, 0],
      [19_900, 900_000 / 199_000, 10],
    ]);
    expect(gate(r, r).checks.some((c) => c.scenario === 'fanout')).toBe(false);
    expect(buildHtml(r)).toContain('fanout');
  });
});
