/**
 * Binance USDⓈ-M futures adapter (combined streams: `wss://fstream.binance.com/stream?streams=…`).
 * Perpetuals only: `BTC/USDT:USDT` ↔ `BTCUSDT` (the settle currency must equal the quote).
 *
 * Shares `BinanceSession` with spot; the differences are the USD-M flavor below: stream names
 * (`@markPrice@1s` for funding, no `1s` klines), the REST snapshot path `/fapi/v1/depth`, and
 * the `pu` continuity rule (`binance-flavor.ts`).
 *
 * Channels: `trades` ← `@trade`, `aggTrades` ← `@aggTrade`, `quotes` ← `@bookTicker` (carries
 * E and T; E is used), `book` ← `@depth@100ms`, `ticker` ← `@ticker` (24h; USD-M tickers have no
 * best bid/ask: NaN), `funding` ← `@markPrice@1s` (ticker records with markPrice, indexPrice,
 * fundingRate, nextFundingTs), `candles` ← `@kline_<i>`.
 */

import type { SocketVenueDefinition } from '../contract.js';
import { parseSymbol } from '../kit/symbols.js';
import { flavoredVenue } from './adapter.js';
import { type BinanceFlavor, USDM_DEPTH_RULE } from './flavor.js';
import { usdmListedSymbols } from './instruments.js';
import { SPOT_NAMING, type StreamNaming } from './streams.js';

/** Spot's stream names plus `funding`; no 1 s klines. */
export const USDM_NAMING: StreamNaming = {
  venue: 'binance-usdm',
  suffix: { ...SPOT_NAMING.suffix, funding: '@markPrice@1s' },
  intervals: SPOT_NAMING.intervals.filter((i) => i !== '1s'),
};

export const USDM_FLAVOR: BinanceFlavor = {
  naming: USDM_NAMING,
  snapshotPath: '/fapi/v1/depth',
  depthRule: USDM_DEPTH_RULE,
};

export const binanceUsdm: SocketVenueDefinition = {
  id: 'binance-usdm',
  channels: ['trades', 'aggTrades', 'quotes', 'ticker', 'book', 'candles', 'funding'],
  defaultWsUrl: 'wss://fstream.binance.com',
  defaultRestUrl: 'https://fapi.binance.com',
  ...flavoredVenue(USDM_FLAVOR),
  /** USD-M documents a lower per-connection stream limit than spot (200); stay within it. */
  maxStreamsPerConnection: 200,
  /** USD-M closes a connection sent more than 10 messages a second. */
  outgoing: { perSecond: 8 },

  nativeSymbol(symbol: string): string {
    const { base, quote, settle } = parseSymbol(symbol, 'binance-usdm');
    if (settle === undefined || settle !== quote) {
      throw new Error(
        `binance-usdm: symbol ${JSON.stringify(symbol)} is not a USDⓈ-M perpetual; expected BASE/QUOTE:QUOTE ` +
          '(e.g. BTC/USDT:USDT)',
      );
    }
    return base + quote;
  },

  /** Binance's WebSocket takes streams of unknown symbols silently: exchangeInfo tells them apart. */
  listedSymbols: usdmListedSymbols,
};
