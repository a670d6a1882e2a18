/** Venue registry: one line per venue adapter. */

import { binance } from './binance/adapter.js';
import { binanceUsdm } from './binance/usdm.js';
import { bybit } from './bybit/adapter.js';
import { CCXT_ID_PREFIX, ccxtExchangeId, createCcxtAdapter, isCcxtVenue } from './ccxt/adapter.js';
import { coinbase } from './coinbase/adapter.js';
import type { VenueAdapter } from './contract.js';
import { kraken } from './kraken/adapter.js';
import { okx } from './okx/adapter.js';

export const venues: Record<string, VenueAdapter> = {
  binance,
  'binance-usdm': binanceUsdm,
  kraken,
  bybit,
  okx,
  coinbase,
};

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
