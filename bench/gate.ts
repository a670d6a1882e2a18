/**
 * The perf-regression gate: ringfeed's advantage over the naive peer, measured in the same run,
 * must not fall more than a tolerance below the committed baseline's. Comparing same-run ratios
 * (not absolute µs) keeps the gate meaningful on CI machines of any speed. Pure.
 */
import type { PeerReport, Ratios, Report } from './types.js';

export interface GateCheck {
  readonly scenario: string;
  readonly metric: keyof Ratios;
  /** ringfeed's advantage (higher is better): peer÷ringfeed for CPU and P99, ringfeed÷peer for rate. */
  readonly baseline: number | null;
  readonly current: number | null;
  /** Lowest acceptable current advantage. */
  readonly floor: number | null;
  readonly ok: boolean;
  readonly note: string;
}

export interface GateResult {
  readonly ok: boolean;
  readonly checks: GateCheck[];
}

export interface GateRule {
  readonly scenario: string;
  readonly metric: keyof Ratios;
  /** Allowed relative loss of advantage, e.g. 0.25 = may be 25 % worse than the baseline. */
  readonly tolerance: number;
}

/**
 * The gated ratios and their tolerances (see bench/README.md, "Perf gate"). CPU per message is
 * steady within ~10 % run to run even on a busy machine. The ramp's sustainable rate is reported
 * but not gated: on 2 cores the simulator shares the CPU and caps both targets near the same step
 * (baseline 1.01x, a later run 0.71x with no code change). P99 is reported but not gated: on a
 * shared 2-core runner the tail is dominated by the scheduler.
 */
export const GATE_RULES: readonly GateRule[] = [
  { scenario: 'steady', metric: 'cpuUsPerMsg', tolerance: 0.25 },
  { scenario: 'heavy-books', metric: 'cpuUsPerMsg', tolerance: 0.25 },
];

export const GATE_PEER = 'naive';

/** Turns a ringfeed÷peer ratio into an advantage where higher is better. */
export function advantage(metric: keyof Ratios, ratio: number | null | undefined): number | null {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio) || ratio <= 0) return null;
  return metric === 'sustainableRate' ? ratio : 1 / ratio;
}

function peerOf(report: Report, scenario: string, peer: string): PeerReport | undefined {
  return report.scenarios.find((s) => s.name === scenario)?.peers.find((p) => p.name === peer);
}

export function gate(baseline: Report, current: Report, rules: readonly GateRule[] = GATE_RULES, peer = GATE_PEER): GateResult {
  const checks: GateCheck[] = rules.map((rule) => {
    const b = advantage(rule.metric, peerOf(baseline, rule.scenario, peer)?.ratioVsRingfeed[rule.metric]);
    const c = advantage(rule.metric, peerOf(current, rule.scenario, peer)?.ratioVsRingfeed[rule.metric]);
    if (b === null) {
      return { scenario: rule.scenario, metric: rule.metric, baseline: b, current: c, floor: null, ok: true, note: 'no baseline value: skipped' };
    }
    const floor = b * (1 - rule.tolerance);
    if (c === null) {
      return { scenario: rule.scenario, metric: rule.metric, baseline: b, current: c, floor, ok: false, note: 'not measured in this run' };
    }
    const ok = c >= floor;
    const note = ok ? 'ok' : `advantage fell ${(((b - c) / b) * 100).toFixed(0)} % (tolerance ${(rule.tolerance * 100).toFixed(0)} %)`;
    return { scenario: rule.scenario, metric: rule.metric, baseline: b, current: c, floor, ok, note };
  });
  return { ok: checks.every((c) => c.ok), checks };
}

export function formatGate(result: GateResult): string {
  const f = (n: number | null): string => (n === null ? '-' : `${n.toFixed(2)}x`);
  const lines = result.checks.map(
    (c) => `  ${c.ok ? 'PASS' : 'FAIL'}  ${c.scenario.padEnd(12)} ${c.metric.padEnd(16)} baseline ${f(c.baseline).padEnd(8)} now ${f(c.current).padEnd(8)} floor ${f(c.floor).padEnd(8)} ${c.note}`,
  );
  return [`perf gate vs ${GATE_PEER} peer (advantage = how many times better ringfeed is):`, ...lines, result.ok ? 'perf gate: PASS' : 'perf gate: FAIL'].join('\n');
}
