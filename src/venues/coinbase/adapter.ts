/**
 * Coinbase Exchange adapter (`wss://ws-feed.exchange.coinbase.com`, products `BTC-USD`).
 * Everything is subscribed by frames after the socket opens; protocol state and normalization
 * live in `coinbase-session.ts`. The Exchange feed has no candles channel.
 */

import type { SessionContext, SocketVenueDefinition, VenueSession } from '../contract.js';
import { parseSpotSymbol } from '../kit/symbols.js';
import { createCoinbaseSession } from './session.js';

export const coinbase: SocketVenueDefinition = {
  id: 'coinbase',
  channels: ['trades', 'quotes', 'ticker', 'book'],
  defaultWsUrl: 'wss://ws-feed.exchange.coinbase.com',
  defaultRestUrl: 'https://api.exchange.coinbase.com',

  nativeSymbol(symbol: string): string {
    const { base, quote } = parseSpotSymbol(symbol, 'coinbase');
    return `${base}-${quote}`;
  },

  createSession(ctx: SessionContext): VenueSession {
    return createCoinbaseSession(ctx);
  },
};
