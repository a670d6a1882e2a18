import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_LEVELS } from '../book/order-book.js';
import { type BackoffOptions, DEFAULT_BACKOFF } from '../supervisor/backoff.js';
import { type CircuitBreakerOptions, DEFAULT_CIRCUIT_BREAKER } from '../supervisor/circuit-breaker.js';
import type { CcxtVenueOptions } from '../venues/ccxt/types.js';
import type { Credentials, FrameParser } from '../venues/contract.js';
import { getVenue } from '../venues/registry.js';
import type { BackpressurePolicy, ConnectionLimits } from '../worker/protocol.js';
import { RingfeedError } from './errors.js';

export interface VenueEndpoints {
  /** WebSocket base URL (default: the venue's, or its `RINGFEED_<VENUE>_WS_URL`). */
  readonly wsUrl?: string;
  /** REST base URL (default: the venue's, or its `RINGFEED_<VENUE>_REST_URL`). */
  readonly restUrl?: string;
  /**
   * API credentials for authenticated channels. Handed only to the venue's worker task, used
   * there to sign requests; never logged, never in errors or stats.
   */
  readonly credentials?: Credentials;
  /**
   * ccxt venues only: constructor config, markets (instead of `loadMarkets`) and the
   * `watchOrderBook` limit. Takes precedence over the `RINGFEED_CCXT_OPTIONS` environment variable.
   */
  readonly ccxt?: CcxtVenueOptions;
  /** TWS (`ib`) only: the API client id, 0..2147483647 (default 0); one per TWS connection. */
  readonly clientId?: number;
  /**
   * Venues with a fast frame parser (Binance spot and USD-M): `fast` (default) or `json`
   * (`JSON.parse` for every frame, e.g. to rule the scanner out when diagnosing). Takes
   * precedence over the `RINGFEED_BINANCE_PARSER` environment variable.
   */
  readonly parser?: FrameParser;
}

export const PARSER_ENV = 'RINGFEED_BINANCE_PARSER';

export interface EngineOptions {
  /** Worker threads in the pool. Default: cores − 1, between 1 and 4. */
  readonly threads?: number;
  /** Connections one worker thread may run at once. Default 8. */
  readonly connectionsPerThread?: number;
  /** Ring size per connection in bytes, a power of two. Default 4 MiB. */
  readonly ringBytes?: number;
  /** Backpressure policy for subscriptions that do not name one. Default `block`. */
  readonly policy?: BackpressurePolicy;
  /** Streams (channel × symbol) per connection before another is opened. Default 200. */
  readonly maxStreamsPerConnection?: number;
  /** Endpoint overrides per venue id. */
  readonly venues?: Readonly<Record<string, VenueEndpoints>>;
  /** Connection timing and size limits. */
  readonly limits?: Partial<ConnectionLimits>;
  /** Reconnect backoff. */
  readonly backoff?: Partial<BackoffOptions>;
  /** A connection up this long resets the backoff and the circuit breaker, ms. Default 30 s. */
  readonly stableAfterMs?: number;
  readonly circuitBreaker?: Partial<CircuitBreakerOptions>;
  /** Records the async iterator buffers before the consumer stops draining. Default 10 000. */
  readonly iteratorHighWaterMark?: number;
  /** Worker heap limit in MB (`resourceLimits.maxOldGenerationSizeMb`). Default 512. */
  readonly workerMaxOldGenerationMb?: number;
  /**
   * Serve Prometheus `/metrics` and `/health` on `host:port` (default host 127.0.0.1; port 0 picks
   * a free one) for the engine's life; `engine.metricsServer` resolves once it listens.
   */
  readonly metrics?: { readonly port: number; readonly host?: string };
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  pingIntervalMs: 15_000,
  pongTimeoutMs: 10_000,
  staleTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  maxFrameBytes: 4 * 1024 * 1024,
  rotateAfterMs: 0,
  restTimeoutMs: 10_000,
  maxRestBytes: 16 * 1024 * 1024,
  maxBookLevels: DEFAULT_MAX_LEVELS,
  maxBufferedUpdates: 10_000,
};

/** Rotate this long before a venue's connection age limit. */
export const ROTATION_MARGIN_MS = 10 * 60_000;

export interface ResolvedOptions {
  readonly threads: number;
  readonly connectionsPerThread: number;
  readonly ringBytes: number;
  readonly policy: BackpressurePolicy;
  readonly maxStreamsPerConnection: number;
  readonly venues: Readonly<Record<string, VenueEndpoints>>;
  readonly limits: ConnectionLimits;
  readonly backoff: BackoffOptions;
  readonly stableAfterMs: number;
  readonly circuitBreaker: CircuitBreakerOptions;
  readonly iteratorHighWaterMark: number;
  readonly workerMaxOldGenerationMb: number;
  readonly metrics: { readonly port: number; readonly host: string } | undefined;
}

