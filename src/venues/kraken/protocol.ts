/** Kraken WebSocket v2 naming shared by the adapter, its session and the simulator. */

import type { Channel, StreamSpec } from '../contract.js';
import { digitsAt } from '../kit/digits.js';

/** Normalized channel → Kraken v2 channel. */
export const KRAKEN_CHANNEL: Readonly<Partial<Record<Channel, string>>> = {
  trades: 'trade',
  ticker: 'ticker',
  book: 'book',
  candles: 'ohlc',
};

/** Book depths Kraken v2 accepts. */
export const KRAKEN_BOOK_DEPTHS: readonly number[] = [10, 25, 100, 500, 1000];

/** Candle interval (ringfeed spelling) → Kraken `ohlc` interval in minutes. */
export const KRAKEN_OHLC_MINUTES: Readonly<Record<string, number>> = Object.freeze({
  '1m': 1,
  '5m': 5,
  '15m': 15,
  '30m': 30,
  '1h': 60,
  '4h': 240,
  '1d': 1440,
  '1w': 10080,
  '15d': 21600,
});

export const DEFAULT_OHLC_INTERVAL = '1m';

/** Kraken interval minutes for a candle stream; throws naming the stream for one Kraken lacks. */
export function ohlcMinutes(spec: StreamSpec): number {
  const interval = spec.interval ?? DEFAULT_OHLC_INTERVAL;
  const m = Object.hasOwn(KRAKEN_OHLC_MINUTES, interval) ? KRAKEN_OHLC_MINUTES[interval] : undefined;
  if (m === undefined) {
    throw new Error(
      `kraken: unsupported candle interval ${JSON.stringify(interval)} for ${spec.symbol}; ` +
        `expected one of ${Object.keys(KRAKEN_OHLC_MINUTES).join(' ')}`,
    );
  }
  return m;
}

/**
 * RFC 3339 UTC time (`2026-08-12T19:29:00.921195Z`, any number of fraction digits) → ms since
 * epoch, keeping sub-millisecond digits. NaN for anything else. Parses char codes: no allocation.
 */
export function parseRfc3339(s: unknown): number {
  if (typeof s !== 'string' || s.length < 20 || s.charCodeAt(s.length - 1) !== 90 /* Z */) return Number.NaN;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return Number.NaN;
  const ms = Date.UTC(
    digitsAt(s, 0, 4),
    digitsAt(s, 5, 2) - 1,
    digitsAt(s, 8, 2),
    digitsAt(s, 11, 2),
    digitsAt(s, 14, 2),
    digitsAt(s, 17, 2),
  );
  if (s.length === 20) return ms;
  if (s[19] !== '.') return Number.NaN;
  let frac = 0;
  let scale = 1000;
  for (let i = 20; i < s.length - 1; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    scale /= 10;
    frac += d * scale;
  }
  return ms + frac;
}
