/**
 * Adapter for any ccxt pro venue. It never loads ccxt: venues, channels and exchange codes come
 * from the generated catalog, symbols are checked for syntax only (whether a market exists is
 * known after `loadMarkets`, which the worker runs and reports). The protocol work happens in
 * `workers/ccxt-connection.ts`, selected through `transport: 'ccxt'`.
 */

import type { Channel, VenueAdapter, } from '../contract.js';
import { parseInstrument } from '../kit/symbols.js';
import { CCXT_PRO_CATALOG } from './catalog.js';

/** Exchange codes 32.. are reserved for ccxt venues. */
export const CCXT_FIRST_EXCHANGE_CODE = 32;
/** Adapter ids carry this prefix when a native adapter owns the bare id (e.g. `ccxt:binance`). */
export const CCXT_ID_PREFIX = 'ccxt:';

/** Our channel → the ccxt watch method that serves it (bit = position in the catalog). */
export const CCXT_WATCH_METHOD = {
  trades: 'watchTrades',
  book: 'watchOrderBook',
  ticker: 'watchTicker',
  candles: 'watchOHLCV',
  quotes: 'watchBidsAsks',
} as const satisfies Partial<Record<Channel, string>>;

export type CcxtChannel = keyof typeof CCXT_WATCH_METHOD;
const CHANNEL_BITS: Readonly<Record<CcxtChannel, number>> = { trades: 1, book: 2, ticker: 4, candles: 8, quotes: 16 };

const CCXT_IDS = Object.keys(CCXT_PRO_CATALOG);

/** true when the installed ccxt has a pro (WebSocket) class for `exchangeId`. */
export function isCcxtVenue(exchangeId: string): boolean {
  return Object.hasOwn(CCXT_PRO_CATALOG, exchangeId);
}

/** The ccxt exchange id behind an adapter id (`ccxt:binance` → `binance`). */
export function ccxtExchangeId(adapterId: string): string {
  return adapterId.startsWith(CCXT_ID_PREFIX) ? adapterId.slice(CCXT_ID_PREFIX.length) : adapterId;
}

/** Channels a ccxt venue offers, from its `has` flags as recorded in the catalog. */
export function ccxtChannels(exchangeId: string): Channel[] {
  const bits = CCXT_PRO_CATALOG[exchangeId] ?? 0;
  return (Object.keys(CHANNEL_BITS) as CcxtChannel[]).filter((c) => (bits & CHANNEL_BITS[c]) !== 0);
}

/**
 * A `VenueAdapter` for ccxt's `exchangeId`. `id` defaults to the exchange id; the registry
 * passes `ccxt:<id>` when a native adapter already uses the bare id. Exchange codes are the
 * catalog position + 32, the same in every thread.
 */
export function createCcxtAdapter(exchangeId: string, id = exchangeId): VenueAdapter {
  const index = CCXT_IDS.indexOf(exchangeId);
  if (index < 0) {
    throw new Error(
      `ccxt has no pro (WebSocket) exchange ${JSON.stringify(exchangeId)}; ccxt pro exchanges: ${CCXT_IDS.join(', ')}`,
    );
  }
  const exchangeCode = CCXT_FIRST_EXCHANGE_CODE + index;
  if (exchangeCode > 255) throw new Error(`ccxt exchange ${exchangeId} has no free exchange code (${exchangeCode} > 255)`);
  const envName = id.replace(/[^a-zA-Z0-9]+/g, '_').toUpperCase();
  return {
    id,
    exchangeCode,
    channels: ccxtChannels(exchangeId),
    // Empty = ccxt's own endpoints; a configured URL replaces the origin of ccxt's URLs.
    defaultWsUrl: '',
    defaultRestUrl: '',
    wsUrlEnv: `RINGFEED_${envName.startsWith('CCXT_') ? '' : 'CCXT_'}${envName}_WS_URL`,
    restUrlEnv: `RINGFEED_${envName.startsWith('CCXT_') ? '' : 'CCXT_'}${envName}_REST_URL`,
    maxConnectionAgeMs: 0,
    transport: 'ccxt',
    nativeSymbol(symbol: string): string {
      try {
        // ccxt's unified symbols keep the venue's case and name dated futures and options too.
        parseInstrument(symbol, { case: 'preserve', kinds: ['spot', 'swap', 'future', 'option'] });
      } catch (err) {
        throw new Error(`${id}: ${(err as Error).message}`);
      }
      // ccxt's unified symbols are ours; whether the market exists is checked by the worker.
      return symbol;
    },
  };
}