const POLICIES: readonly BackpressurePolicy[] = ['block', 'drop', 'conflate'];

export function checkPolicy(value: unknown, option: string): BackpressurePolicy {
  if (!POLICIES.includes(value as BackpressurePolicy)) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} must be one of ${POLICIES.join(', ')}; got ${String(value)}`);
  }
  return value as BackpressurePolicy;
}

function int(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} must be an integer from ${min} to ${max}; got ${String(value)}`);
  }
  return value;
}

function checkUrl(value: unknown, option: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} is not a valid URL: ${String(value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} must use ${protocols.join(' or ')}; got ${url.protocol}`);
  }
  return String(value).replace(/\/+$/, '');
}

/** A venue's endpoint: `ws:`/`wss:`, or `tcp:` for a venue on the TCP transport. */
export function checkWsUrl(value: unknown, option: string, tcp = false): string {
  return checkUrl(value, option, tcp ? ['tcp:'] : ['ws:', 'wss:']);
}

export function checkRestUrl(value: unknown, option: string): string {
  return checkUrl(value, option, ['http:', 'https:']);
}

function checkCredentials(input: Credentials, option: string): Credentials {
  const value = checkObject(input, option, CREDENTIAL_KEYS) as unknown as Credentials;
  for (const key of ['apiKey', 'secret'] as const) {
    // The message names the field, never its value.
    if (typeof value?.[key] !== 'string' || value[key].length === 0) {
      throw new RingfeedError('ERR_BAD_OPTION', `${option}.${key} must be a non-empty string`);
    }
  }
  if (value.passphrase !== undefined && typeof value.passphrase !== 'string') {
    throw new RingfeedError('ERR_BAD_OPTION', `${option}.passphrase must be a string`);
  }
  return { apiKey: value.apiKey, secret: value.secret, passphrase: value.passphrase };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkCcxtOptions(value: unknown, option: string, venue: string): CcxtVenueOptions {
  if (getVenue(venue).transport !== 'ccxt') {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} applies to ccxt venues only; ${venue} is native (use venues["ccxt:${venue}"])`);
  }
  checkObject(value, option, ['config', 'markets', 'bookLimit']);
  if (!isPlainObject(value)) throw new RingfeedError('ERR_BAD_OPTION', `${option} must be an object`);
  if (value.config !== undefined && !isPlainObject(value.config)) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option}.config must be an object`);
  }
  if (value.markets !== undefined && !(Array.isArray(value.markets) && value.markets.every(isPlainObject))) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option}.markets must be an array of ccxt market objects`);
  }
  if (value.bookLimit !== undefined) int(value.bookLimit, `${option}.bookLimit`, 1);
  // Crosses to the worker thread by structured clone: keep only plain data.
  return structuredClone(value) as CcxtVenueOptions;
}

function checkParser(value: unknown, option: string, venue: string): FrameParser {
  if (!hasFastParser(venue)) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} applies to venues with a fast frame parser (binance, binance-usdm); ${venue} has none`);
  }
  if (value !== 'fast' && value !== 'json') throw new RingfeedError('ERR_BAD_OPTION', `${option} must be fast or json; got ${describe(value)}`);
  return value;
}

function hasFastParser(venue: string): boolean {
  const adapter = getVenue(venue);
  return (adapter.transport === undefined || adapter.transport === 'socket') && adapter.fastParser === true;
}

/**
 * The frame parser of a connection to `venue`: the option, else `RINGFEED_BINANCE_PARSER`
 * (checked at createEngine), else fast. Undefined for venues without a fast parser. Resolved
 * here, on the main thread: the worker reads no environment.
 */
export function resolveParser(venue: string, configured: VenueEndpoints, env: NodeJS.ProcessEnv): FrameParser | undefined {
  if (!hasFastParser(venue)) return undefined;
  return configured.parser ?? (env[PARSER_ENV] === 'json' ? 'json' : 'fast');
}

function checkClientId(value: unknown, option: string, venue: string): number {
  if (getVenue(venue).transport !== 'tcp') throw new RingfeedError('ERR_BAD_OPTION', `${option} applies to TCP venues (ib); ${venue} has no API client id`);
  return int(value, option, 0, 2147483647);
}

const KNOWN_OPTIONS = [
  'threads',
  'connectionsPerThread',
  'ringBytes',
  'policy',
  'maxStreamsPerConnection',
  'venues',
  'limits',
  'backoff',
  'stableAfterMs',
  'circuitBreaker',
  'iteratorHighWaterMark',
  'workerMaxOldGenerationMb',
  'metrics',
] as const;
const VENUE_KEYS = ['wsUrl', 'restUrl', 'credentials', 'ccxt', 'clientId', 'parser'] as const;
const CREDENTIAL_KEYS = ['apiKey', 'secret', 'passphrase'] as const;

/** Throws `ERR_BAD_OPTION` unless `value` is a plain object (or undefined) whose keys are all known. */
export function checkObject(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new RingfeedError('ERR_BAD_OPTION', `${path} must be an object; got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const near = known.find((k) => similar(k, key));
      throw new RingfeedError(
        'ERR_BAD_OPTION',
        `unknown option ${path === '' ? '' : `${path}.`}${key}${near ? ` (did you mean ${near}?)` : ''}; known: ${known.join(', ')}`,
      );
    }
  }
  return value;
}

