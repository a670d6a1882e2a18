/**
 * Binance spot adapter (combined streams: `wss://stream.binance.com:9443/stream?streams=…`).
 * Protocol state and normalization live in `binance-session.ts`; stream naming in
 * `binance-streams.ts`.
 */

import { createBinanceSession } from './binance-session.js';
import { streamName } from './binance-streams.js';
import { parseSpotSymbol } from './symbols.js';
import type { SessionContext, StreamSpec, VenueAdapter, VenueSession } from './types.js';

export const binance: VenueAdapter = {
  id: 'binance',
  exchangeCode: 1,
  channels: ['trades', 'aggTrades', 'quotes', 'ticker', 'book', 'candles'],
  defaultWsUrl: 'wss://stream.binance.com:9443',
  defaultRestUrl: 'https://api.binance.com',
  wsUrlEnv: 'RINGFEED_BINANCE_WS_URL',
  restUrlEnv: 'RINGFEED_BINANCE_REST_URL',
  /** Binance closes connections after 24 h. */
  maxConnectionAgeMs: 24 * 60 * 60 * 1000,

  nativeSymbol(symbol: string): string {
    const { base, quote } = parseSpotSymbol(symbol, 'binance (spot)');
    return base + quote;
  },

  connectUrl(wsBaseUrl: string, streams: readonly StreamSpec[]): string {
    const base = wsBaseUrl.endsWith('/') ? wsBaseUrl.slice(0, -1) : wsBaseUrl;
    if (streams.length === 0) return `${base}/stream`;
    return `${base}/stream?streams=${streams.map(streamName).join('/')}`;
  },

  createSession(ctx: SessionContext): VenueSession {
    return createBinanceSession(ctx);
  },
};
