/**
 * Binance spot adapter (combined streams: `wss://stream.binance.com:9443/stream?streams=…`).
 * Protocol state and normalization live in `session.ts`; stream naming in `streams.ts`.
 * `flavoredVenue` is what every Binance venue derives from its flavor (USD-M: `usdm.ts`).
 */

import type { SessionContext, SocketVenueDefinition, StreamSpec, VenueSession } from '../contract.js';
import { parseSpotSymbol } from '../kit/symbols.js';
import { type BinanceFlavor, SPOT_FLAVOR } from './flavor.js';
import { spotListedSymbols } from './instruments.js';
import { createBinanceSession } from './session.js';
import { combinedStreamUrl } from './streams.js';

/** The parts of a Binance venue's definition that follow from its flavor. */
export function flavoredVenue(flavor: BinanceFlavor) {
  return {
    /** Binance closes connections after 24 h. */
    maxConnectionAgeMs: 24 * 60 * 60 * 1000,
    candleIntervals: flavor.naming.intervals,
    connectUrl(wsBaseUrl: string, streams: readonly StreamSpec[]): string {
      return combinedStreamUrl(flavor.naming, wsBaseUrl, streams);
    },
    fastParser: true as const,
    createSession(ctx: SessionContext): VenueSession {
      return createBinanceSession(ctx, { flavor, parser: ctx.parser });
    },
  };
}

export const binance: SocketVenueDefinition = {
  id: 'binance',
  channels: ['trades', 'aggTrades', 'quotes', 'ticker', 'book', 'candles'],
  defaultWsUrl: 'wss://stream.binance.com:9443',
  defaultRestUrl: 'https://api.binance.com',
  ...flavoredVenue(SPOT_FLAVOR),
  /** Binance spot closes a connection sent more than 5 messages a second (ping and pong frames count too). */
  outgoing: { perSecond: 4 },

  nativeSymbol(symbol: string): string {
    const { base, quote } = parseSpotSymbol(symbol, 'binance (spot)');
    return base + quote;
  },

  /** Binance's WebSocket takes streams of unknown symbols silently: exchangeInfo tells them apart. */
  listedSymbols: spotListedSymbols,
};
