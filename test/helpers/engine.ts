import { type Logger, pino } from 'pino';
import { afterEach } from 'vitest';
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

/** What an engine needs of a venue simulator (any venue's: `Simulator` is Binance's). */
export type EndpointsOf = Pick<Simulator, 'wsUrl' | 'restUrl'>;

/**
 * An engine on one thread pointed at `venue`'s simulator, with a fast backoff, a captured log and
 * every record collected as a plain object.
 */
export function engineFor(sim: EndpointsOf, options: EngineOptions = {}, venue = 'binance'): Harness {
  const logs: Array<Record<string, unknown>> = [];
  const engine = createEngine({
    threads: 1,
    ...options,
    logger: captureLogger(logs),
    venues: { ...options.venues, [venue]: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
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

/**
 * Registers an `afterEach` that closes, newest first, everything handed to the returned `track`
 * during the test (engines before the simulators they were started on).
 */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(closable: T) => T {
  const open: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c.close();
  });
  return (closable) => {
    open.push(closable);
    return closable;
  };
}

/**
 * One venue's engine tests: `start(sim)` makes the harness on that simulator; the engine and the
 * simulator are closed after each test.
 */
export function venueRig(venue: string) {
  const track = closeAfterEach();
  return {
    track,
    start(sim: EndpointsOf & { close(): Promise<unknown> }, options: EngineOptions = {}): Harness {
      track(sim);
      const h = engineFor(sim, options, venue);
      track(h.engine);
      return h;
    },
  };
}