/** Edit distance ≤ 2, or one is a prefix of the other: close enough to suggest the known key. */
function similar(known: string, typed: string): boolean {
  const a = known.toLowerCase();
  const b = typed.toLowerCase();
  if (a.startsWith(b) || b.startsWith(a)) return Math.min(a.length, b.length) >= 3;
  if (Math.abs(a.length - b.length) > 2) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]! <= 2;
}

/** A short description of a bad value for an error message (never the content of an object). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

/** `createEngine(options)`: undefined or a plain object (not null, a number, an array …). */
export function checkOptionsObject<T>(options: T): T {
  if (options !== undefined && !isPlainObject(options)) {
    throw new RingfeedError('ERR_BAD_OPTION', `options must be an object; got ${describe(options)}`);
  }
  return options;
}

const LOG_METHODS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** The `logger` option: a pino logger (or anything with pino's level methods). */
export function checkLogger<L>(logger: L): L {
  const missing = LOG_METHODS.filter((m) => typeof (logger as Record<string, unknown> | null)?.[m] !== 'function');
  if (typeof logger !== 'object' || logger === null || missing.length > 0) {
    throw new RingfeedError(
      'ERR_BAD_OPTION',
      `logger must be a pino logger (an object with ${LOG_METHODS.join(', ')} methods); got ${describe(logger)}` +
        (typeof logger === 'string' ? ` (for a level, pass pino({ level: ${JSON.stringify(logger)} }))` : ''),
    );
  }
  return logger;
}

/**
 * Environment variables the engine reads, checked once at `createEngine` so that garbage in one
 * fails loudly naming it instead of surfacing later inside a worker (or being ignored).
 */
export function checkEnvironment(env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('RINGFEED_') || value === undefined || value === '') continue;
    if (name.endsWith('_WS_URL')) checkWsUrl(value, `environment variable ${name}`);
    else if (name.endsWith('_REST_URL')) checkRestUrl(value, `environment variable ${name}`);
  }
  const parser = env[PARSER_ENV];
  if (parser !== undefined && parser !== '' && parser !== 'fast' && parser !== 'json') {
    throw new RingfeedError('ERR_BAD_OPTION', `environment variable ${PARSER_ENV} must be fast or json; got ${describe(parser)}`);
  }
  const ccxt = env.RINGFEED_CCXT_OPTIONS;
  if (ccxt !== undefined && ccxt !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ccxt);
    } catch (err) {
      throw new RingfeedError('ERR_BAD_OPTION', `environment variable RINGFEED_CCXT_OPTIONS is not valid JSON: ${(err as Error).message}`);
    }
    if (!isPlainObject(parsed)) {
      throw new RingfeedError('ERR_BAD_OPTION', 'environment variable RINGFEED_CCXT_OPTIONS must be a JSON object keyed by ccxt exchange id');
    }
    for (const [id, entry] of Object.entries(parsed)) checkObject(entry, `RINGFEED_CCXT_OPTIONS.${id}`, ['config', 'markets', 'bookLimit']);
  }
}

