/**
 * Kraken spot adapter, WebSocket v2 (`wss://ws.kraken.com/v2`). Everything is subscribed with
 * `{"method":"subscribe"}` frames after the socket opens (nothing goes in the URL). Protocol
 * state and normalization live in `kraken-session.ts`; the book checksum in `kraken-checksum.ts`.
 */

import type { SessionContext, SocketVenueDefinition, VenueSession } from '../contract.js';
import { parseSpotSymbol } from '../kit/symbols.js';
import { KRAKEN_OHLC_MINUTES } from './protocol.js';
import { createKrakenSession } from './session.js';

export const kraken: SocketVenueDefinition = {
  id: 'kraken',
  channels: ['trades', 'ticker', 'book', 'candles'],
  defaultWsUrl: 'wss://ws.kraken.com/v2',
  defaultRestUrl: 'https://api.kraken.com',
  candleIntervals: Object.keys(KRAKEN_OHLC_MINUTES),
  /** Kraken v2 application-level ping (answered with `{"method":"pong"}`). */
  appPing: { intervalMs: 20_000, text: '{"method":"ping"}' },

  /**
   * v2 spells pairs like ringfeed (`BTC/USD`; `XBT` is v1 only), case-sensitively: tokenised
   * stocks are `AAPLx/USD`, kept as written. Spot only.
   */
  nativeSymbol(symbol: string): string {
    const { base, quote } = parseSpotSymbol(symbol, 'kraken (spot)', { case: 'preserve' });
    return `${base}/${quote}`;
  },

  createSession(ctx: SessionContext): VenueSession {
    return createKrakenSession(ctx);
  },
};
