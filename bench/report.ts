/** The report (schema in bench/README.md): ratios against peers and the document itself. Pure. */
import {
  type Measurement,
  type PeerReport,
  type Ratios,
  REPORT_SCHEMA_VERSION,
  type Report,
  type ScenarioReport,
} from './types.js';

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** ringfeed ÷ peer for CPU µs/msg, sustainable rate and P99 (see `Ratios`). */
export function ratiosVsRingfeed(
  ringfeed: Measurement & { sustainableMsgsPerSec: number | null },
  peer: Measurement & { sustainableMsgsPerSec: number | null },
  opts: { compareCpu?: boolean; compareP99?: boolean } = {},
): Ratios {
  return {
    cpuUsPerMsg: opts.compareCpu === false ? null : ratio(ringfeed.cpuUsPerMsg, peer.cpuUsPerMsg),
    sustainableRate: ratio(ringfeed.sustainableMsgsPerSec, peer.sustainableMsgsPerSec),
    p99: opts.compareP99 === false ? null : ratio(ringfeed.latencyUs?.p99, peer.latencyUs?.p99),
  };
}

export interface ScenarioInput {
  readonly name: string;
  readonly description: string;
  readonly ringfeed: Measurement;
  readonly sustainableMsgsPerSec?: number | null;
  readonly details?: Record<string, unknown>;
  readonly peers: ReadonlyArray<{ name: string; measurement: Measurement; sustainableMsgsPerSec?: number | null }>;
  /** Ramp: CPU and P99 are taken at different loads per target, so only the rate ratio is meaningful. */
  readonly compareCpu?: boolean;
  readonly compareP99?: boolean;
}

export function buildScenario(input: ScenarioInput): ScenarioReport {
  const rf = { ...input.ringfeed, sustainableMsgsPerSec: input.sustainableMsgsPerSec ?? null };
  const peers: PeerReport[] = input.peers.map((p) => {
    const peer = { ...p.measurement, sustainableMsgsPerSec: p.sustainableMsgsPerSec ?? null };
    return {
      name: p.name,
      ...peer,
      ratioVsRingfeed: ratiosVsRingfeed(rf, peer, { compareCpu: input.compareCpu, compareP99: input.compareP99 }),
    };
  });
  return {
    name: input.name,
    description: input.description,
    ...rf,
    details: input.details ?? {},
    peers,
  };
}

export interface ReportMeta {
  readonly createdAt: Date;
  readonly commit: string;
  readonly commitDirty: boolean;
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly quick: boolean;
  readonly notes?: string[];
}

export function buildReport(meta: ReportMeta, scenarios: ScenarioReport[]): Report {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    createdAt: meta.createdAt.toISOString(),
    commit: meta.commit,
    commitDirty: meta.commitDirty,
    node: meta.node,
    cpus: meta.cpus,
    cpuModel: meta.cpuModel,
    quick: meta.quick,
    scenarios,
    notes: meta.notes ?? [],
  };
}

/** `perf-reports/<UTC date>-<short sha>.json`, e.g. `2025-01-31-4d2b7a8.json`. */
export function reportFileName(createdAt: Date, commit: string): string {
  return `${createdAt.toISOString().slice(0, 10)}-${commit}.json`;
}

const LATENCY_KEYS = ['p50', 'p95', 'p99', 'p999', 'max'] as const;
const NUMBER_KEYS = ['streams', 'offeredMsgsPerSec', 'deliveredMsgsPerSec', 'cpuUsPerMsg', 'rssMb', 'drops', 'gaps'] as const;

/** Schema check used by the gate and the tests: returns the problems found (empty = valid). */
export function validateReport(value: unknown): string[] {
  const problems: string[] = [];
  const r = value as Partial<Report> | null;
  if (!r || typeof r !== 'object') return ['report is not an object'];
  for (const k of ['commit', 'node', 'createdAt'] as const) if (typeof r[k] !== 'string') problems.push(`${k} must be a string`);
  if (typeof r.cpus !== 'number') problems.push('cpus must be a number');
  if (!Array.isArray(r.scenarios)) return [...problems, 'scenarios must be an array'];
  const checkMeasurement = (m: Record<string, unknown>, where: string): void => {
    for (const k of NUMBER_KEYS) {
      if (typeof m[k] !== 'number' && m[k] !== null) problems.push(`${where}.${k} must be a number or null`);
    }
    const lat = m.latencyUs as Record<string, unknown> | null | undefined;
    if (lat !== null) {
      if (typeof lat !== 'object' || lat === undefined) problems.push(`${where}.latencyUs must be an object or null`);
      else for (const k of LATENCY_KEYS) if (typeof lat[k] !== 'number') problems.push(`${where}.latencyUs.${k} must be a number`);
    }
  };
  r.scenarios.forEach((s, i) => {
    const where = `scenarios[${i}]`;
    if (typeof s.name !== 'string') problems.push(`${where}.name must be a string`);
    checkMeasurement(s as unknown as Record<string, unknown>, where);
    if (!Array.isArray(s.peers)) {
      problems.push(`${where}.peers must be an array`);
      return;
    }
    s.peers.forEach((p, j) => {
      const pw = `${where}.peers[${j}]`;
      if (typeof p.name !== 'string') problems.push(`${pw}.name must be a string`);
      checkMeasurement(p as unknown as Record<string, unknown>, pw);
      if (!p.ratioVsRingfeed || typeof p.ratioVsRingfeed !== 'object') problems.push(`${pw}.ratioVsRingfeed must be an object`);
    });
  });
  return problems;
}