/** Validates options and fills defaults; throws `ERR_BAD_OPTION` naming the option. */
export function resolveOptions(input: EngineOptions = {}): ResolvedOptions {
  const options = checkObject(input, '', KNOWN_OPTIONS) as EngineOptions;
  const cores = availableParallelism();
  const ringBytes = int(options.ringBytes ?? 4 * 1024 * 1024, 'ringBytes', 4096, 1 << 30);
  if ((ringBytes & (ringBytes - 1)) !== 0) {
    throw new RingfeedError('ERR_BAD_OPTION', `ringBytes must be a power of two; got ${ringBytes}`);
  }
  const limits = { ...DEFAULT_LIMITS, ...checkObject(options.limits, 'limits', Object.keys(DEFAULT_LIMITS)) };
  for (const [key, value] of Object.entries(limits)) int(value, `limits.${key}`, 0);
  for (const key of ['pongTimeoutMs', 'connectTimeoutMs', 'maxFrameBytes', 'restTimeoutMs', 'maxRestBytes', 'maxBookLevels', 'maxBufferedUpdates'] as const) {
    int(limits[key], `limits.${key}`, 1);
  }
  const backoff = { ...DEFAULT_BACKOFF, ...checkObject(options.backoff, 'backoff', Object.keys(DEFAULT_BACKOFF)) };
  int(backoff.initialDelayMs, 'backoff.initialDelayMs', 0);
  int(backoff.maxDelayMs, 'backoff.maxDelayMs', backoff.initialDelayMs);
  if (typeof backoff.multiplier !== 'number' || !(backoff.multiplier >= 1 && backoff.multiplier <= 1000)) {
    throw new RingfeedError('ERR_BAD_OPTION', `backoff.multiplier must be >= 1; got ${backoff.multiplier}`);
  }
  const circuitBreaker = {
    ...DEFAULT_CIRCUIT_BREAKER,
    ...checkObject(options.circuitBreaker, 'circuitBreaker', Object.keys(DEFAULT_CIRCUIT_BREAKER)),
  };
  int(circuitBreaker.failureThreshold, 'circuitBreaker.failureThreshold', 1);
  int(circuitBreaker.openMs, 'circuitBreaker.openMs', 0);
  const venues: Record<string, VenueEndpoints> = {};
  for (const [id, value] of Object.entries(checkObject(options.venues, 'venues', Object.keys(options.venues ?? {})))) {
    const ep = checkObject(value, `venues.${id}`, VENUE_KEYS) as VenueEndpoints;
    try {
      getVenue(id);
    } catch (err) {
      // A typo here would leave the real venue on its production endpoints without a word.
      throw new RingfeedError('ERR_BAD_OPTION', `unknown venue venues.${id}: ${(err as Error).message}`);
    }
    venues[id] = {
      wsUrl: ep.wsUrl === undefined ? undefined : checkWsUrl(ep.wsUrl, `venues.${id}.wsUrl`, getVenue(id).transport === 'tcp'),
      restUrl: ep.restUrl === undefined ? undefined : checkRestUrl(ep.restUrl, `venues.${id}.restUrl`),
      credentials: ep.credentials === undefined ? undefined : checkCredentials(ep.credentials, `venues.${id}.credentials`),
      ccxt: ep.ccxt === undefined ? undefined : checkCcxtOptions(ep.ccxt, `venues.${id}.ccxt`, id),
      clientId: ep.clientId === undefined ? undefined : checkClientId(ep.clientId, `venues.${id}.clientId`, id),
      parser: ep.parser === undefined ? undefined : checkParser(ep.parser, `venues.${id}.parser`, id),
    };
  }
  return {
    threads: int(options.threads ?? Math.max(1, Math.min(4, cores - 1)), 'threads', 1, 64),
    connectionsPerThread: int(options.connectionsPerThread ?? 8, 'connectionsPerThread', 1, 1024),
    ringBytes,
    policy: checkPolicy(options.policy ?? 'block', 'policy'),
    maxStreamsPerConnection: int(options.maxStreamsPerConnection ?? 200, 'maxStreamsPerConnection', 1, 1024),
    venues,
    limits,
    backoff,
    stableAfterMs: int(options.stableAfterMs ?? 30_000, 'stableAfterMs', 0),
    circuitBreaker,
    iteratorHighWaterMark: int(options.iteratorHighWaterMark ?? 10_000, 'iteratorHighWaterMark', 1),
    workerMaxOldGenerationMb: int(options.workerMaxOldGenerationMb ?? 512, 'workerMaxOldGenerationMb', 16),
    metrics: options.metrics === undefined ? undefined : checkMetrics(options.metrics),
  };
}

function checkMetrics(value: unknown): { port: number; host: string } {
  const m = checkObject(value, 'metrics', ['port', 'host']);
  const port = int(m.port, 'metrics.port', 0, 65_535);
  const host = m.host ?? '127.0.0.1';
  if (typeof host !== 'string' || !/^[A-Za-z0-9.:-]+$/.test(host)) {
    throw new RingfeedError('ERR_BAD_OPTION', `metrics.host must be a host name or address; got ${JSON.stringify(host)}`);
  }
  return { port, host };
}
