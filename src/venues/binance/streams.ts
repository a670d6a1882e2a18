/** Binance stream naming and kline intervals (spot and USD-M futures; shared by adapters and session). */

import type { Channel, StreamSpec } from '../contract.js';

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

/** How one Binance market names its streams. */
export interface StreamNaming {
  /** Label for messages, e.g. `binance`. */
  readonly venue: string;
  /** Channel → stream-name suffix (candles are handled separately). */
  readonly suffix: Readonly<Partial<Record<Channel, string>>>;
  /** Kline intervals this market offers. */
  readonly intervals: readonly string[];
}

export const SPOT_NAMING: StreamNaming = {
  venue: 'binance',
  suffix: {
    trades: '@trade',
    aggTrades: '@aggTrade',
    quotes: '@bookTicker',
    ticker: '@ticker',
    book: '@depth@100ms',
  },
  intervals: Object.keys(KLINE_INTERVAL_SEC),
};

/** Stream name for one spec under `naming`, e.g. `btcusdt@depth@100ms`. Throws for a bad channel or interval. */
export function streamNameFor(naming: StreamNaming, spec: StreamSpec): string {
  const s = spec.native.toLowerCase();
  if (spec.channel === 'candles') {
    const interval = spec.interval ?? DEFAULT_KLINE_INTERVAL;
    if (!naming.intervals.includes(interval)) {
      throw new Error(
        `${naming.venue}: unsupported candle interval ${JSON.stringify(interval)} for ${spec.symbol}; ` +
          `expected one of ${naming.intervals.join(' ')}`,
      );
    }
    return `${s}@kline_${interval}`;
  }
  const suffix = naming.suffix[spec.channel];
  if (suffix === undefined) {
    throw new Error(`${naming.venue}: unsupported channel ${JSON.stringify(spec.channel)}`);
  }
  return s + suffix;
}

/** Combined-stream name for one Binance spot spec, e.g. `btcusdt@depth@100ms`. Throws for a bad interval. */
export function streamName(spec: StreamSpec): string {
  return streamNameFor(SPOT_NAMING, spec);
}

/** `<base>/stream?streams=a/b/…` for combined streams (duplicates removed). */
export function combinedStreamUrl(naming: StreamNaming, wsBaseUrl: string, streams: readonly StreamSpec[]): string {
  const base = wsBaseUrl.endsWith('/') ? wsBaseUrl.slice(0, -1) : wsBaseUrl;
  if (streams.length === 0) return `${base}/stream`;
  const names = [...new Set(streams.map((s) => streamNameFor(naming, s)))];
  return `${base}/stream?streams=${names.join('/')}`;
}
