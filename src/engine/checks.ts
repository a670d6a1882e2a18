/**
 * Checks of what a caller hands the engine's methods at run time (subscribe requests, handlers,
 * record filters). Every mistake throws a `RingfeedError` that names the argument and what was
 * expected; nothing is silently ignored. Options given to `createEngine` are checked in config.ts.
 */

import { RecordType, type RecordTypeName } from '../records/types.js';
import { timeframeSeconds } from '../venues/ccxt/normalize.js';
import type { Channel, VenueAdapter } from '../venues/contract.js';
import type { BackpressurePolicy } from '../worker/protocol.js';
import { RingfeedError } from './errors.js';
import { checkObject, checkPolicy, describe } from './options.js';

export interface SubscribeRequest {
  /** Venue id, e.g. `binance`. */
  readonly exchange: string;
  /** Normalized channels (`depth` is accepted as an alias of `book`). */
  readonly channels: readonly (Channel | 'depth')[];
  /** Normalized symbols, `BASE/QUOTE`. */
  readonly symbols: readonly string[];
  /** Backpressure policy for these streams (default: the engine's). */
  readonly policy?: BackpressurePolicy;
  /** Candle interval for `candles` (default `1m`); one the venue offers. */
  readonly interval?: string;
  /** `ccxt`: use the ccxt transport even where a native adapter exists; `native`: never ccxt. */
  readonly via?: 'native' | 'ccxt';
}

export interface RecordFilter {
  /** Record types to deliver (default: all): `trade`, `quote`, `ticker`, `book`, `candle`, `status`. */
  readonly types?: readonly RecordTypeName[];
}

const REQUEST_KEYS = ['exchange', 'channels', 'symbols', 'policy', 'interval', 'via'] as const;
const VIAS = ['native', 'ccxt'] as const;
const RECORD_TYPES = Object.keys(RecordType) as RecordTypeName[];

/** The request's shape (before the venue is known); returns it with `policy` resolved. */
export function checkSubscribeRequest(
  request: unknown,
  defaultPolicy: BackpressurePolicy,
): SubscribeRequest & { readonly policy: BackpressurePolicy } {
  if (request === undefined) {
    throw new RingfeedError('ERR_BAD_OPTION', 'subscribe(request) needs a request: { exchange, channels, symbols }');
  }
  const r = checkObject(request, 'subscribe', REQUEST_KEYS);
  if (typeof r.exchange !== 'string' || r.exchange.length === 0) {
    throw new RingfeedError('ERR_BAD_OPTION', `subscribe.exchange must be a venue id such as "binance"; got ${describe(r.exchange)}`);
  }
  if (!Array.isArray(r.channels) || r.channels.length === 0) {
    throw new RingfeedError('ERR_BAD_CHANNEL', `subscribe.channels must be a non-empty array; got ${describe(r.channels)}`);
  }
  for (const c of r.channels) {
    if (typeof c !== 'string') throw new RingfeedError('ERR_BAD_CHANNEL', `subscribe.channels holds ${describe(c)}, not a channel name`);
  }
  if (!Array.isArray(r.symbols) || r.symbols.length === 0) {
    throw new RingfeedError('ERR_BAD_SYMBOL', `subscribe.symbols must be a non-empty array; got ${describe(r.symbols)}`);
  }
  for (const s of r.symbols) {
    if (typeof s !== 'string' || s.length === 0 || s.length > 64) {
      throw new RingfeedError('ERR_BAD_SYMBOL', `subscribe.symbols holds ${describe(s)}, not a symbol such as "BTC/USDT"`);
    }
  }
  if (r.via !== undefined && !VIAS.includes(r.via as never)) {
    throw new RingfeedError('ERR_BAD_OPTION', `subscribe.via must be one of ${VIAS.join(', ')}; got ${describe(r.via)}`);
  }
  if (r.interval !== undefined) {
    if (typeof r.interval !== 'string') {
      throw new RingfeedError('ERR_BAD_INTERVAL', `subscribe.interval must be a string such as "1m"; got ${describe(r.interval)}`);
    }
    if (!r.channels.includes('candles')) {
      throw new RingfeedError('ERR_BAD_OPTION', 'subscribe.interval applies to the candles channel, which channels does not name');
    }
  }
  const policy = checkPolicy(r.policy ?? defaultPolicy, 'subscribe.policy');
  return { ...(r as unknown as SubscribeRequest), policy };
}

/** The candle interval for a venue, refused at subscribe when the venue does not offer it. */
export function checkInterval(adapter: VenueAdapter, interval: string): string {
  const offered = adapter.candleIntervals;
  if (offered !== undefined) {
    if (!offered.includes(interval)) {
      throw new RingfeedError(
        'ERR_BAD_INTERVAL',
        `${adapter.id} has no candle interval ${JSON.stringify(interval)}; it offers ${offered.join(', ')}`,
      );
    }
    return interval;
  }
  try {
    timeframeSeconds(interval);
  } catch (err) {
    throw new RingfeedError('ERR_BAD_INTERVAL', `${adapter.id}: ${(err as Error).message}`);
  }
  return interval;
}

export function checkHandler<F>(handler: F, method: string): F {
  if (typeof handler !== 'function') {
    throw new RingfeedError('ERR_BAD_OPTION', `${method}(handler) needs a function; got ${describe(handler)}`);
  }
  return handler;
}

/** The record type codes a filter lets through, or undefined for all. */
export function checkFilter(filter: unknown, method: string): Set<number> | undefined {
  if (filter === undefined) return undefined;
  const f = checkObject(filter, `${method} filter`, ['types']);
  if (f.types === undefined) return undefined;
  if (!Array.isArray(f.types) || f.types.length === 0) {
    throw new RingfeedError('ERR_BAD_OPTION', `${method} filter.types must be a non-empty array of record types; got ${describe(f.types)}`);
  }
  const codes = new Set<number>();
  for (const t of f.types) {
    if (typeof t !== 'string' || !Object.hasOwn(RecordType, t)) {
      const singular = typeof t === 'string' && t.endsWith('s') && Object.hasOwn(RecordType, t.slice(0, -1));
      throw new RingfeedError(
        'ERR_BAD_OPTION',
        `${method} filter.types: ${describe(t)} is not a record type${singular ? ` (did you mean "${t.slice(0, -1)}"?)` : ''}; ` +
          `types are ${RECORD_TYPES.join(', ')}`,
      );
    }
    codes.add(RecordType[t as RecordTypeName]);
  }
  return codes;
}
