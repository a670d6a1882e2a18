/**
 * Bybit v5 public adapter: spot (`wss://stream.bybit.com/v5/public/spot`), USDT linear
 * perpetuals and USDT/USDC linear futures (`/v5/public/linear`) and option books
 * (`/v5/public/option`). Each category lives on its own endpoint, so the connection key keeps
 * their streams on separate sockets. Protocol state and normalization live in
 * `bybit-session.ts`; topic naming in `bybit-topics.ts`.
 */

import type { SessionContext, SocketVenueDefinition, StreamSpec, VenueSession } from '../contract.js';
import { createBybitSession } from './session.js';
import { BYBIT_INTERVALS, type BybitCategory, bybitNativeSymbol, categoryOf, topicOf } from './topics.js';

/** The v5 public URL for one category, from a base such as `wss://stream.bybit.com`. */
export function bybitPublicUrl(wsBaseUrl: string, category: BybitCategory): string {
  const base = wsBaseUrl.endsWith('/') ? wsBaseUrl.slice(0, -1) : wsBaseUrl;
  return `${base}/v5/public/${category}`;
}

export const bybit: SocketVenueDefinition = {
  id: 'bybit',
  channels: ['trades', 'quotes', 'ticker', 'book', 'candles', 'funding'],
  defaultWsUrl: 'wss://stream.bybit.com',
  defaultRestUrl: 'https://api.bybit.com',
  /** Bybit asks for an application ping about every 20 s; protocol pings do not count. */
  appPing: { intervalMs: 20_000, text: '{"op":"ping"}' },
  /**
   * One public connection may carry at most 21 000 characters of topic args; 400 topics of up to
   * ~30 characters each (plus JSON quoting) stay below that.
   */
  maxStreamsPerConnection: 400,
  candleIntervals: Object.keys(BYBIT_INTERVALS),

  nativeSymbol(symbol: string): string {
    return bybitNativeSymbol(symbol);
  },

  connectUrl(wsBaseUrl: string, streams: readonly StreamSpec[]): string {
    return bybitPublicUrl(wsBaseUrl, streams.length > 0 ? categoryOf(streams[0].symbol) : 'spot');
  },

  connectionKey(stream: StreamSpec): string {
    // Called on the main thread while placing streams: reject impossible topics (funding on a
    // spot symbol, an unsupported interval) at subscribe time rather than inside the worker.
    topicOf(stream);
    return categoryOf(stream.symbol);
  },

  createSession(ctx: SessionContext): VenueSession {
    return createBybitSession(ctx);
  },
};
