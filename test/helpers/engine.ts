import { type Logger, pino } from 'pino';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/options.js';
import type { MarketRecord } from '../../src/records/types.js';
import type { Simulator } from '../../src/simulator/index.js';

export interface Harness {
  readonly engine: Engine;
  readonly records: MarketRecord[];
  readonly logs: Array<Record<string, unknown>>;
}

/** A captured pino logger: every line parsed into `logs`. */
export function captureLogger(logs: Array<Record<string, unknown>>, level = 'debug'): Logger {
  return pino({ level }, { write: (line: string) => logs.push(JSON.parse(line)) });
}

/** An engine pointed at the simulator, collecting every record as a plain object. */
export function engineFor(sim: Simulator, options: EngineOptions = {}): Harness {
  const logs: Array<Record<string, unknown>> = [];
  const engine = createEngine({
    threads: 1,
    ...options,
    logger: captureLogger(logs),
    venues: { binance: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
    backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2, ...options.backoff },
  });
  const records: MarketRecord[] = [];
  engine.onRecord((r) => records.push(r));
  return { engine, records, logs };
}

export function statuses(records: MarketRecord[], symbol?: string): string[] {
  return records
    .filter((r) => r.type === 'status' && (symbol === undefined || r.symbol === symbol))
    .map((r) => (r.type === 'status' ? r.status : ''));
}
