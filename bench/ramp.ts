/** Ramp search: raise the offered load until a target stops keeping up. The decision logic is pure. */
import type { Measurement } from './types.js';

/** P99 exchange→consume above this means the target fell behind. */
export const RAMP_P99_LIMIT_US = 200_000;
/** Delivered below this share of offered means messages are piling up or being lost. */
export const RAMP_MIN_DELIVERED_SHARE = 0.97;
/** The simulator reached less than this share of the requested rate: it is the bottleneck. */
export const RAMP_SIM_SHARE = 0.85;

export interface StepVerdict {
  readonly ok: boolean;
  /** The simulator could not offer the requested rate: going higher measures the simulator. */
  readonly simulatorBound: boolean;
  readonly reason: string;
}

export function judgeStep(m: Measurement, requested: number): StepVerdict {
  const simulatorBound = m.offeredMsgsPerSec < requested * RAMP_SIM_SHARE;
  const reasons: string[] = [];
  if (m.drops > 0) reasons.push(`${m.drops} dropped`);
  if (m.tradeIdHoles > 0) reasons.push(`${m.tradeIdHoles} trade-id holes`);
  const p99 = m.latencyUs?.p99 ?? Number.POSITIVE_INFINITY;
  if (p99 > RAMP_P99_LIMIT_US) reasons.push(`p99 ${(p99 / 1000).toFixed(0)} ms`);
  if (m.deliveredMsgsPerSec < m.offeredMsgsPerSec * RAMP_MIN_DELIVERED_SHARE) {
    reasons.push(`delivered ${((m.deliveredMsgsPerSec / m.offeredMsgsPerSec) * 100).toFixed(0)} % of offered`);
  }
  const ok = reasons.length === 0;
  return { ok, simulatorBound, reason: ok ? (simulatorBound ? 'ok (simulator-bound)' : 'ok') : reasons.join(', ') };
}

export interface RampPlan {
  readonly start: number;
  readonly factor: number;
  readonly maxSteps: number;
  /** Geometric bisections between the last good and the first bad rate. */
  readonly bisections: number;
  /** Lowest rate tried when the first step already fails. */
  readonly floor: number;
}

export interface RampStep {
  readonly requested: number;
  readonly measurement: Measurement;
  readonly verdict: StepVerdict;
}

export interface RampResult {
  readonly steps: RampStep[];
  /** Best passing step (its measured offered rate is the sustainable rate), if any. */
  readonly best: RampStep | undefined;
  /** The search stopped because the simulator, not the target, was the limit. */
  readonly simulatorBound: boolean;
  /** No step failed (step limit or simulator reached first): the sustainable rate is a lower bound. */
  readonly lowerBound: boolean;
}

/** Next rate to try given the steps so far, or undefined when the search is over. */
export function nextRate(plan: RampPlan, steps: readonly RampStep[]): number | undefined {
  if (steps.length === 0) return plan.start;
  if (steps.length >= plan.maxSteps + plan.bisections) return undefined;
  const passed = steps.filter((s) => s.verdict.ok);
  const failed = steps.filter((s) => !s.verdict.ok);
  const last = steps[steps.length - 1]!;
  if (last.verdict.ok && last.verdict.simulatorBound) return undefined;
  const bestOk = passed.length > 0 ? Math.max(...passed.map((s) => s.requested)) : undefined;
  const firstBad = failed.length > 0 ? Math.min(...failed.map((s) => s.requested)) : undefined;
  if (firstBad === undefined) return steps.length < plan.maxSteps ? last.requested * plan.factor : undefined;
  if (bestOk === undefined) {
    const down = firstBad / plan.factor;
    return down >= plan.floor && steps.length < plan.maxSteps ? down : undefined;
  }
  // Index at which the steps first held both a pass and a failure: later steps are bisections.
  let boundary = 0;
  let sawOk = false;
  let sawBad = false;
  for (; boundary < steps.length; boundary++) {
    if (steps[boundary]!.verdict.ok) sawOk = true;
    else sawBad = true;
    if (sawOk && sawBad) break;
  }
  if (steps.length - 1 - boundary >= plan.bisections) return undefined;
  const mid = Math.sqrt(bestOk * firstBad);
  return mid / bestOk < 1.05 ? undefined : mid;
}

export async function rampSearch(plan: RampPlan, measureAt: (rate: number) => Promise<Measurement>): Promise<RampResult> {
  const steps: RampStep[] = [];
  for (let rate = nextRate(plan, steps); rate !== undefined; rate = nextRate(plan, steps)) {
    const measurement = await measureAt(rate);
    steps.push({ requested: rate, measurement, verdict: judgeStep(measurement, rate) });
  }
  const passed = steps.filter((s) => s.verdict.ok);
  const best = passed.length > 0 ? passed.reduce((a, b) => (b.measurement.offeredMsgsPerSec > a.measurement.offeredMsgsPerSec ? b : a)) : undefined;
  const last = steps[steps.length - 1];
  const simulatorBound = last?.verdict.ok === true && last.verdict.simulatorBound;
  return { steps, best, simulatorBound, lowerBound: simulatorBound || (steps.length > 0 && steps.every((s) => s.verdict.ok)) };
}
