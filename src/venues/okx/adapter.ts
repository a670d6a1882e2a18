/**
 * OKX v5 public market data (`wss://ws.okx.com:8443/ws/v5/public`; candles on `/ws/v5/business`).
 * The configured WS URL is the base (`wss://ws.okx.com:8443`); the adapter appends the path, and
 * `connectionKey` keeps public and business channels on separate sockets. Protocol state and
 * normalization live in `okx-session.ts`, naming in `okx-channels.ts`.
 *
 * The registered `okx` adapter uses the 400-level `books` channel (sequence + checksum checks).
 * `createOkxAdapter({ bookChannel: 'books5' })` builds one that uses 5-level snapshots instead.
 */

import type { SessionContext, SocketVenueDefinition, StreamSpec, VenueSession } from '../contract.js';
import { OKX_CANDLE_INTERVALS, okxInstId } from './channels.js';
import { createOkxSession, type OkxSessionOptions } from './session.js';

/** Candles are served on `/ws/v5/business`, every other channel here on `/ws/v5/public`. */
function pathFor(stream: StreamSpec): '/ws/v5/public' | '/ws/v5/business' {
  return stream.channel === 'candles' ? '/ws/v5/business' : '/ws/v5/public';
}

export function createOkxAdapter(options: OkxSessionOptions = {}): SocketVenueDefinition {
  return {
    id: 'okx',
    channels: ['trades', 'quotes', 'ticker', 'book', 'candles', 'funding'],
    defaultWsUrl: 'wss://ws.okx.com:8443',
    defaultRestUrl: 'https://www.okx.com',
    candleIntervals: Object.keys(OKX_CANDLE_INTERVALS),
    // OKX closes a connection that has been silent for 30 s; it answers a text `ping` with `pong`.
    appPing: { intervalMs: 25_000, text: 'ping' },
    // 480 subscribe / unsubscribe / login requests per connection per hour: a burst of 40, then one
    // every ~8 s (40 + 0.12 × 3600 = 472 in any hour); waiting requests merge into one.
    outgoing: { perSecond: 0.12, burst: 40 },

    nativeSymbol(symbol: string): string {
      return okxInstId(symbol);
    },

    connectionKey(stream: StreamSpec): string {
      return pathFor(stream) === '/ws/v5/business' ? 'business' : 'public';
    },

    connectUrl(wsBaseUrl: string, streams: readonly StreamSpec[]): string {
      const base = wsBaseUrl.endsWith('/') ? wsBaseUrl.slice(0, -1) : wsBaseUrl;
      const business = streams.length > 0 && streams.every((s) => pathFor(s) === '/ws/v5/business');
      return base + (business ? '/ws/v5/business' : '/ws/v5/public');
    },

    createSession(ctx: SessionContext): VenueSession {
      return createOkxSession(ctx, options);
    },
  };
}

export const okx: SocketVenueDefinition = createOkxAdapter();
