/**
 * The bench's processes: the simulator host and one child per target, and one measured phase:
 * fresh simulator (same seed → same market) → target connects and warms up → window → figures.
 */
import type { SimulatorOptions, SimulatorStats } from '../src/simulator/index.js';
import { progress } from './console.js';
import { Child } from './ipc.js';
import type { Measurement, PhaseResult, PhaseSpec, TargetKind } from './types.js';

export interface PhaseOptions {
  readonly load: SimulatorOptions;
  readonly spec: Omit<PhaseSpec, 'wsUrl' | 'restUrl'>;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly label: string;
}

export interface PhaseOutcome {
  readonly measurement: Measurement;
  readonly result: PhaseResult;
  /** Frames the simulator could not send (uWS backpressure) in the window. */
  readonly simDropped: number;
  /** Simulator process CPU share in the window, % of one core. */
  readonly simCpuPct: number;
}

type SimStats = SimulatorStats & { cpuUs: number };

export class Lab {
  private readonly sim: Child;
  private readonly targets = new Map<TargetKind, Child>();

  constructor(private readonly execArgv: string[] = []) {
    this.sim = Child.fork('simulator', new URL('./sim-host.js', import.meta.url));
  }

  private target(kind: TargetKind): Child {
    let child = this.targets.get(kind);
    if (!child) {
      child = Child.fork(kind, new URL('./target-host.js', import.meta.url), [kind], this.execArgv);
      this.targets.set(kind, child);
    }
    return child;
  }

  /** Ends a target's process (its next phase starts a new one). */
  async retire(kind: TargetKind): Promise<void> {
    const child = this.targets.get(kind);
    this.targets.delete(kind);
    await child?.close();
  }

  async phase(kind: TargetKind, o: PhaseOptions): Promise<PhaseOutcome> {
    const urls = await this.sim.call<{ wsUrl: string; restUrl: string }>('start', o.load);
    const target = this.target(kind);
    try {
      const spec: PhaseSpec = { ...o.spec, ...urls };
      await target.call('start', spec, 30_000);
      await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
      const s0 = await this.sim.call<SimStats>('stats');
      const t0 = performance.now();
      await target.call('mark');
      await progress(`${o.label} ${kind}`, o.seconds * 1000);
      const s1 = await this.sim.call<SimStats>('stats');
      const elapsed = (performance.now() - t0) / 1000;
      const result = await target.call<PhaseResult>('finish', undefined, 30_000);
      const simDropped = s1.framesDropped - s0.framesDropped;
      const streams = o.spec.symbols.length * o.spec.channels.length;
      return {
        result,
        simDropped,
        simCpuPct: ((s1.cpuUs - s0.cpuUs) / 1e6 / elapsed) * 100,
        measurement: toMeasurement(result, streams, (s1.framesSent - s0.framesSent) / elapsed, simDropped),
      };
    } catch (err) {
      // A failed target may be wedged mid-phase: start a clean process next time.
      await this.retire(kind);
      throw err;
    } finally {
      await this.sim.call('stop');
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.targets.keys()].map((k) => this.retire(k)));
    await this.sim.close();
  }
}

export function toMeasurement(r: PhaseResult, streams: number, offeredMsgsPerSec: number, simDropped = 0): Measurement {
  return {
    streams,
    offeredMsgsPerSec,
    deliveredMsgsPerSec: r.seconds > 0 ? r.messages / r.seconds : 0,
    cpuUsPerMsg: r.messages > 0 ? r.cpuUs / r.messages : Number.NaN,
    latencyUs: r.latencyUs,
    recvToConsumeUs: r.recvToConsumeUs,
    rssMb: r.rssMb,
    drops: r.drops + simDropped,
    gaps: r.gaps,
    tradeIdHoles: r.tradeIdHoles,
    distribution: r.distribution,
  };
}
