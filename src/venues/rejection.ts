/**
 * Subscriptions the venue refuses: shared by the connection tasks (which write the `rejected`
 * status record and tell the main thread) and the sessions (which recognise the venue's refusal).
 */
import { RecordType } from '../records/types.js';
import type { Channel, StreamSpec } from './contract.js';

/** Why a stream was refused (the `code` of the worker's `rejected` message and the engine event). */
export type RejectionCode = 'ERR_BAD_SYMBOL' | 'ERR_BAD_CHANNEL' | 'ERR_SUBSCRIPTION_REJECTED';

/** The record type a channel delivers: the `detail` of its `rejected` status record. */
export const CHANNEL_RECORD_TYPE: Readonly<Record<Channel, number>> = {
  trades: RecordType.trade,
  aggTrades: RecordType.trade,
  quotes: RecordType.quote,
  ticker: RecordType.ticker,
  book: RecordType.book,
  candles: RecordType.candle,
  funding: RecordType.ticker,
};

/**
 * The message a task gives a failed WebSocket upgrade (`HTTP <status> on upgrade…`); the
 * supervisor reads the status back with `upgradeStatus` (a 400 repeated is a refusal, not an outage).
 */
export function upgradeFailure(status: number, body: string): string {
  const detail = body.trim().slice(0, 300);
  return detail ? `HTTP ${status} on upgrade: ${detail}` : `HTTP ${status} on upgrade`;
}

/** The HTTP status of a failed upgrade, from a task's end message (undefined for anything else). */
export function upgradeStatus(message: string): number | undefined {
  const m = /^HTTP (\d{3}) on upgrade/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** Streams whose channel+symbol key matches: `FOO/BAR trades` → the specs of that symbol on that channel. */
export function streamsOfSymbol(streams: readonly StreamSpec[], native: string, channels?: readonly Channel[]): StreamSpec[] {
  return streams.filter((s) => s.native === native && (channels === undefined || channels.includes(s.channel)));
}

/** `binance: BTC/USDT trades, quotes` – how a message names the refused streams. */
export function describeStreams(venue: string, streams: readonly StreamSpec[]): string {
  const bySymbol = new Map<string, string[]>();
  for (const s of streams) {
    const list = bySymbol.get(s.symbol) ?? [];
    list.push(s.channel === 'candles' && s.interval ? `candles ${s.interval}` : s.channel);
    bySymbol.set(s.symbol, list);
  }
  return `${venue}: ${[...bySymbol].map(([symbol, channels]) => `${symbol} (${channels.join(', ')})`).join('; ')}`;
}
