/**
 * Binance spot adapter (combined streams: `wss://stream.binance.com:9443/stream?streams=…`).
 * Protocol state and normalization live in `binance-session.ts`; stream naming in
 * `binance-streams.ts`.
 */

import type { SessionContext, SocketVenueDefinition, StreamSpec, VenueSession } from '../contract.js';
import { parseSpotSymbol } from '../kit/symbols.js';
import { spotListedSymbols } from './instruments.js';
import { createBinanceSession } from './session.js';
import { combinedStreamUrl, SPOT_NAMING } from './streams.js';

export const binance: SocketVenueDefinition = {
  id: 'binance',
  channels: ['trades', 'aggTrades', 'quotes', 'ticker', 'book', 'candles'],
  defaultWsUrl: 'wss://stream.binance.com:9443',
  defaultRestUrl: 'https://api.binance.com',
  /** Binance closes connections after 24 h. */
  maxConnectionAgeMs: 24 * 60 * 60 * 1000,
  candleIntervals: SPOT_NAMING.intervals,
  /** Binance spot closes a connection sent more than 5 messages a second (ping and pong frames count too). */
  outgoing: { perSecond: 4 },

  nativeSymbol(symbol: string): string {
    const { base, quote } = parseSpotSymbol(symbol, 'binance (spot)');
    return base + quote;
  },

  connectUrl(wsBaseUrl: string, streams: readonly StreamSpec[]): string {
    return combinedStreamUrl(SPOT_NAMING, wsBaseUrl, streams);
  },

  /** Binance's WebSocket takes streams of unknown symbols silently: exchangeInfo tells them apart. */
  listedSymbols: spotListedSymbols,
  fastParser: true,

  createSession(ctx: SessionContext): VenueSession {
    return createBinanceSession(ctx, { parser: ctx.parser });
  },
};
