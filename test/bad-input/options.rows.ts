/** Bad `createEngine` options and environment variables: each refused up front, naming the path. */
import { createEngine } from '../../src/engine/engine.js';
import type { RingfeedErrorCode } from '../../src/engine/errors.js';
import { expectRingfeedError } from './expect.js';
import type { BadInputRow } from './row.js';

function option(input: string, options: unknown, code: RingfeedErrorCode, ...words: string[]): BadInputRow {
  return {
    group: 'options',
    input,
    expect: `${code} naming ${words.join(' / ')}`,
    async run() {
      await expectRingfeedError(() => createEngine(options as never), code, ...words);
    },
  };
}

/** Sets `env` for the duration of one createEngine call, then restores it. */
function env(name: string, value: string, ...words: string[]): BadInputRow {
  return {
    group: 'env',
    input: `${name}=${JSON.stringify(value)}`,
    expect: `ERR_BAD_OPTION naming ${name}`,
    async run() {
      const before = process.env[name];
      process.env[name] = value;
      try {
        await expectRingfeedError(() => createEngine({ threads: 1 }), 'ERR_BAD_OPTION', name, ...words);
      } finally {
        if (before === undefined) delete process.env[name];
        else process.env[name] = before;
      }
    },
  };
}

const loopback = { wsUrl: 'ws://127.0.0.1:1', restUrl: 'http://127.0.0.1:1' };

