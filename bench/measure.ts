/** Measurement pieces every target uses the same way, so that the figures compare. */
import { LatencyHistogram } from '../src/metrics/latency.js';
import type { Distribution, LatencyUs } from './types.js';

export function summaryOf(h: LatencyHistogram): LatencyUs {
  return latencyOf(h.summary());
}

/** The report's percentiles of a latency summary (engine stats carry more fields). */
export function latencyOf(s: LatencyUs): LatencyUs {
  return { p50: s.p50, p95: s.p95, p99: s.p99, p999: s.p999, max: s.max };
}

/** Percentile → µs pairs for the HDR plot (0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100). */
export function distributionOf(h: LatencyHistogram): Distribution {
  const raw = h.distribution();
  return raw.map(([p, v]) => [p, v] as const);
}

export class Histograms {
  readonly exchange = new LatencyHistogram();
  readonly recv = new LatencyHistogram();

  reset(): void {
    this.exchange.reset();
    this.recv.reset();
  }
}

/** Consecutive trade ids per symbol: every hole is a lost trade (the simulator's ids are consecutive). */
export class TradeIdCheck {
  private readonly last = new Map<string | number, number>();
  holes = 0;
  missing = 0;

  see(key: string | number, id: number): void {
    const prev = this.last.get(key);
    if (prev !== undefined && id !== prev + 1 && id > prev) {
      this.holes++;
      this.missing += id - prev - 1;
    }
    if (prev === undefined || id > prev) this.last.set(key, id);
  }
}

/** CPU, wall time and RSS between `mark()` and `read()`. RSS is sampled so the peak is caught. */
export class Window {
  private cpu0 = process.cpuUsage();
  private t0 = performance.now();
  private rssPeak = 0;
  private readonly sampler: NodeJS.Timeout;

  constructor() {
    this.sampler = setInterval(() => {
      this.rssPeak = Math.max(this.rssPeak, process.memoryUsage.rss());
    }, 250);
    this.sampler.unref();
  }

  mark(): void {
    this.cpu0 = process.cpuUsage();
    this.t0 = performance.now();
    this.rssPeak = process.memoryUsage.rss();
  }

  read(): { cpuUs: number; seconds: number; rssMb: number } {
    const cpu = process.cpuUsage(this.cpu0);
    const seconds = (performance.now() - this.t0) / 1000;
    this.rssPeak = Math.max(this.rssPeak, process.memoryUsage.rss());
    return { cpuUs: cpu.user + cpu.system, seconds, rssMb: this.rssPeak / (1024 * 1024) };
  }

  stop(): void {
    clearInterval(this.sampler);
  }
}

/** Waits until `condition` holds or the deadline passes; returns whether it held. */
export async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Milliseconds since the epoch with sub-ms precision (same clock as ringfeed's `nowMs`). */
const origin = performance.timeOrigin;
export function nowMs(): number {
  return origin + performance.now();
}
