/** Binance spot stream naming and kline intervals (shared by the adapter and its session). */

import type { Channel, StreamSpec } from './types.js';

/** Kline interval → length in seconds. `1M` is counted as 30 days (calendar months vary). */
export const KLINE_INTERVAL_SEC: Readonly<Record<string, number>> = Object.freeze({
  '1s': 1,
  '1m': 60,
  '3m': 180,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '2h': 7200,
  '4h': 14400,
  '6h': 21600,
  '8h': 28800,
  '12h': 43200,
  '1d': 86400,
  '3d': 259200,
  '1w': 604800,
  '1M': 2592000,
});

export const DEFAULT_KLINE_INTERVAL = '1m';

/** Seconds for a kline interval, or undefined when Binance does not offer it. */
export function klineIntervalSec(interval: unknown): number | undefined {
  return typeof interval === 'string' && Object.hasOwn(KLINE_INTERVAL_SEC, interval)
    ? KLINE_INTERVAL_SEC[interval]
    : undefined;
}

const SUFFIX: Readonly<Partial<Record<Channel, string>>> = {
  trades: '@trade',
  aggTrades: '@aggTrade',
  quotes: '@bookTicker',
  ticker: '@ticker',
  book: '@depth@100ms',
};

/** Combined-stream name for one spec, e.g. `btcusdt@depth@100ms`. Throws for a bad interval. */
export function streamName(spec: StreamSpec): string {
  const s = spec.native.toLowerCase();
  if (spec.channel === 'candles') {
    const interval = spec.interval ?? DEFAULT_KLINE_INTERVAL;
    if (klineIntervalSec(interval) === undefined) {
      throw new Error(
        `binance: unsupported candle interval ${JSON.stringify(interval)} for ${spec.symbol}; ` +
          `expected one of ${Object.keys(KLINE_INTERVAL_SEC).join(' ')}`,
      );
    }
    return `${s}@kline_${interval}`;
  }
  const suffix = SUFFIX[spec.channel];
  if (suffix === undefined) {
    throw new Error(`binance: unsupported channel ${JSON.stringify(spec.channel)}`);
  }
  return s + suffix;
}