export const rows: BadInputRow[] = [
  option('createEngine(42)', 42, 'ERR_BAD_OPTION', 'options must be an object', '42'),
  option('createEngine(null)', null, 'ERR_BAD_OPTION', 'options must be an object', 'null'),
  option('createEngine("binance")', 'binance', 'ERR_BAD_OPTION', 'options must be an object'),
  option('createEngine([])', [], 'ERR_BAD_OPTION', 'options must be an object', 'array'),
  option("logger: 'info' (a level, not a logger)", { logger: 'info' }, 'ERR_BAD_OPTION', 'logger', 'pino({ level: "info" })'),
  option('logger: {} (no level methods)', { logger: {} }, 'ERR_BAD_OPTION', 'logger'),
  option('unknown top-level key thread', { thread: 2 }, 'ERR_BAD_OPTION', 'thread', 'did you mean threads'),
  option('threads: 0', { threads: 0 }, 'ERR_BAD_OPTION', 'threads'),
  option('threads: "2"', { threads: '2' }, 'ERR_BAD_OPTION', 'threads'),
  option('ringBytes: 5000 (not a power of two)', { ringBytes: 5000 }, 'ERR_BAD_OPTION', 'ringBytes', 'power of two'),
  option('ringBytes: NaN', { ringBytes: Number.NaN }, 'ERR_BAD_OPTION', 'ringBytes'),
  option("policy: 'lossy'", { policy: 'lossy' }, 'ERR_BAD_OPTION', 'policy', 'block, drop, conflate'),
  option('venues: "binance"', { venues: 'binance' }, 'ERR_BAD_OPTION', 'venues must be an object'),
  option('venues.binanse (unknown venue)', { venues: { binanse: loopback } }, 'ERR_BAD_OPTION', 'venues.binanse'),
  option(
    'venues.binance.wssUrl (typo: would go live)',
    { venues: { binance: { wssUrl: 'ws://127.0.0.1:1' } } },
    'ERR_BAD_OPTION',
    'venues.binance.wssUrl',
    'did you mean wsUrl',
  ),
  option('venues.binance: null', { venues: { binance: null } }, 'ERR_BAD_OPTION', 'venues.binance must be an object'),
  option('venues.binance.wsUrl: http://… (not ws)', { venues: { binance: { wsUrl: 'http://127.0.0.1:1' } } }, 'ERR_BAD_OPTION', 'venues.binance.wsUrl', 'ws: or wss:'),
  option('venues.binance.restUrl: "not a url"', { venues: { binance: { restUrl: 'not a url' } } }, 'ERR_BAD_OPTION', 'venues.binance.restUrl'),
  option(
    'venues.binance.credentials.key (unknown key)',
    { venues: { binance: { ...loopback, credentials: { key: 'k', secret: 's' } } } },
    'ERR_BAD_OPTION',
    'venues.binance.credentials.key',
  ),
  option(
    'venues.binance.credentials.secret empty',
    { venues: { binance: { ...loopback, credentials: { apiKey: 'k', secret: '' } } } },
    'ERR_BAD_OPTION',
    'venues.binance.credentials.secret',
  ),
  option('venues.ib.clientId: -1', { venues: { ib: { clientId: -1 } } }, 'ERR_BAD_OPTION', 'venues.ib.clientId', '0 to 2147483647'),
  option('venues.ib.clientId: "7" (a string)', { venues: { ib: { clientId: '7' } } }, 'ERR_BAD_OPTION', 'venues.ib.clientId'),
  option('venues.binance.clientId (no API client id)', { venues: { binance: { clientId: 1 } } }, 'ERR_BAD_OPTION', 'venues.binance.clientId', 'TCP venues'),
  option('venues.ib.wsUrl: ws://… (TWS is tcp://)', { venues: { ib: { wsUrl: 'ws://127.0.0.1:7497' } } }, 'ERR_BAD_OPTION', 'venues.ib.wsUrl', 'tcp:'),
  option('venues.binance.ccxt on a native venue', { venues: { binance: { ccxt: {} } } }, 'ERR_BAD_OPTION', 'venues.binance.ccxt', 'ccxt venues only'),
  option('venues.kucoin.ccxt.limit (unknown key)', { venues: { kucoin: { ccxt: { limit: 5 } } } }, 'ERR_BAD_OPTION', 'venues.kucoin.ccxt.limit'),
  option('venues.binance.parser: fastest', { venues: { binance: { parser: 'fastest' } } }, 'ERR_BAD_OPTION', 'venues.binance.parser', 'fast or json'),
  option('venues.kraken.parser (no fast parser)', { venues: { kraken: { parser: 'json' } } }, 'ERR_BAD_OPTION', 'venues.kraken.parser', 'fast frame parser'),
  option('backoff.initialMs (real key initialDelayMs)', { backoff: { initialMs: 10 } }, 'ERR_BAD_OPTION', 'backoff.initialMs', 'initialDelayMs'),
  option('backoff.multiplier: 0.5', { backoff: { multiplier: 0.5 } }, 'ERR_BAD_OPTION', 'backoff.multiplier'),
  option('backoff.maxDelayMs below initialDelayMs', { backoff: { initialDelayMs: 500, maxDelayMs: 100 } }, 'ERR_BAD_OPTION', 'backoff.maxDelayMs'),
  option('backoff: 5', { backoff: 5 }, 'ERR_BAD_OPTION', 'backoff must be an object'),
  option('limits.maxFrameByte (typo)', { limits: { maxFrameByte: 1 } }, 'ERR_BAD_OPTION', 'limits.maxFrameByte', 'did you mean maxFrameBytes'),
  option('limits.pongTimeoutMs: 0', { limits: { pongTimeoutMs: 0 } }, 'ERR_BAD_OPTION', 'limits.pongTimeoutMs'),
  option('limits.staleTimeoutMs: -1', { limits: { staleTimeoutMs: -1 } }, 'ERR_BAD_OPTION', 'limits.staleTimeoutMs'),
  option('circuitBreaker.threshold (unknown key)', { circuitBreaker: { threshold: 3 } }, 'ERR_BAD_OPTION', 'circuitBreaker.threshold'),
  option('iteratorHighWaterMark: 0', { iteratorHighWaterMark: 0 }, 'ERR_BAD_OPTION', 'iteratorHighWaterMark'),
  option('workerMaxOldGenerationMb: 1', { workerMaxOldGenerationMb: 1 }, 'ERR_BAD_OPTION', 'workerMaxOldGenerationMb'),
  env('RINGFEED_BINANCE_WS_URL', 'not a url'),
  env('RINGFEED_KRAKEN_REST_URL', 'ftp://127.0.0.1/'),
  env('RINGFEED_CCXT_OPTIONS', '{"kucoin": '),
  env('RINGFEED_CCXT_OPTIONS', '[1,2]', 'JSON object'),
  env('RINGFEED_CCXT_OPTIONS', '{"kucoin":{"limit":5}}', 'limit'),
  env('RINGFEED_BINANCE_PARSER', 'fastest', 'fast or json'),
];
