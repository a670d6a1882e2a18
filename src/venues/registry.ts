/**
 * Venue registry: THE venue list. Each native venue is one line here, with the exchange code
 * written into every record of it (never reuse or renumber one; ccxt venues take codes from
 * `CCXT_FIRST_EXCHANGE_CODE` up). The engine, the worker tasks, the CLI and the tests read the
 * venues from here.
 */

import { binance } from './binance/adapter.js';
import { binanceUsdm } from './binance/usdm.js';
import { bybit } from './bybit/adapter.js';
import { CCXT_FIRST_EXCHANGE_CODE, CCXT_ID_PREFIX, ccxtExchangeId, createCcxtAdapter, isCcxtVenue } from './ccxt/adapter.js';
import { coinbase } from './coinbase/adapter.js';
import type { SocketVenueAdapter, VenueAdapter, VenueDefinition } from './contract.js';
import { futu } from './futu/adapter.js';
import { ib } from './ib/adapter.js';
import { kraken } from './kraken/adapter.js';
import { okx } from './okx/adapter.js';

const NATIVE: ReadonlyArray<readonly [exchangeCode: number, venue: VenueDefinition]> = [
  [1, binance],
  [2, binanceUsdm],
  [3, coinbase],
  [4, kraken],
  [5, bybit],
  [6, okx],
  [7, futu],
  [8, ib],
];

/** `binance-usdm` → `RINGFEED_BINANCE_USDM` (the prefix of a venue's endpoint variables). */
export function envPrefix(id: string): string {
  return `RINGFEED_${id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

function register(exchangeCode: number, venue: VenueDefinition): VenueAdapter {
  if (!Number.isInteger(exchangeCode) || exchangeCode < 1 || exchangeCode >= CCXT_FIRST_EXCHANGE_CODE) {
    throw new Error(`venue ${venue.id}: exchange code ${exchangeCode} is outside 1..${CCXT_FIRST_EXCHANGE_CODE - 1}`);
  }
  const env = envPrefix(venue.id);
  const assigned = { exchangeCode, wsUrlEnv: `${env}_WS_URL`, restUrlEnv: `${env}_REST_URL`, maxConnectionAgeMs: venue.maxConnectionAgeMs ?? 0 };
  if (venue.transport === 'tcp' || venue.transport === 'ccxt') return { ...venue, ...assigned };
  return { ...venue, ...assigned, connectUrl: venue.connectUrl ?? configuredUrl };
}

/** The URL to open is the configured endpoint itself (venues that subscribe by frames). */
const configuredUrl = (wsBaseUrl: string): string => wsBaseUrl;

/** The native venues by id. */
export const venues: Readonly<Record<string, VenueAdapter>> = Object.fromEntries(
  NATIVE.map(([code, venue]) => [venue.id, register(code, venue)]),
);

/** The native WebSocket venue `id` (for code that drives its session directly: tests, tools). */
export function socketVenue(id: string): SocketVenueAdapter {
  const adapter = Object.hasOwn(venues, id) ? venues[id] : undefined;
  if (adapter === undefined || (adapter.transport ?? 'socket') !== 'socket') throw new Error(`${id} is not a native WebSocket venue`);
  return adapter as SocketVenueAdapter;
}

const ccxtAdapters = new Map<string, VenueAdapter>();

/**
 * The adapter registered under `id`; otherwise (or with `via: 'ccxt'`, or an id `ccxt:<id>`)
 * the ccxt adapter for an exchange ccxt knows. Throws an Error listing the known venues.
 */
export function getVenue(id: string, via?: 'native' | 'ccxt'): VenueAdapter {
  const native = Object.hasOwn(venues, id) ? venues[id] : undefined;
  if (native !== undefined && via !== 'ccxt') return native;
  const exchangeId = ccxtExchangeId(id);
  if (via !== 'native' && isCcxtVenue(exchangeId)) {
    const adapterId = Object.hasOwn(venues, exchangeId) ? CCXT_ID_PREFIX + exchangeId : exchangeId;
    let adapter = ccxtAdapters.get(adapterId);
    if (adapter === undefined) {
      adapter = createCcxtAdapter(exchangeId, adapterId);
      ccxtAdapters.set(adapterId, adapter);
    }
    return adapter;
  }
  const how = via === undefined ? '' : ` via ${via}`;
  throw new Error(
    `unknown venue ${JSON.stringify(id)}${how}; known venues: ${Object.keys(venues).join(', ')}` +
      `${via === 'native' ? '' : ', or any ccxt pro exchange id'}`,
  );
}
