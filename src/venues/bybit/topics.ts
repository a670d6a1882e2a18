/**
 * Bybit v5 public topic naming, categories and kline intervals (shared by the adapter, its
 * session and the simulator). https://bybit-exchange.github.io/docs/v5/ws/connect
 */

import type { StreamSpec } from '../contract.js';
import { expiryDMY, parseInstrument } from '../kit/symbols.js';

/** The public endpoints this adapter speaks: `/v5/public/spot`, `/v5/public/linear` and `/v5/public/option`. */
export type BybitCategory = 'spot' | 'linear' | 'option';

/** Order book depths Bybit offers on the `orderbook.<depth>.<symbol>` topic (spot and linear). */
export const BYBIT_BOOK_DEPTHS: readonly number[] = [1, 50, 200, 1000];
export const DEFAULT_BOOK_DEPTH = 50;
/** Options have 25 and 100 levels only (v5 orderbook docs); their `book` topic is `orderbook.25.<symbol>`. */
export const BYBIT_OPTION_BOOK_DEPTH = 25;

/** Spot takes at most 10 args per subscribe request; linear has no such cap, batching is harmless. */
export const MAX_ARGS_PER_REQUEST = 10;

/** Normalized candle interval → Bybit kline interval. */
export const BYBIT_INTERVALS: Readonly<Record<string, string>> = Object.freeze({
  '1m': '1',
  '3m': '3',
  '5m': '5',
  '15m': '15',
  '30m': '30',
  '1h': '60',
  '2h': '120',
  '4h': '240',
  '6h': '360',
  '12h': '720',
  '1d': 'D',
  '1w': 'W',
  '1M': 'M',
});

/** Bybit kline interval → seconds. `M` is counted as 30 days (calendar months vary). */
const INTERVAL_SEC: Readonly<Record<string, number>> = Object.freeze({
  '1': 60,
  '3': 180,
  '5': 300,
  '15': 900,
  '30': 1800,
  '60': 3600,
  '120': 7200,
  '240': 14400,
  '360': 21600,
  '720': 43200,
  D: 86400,
  W: 604800,
  M: 2592000,
});

/** Seconds of a Bybit kline interval (`1`, `60`, `D` …), or undefined. */
export function bybitIntervalSec(interval: unknown): number | undefined {
  return typeof interval === 'string' && Object.hasOwn(INTERVAL_SEC, interval) ? INTERVAL_SEC[interval] : undefined;
}

/**
 * Category of a normalized symbol: `BASE/QUOTE` → spot, `BASE/QUOTE:SETTLE[-YYMMDD]` → linear,
 * `BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P` → option.
 */
export function categoryOf(symbol: string): BybitCategory {
  if (/-[CP]$/.test(symbol)) return 'option';
  return symbol.includes(':') ? 'linear' : 'spot';
}

/**
 * Normalized symbol → Bybit v5 symbol. This adapter reads the spot and linear endpoints:
 *   `BTC/USDT` → `BTCUSDT` (spot); `BTC/USDT:USDT` → `BTCUSDT` (USDT perpetual);
 *   `BTC/USDT:USDT-261225` → `BTCUSDT-25DEC26` (USDT future); `BTC/USDC:USDC-261225` → `BTC-25DEC26`
 *   (USDC future). Bybit spells symbols in upper case. Throws an Error naming the symbol for anything
 * this adapter cannot subscribe: inverse contracts (`/v5/public/inverse`), options
 * (`/v5/public/option`, whose trades come per base coin) and USDC perpetuals (`BTCPERP`).
 */
export function bybitNativeSymbol(symbol: string): string {
  const p = parseInstrument(symbol, { venue: 'bybit', kinds: ['spot', 'swap', 'future', 'option'] });
  const { base, quote, settle } = p;
  const supported =
    'only spot (BASE/QUOTE), USDT linear perpetuals (BASE/USDT:USDT), linear futures ' +
    '(BASE/USDT:USDT-YYMMDD, BASE/USDC:USDC-YYMMDD) and options (BASE/USDC:USDC-YYMMDD-STRIKE-C|P) are supported';
  if (p.kind === 'spot') return base + quote;
  if (p.kind === 'option') {
    // BTC-25DEC26-100000-C settles in USDC; USDT-settled options carry a -USDT suffix.
    const id = `${base}-${expiryDMY(p.expiry!, false)}-${p.strike}-${p.optionType}`;
    if (quote === 'USDC' && settle === 'USDC') return id;
    if (quote === 'USDT' && settle === 'USDT') return `${id}-USDT`;
    throw new Error(
      `bybit: symbol ${JSON.stringify(symbol)} cannot exist: Bybit options are quoted and settled in USDC ` +
        '(BASE/USDC:USDC-YYMMDD-STRIKE-C|P) or USDT (BASE/USDT:USDT-YYMMDD-STRIKE-C|P)',
    );
  }
  if (settle !== quote) {
    throw new Error(`bybit: symbol ${JSON.stringify(symbol)} settles in ${settle} (inverse contract); ${supported}`);
  }
  if (p.kind === 'future') {
    // Bybit names linear futures by day, month and year: BTCUSDT-25DEC26 (USDT), BTC-25DEC26 (USDC).
    if (settle === 'USDT') return `${base}USDT-${expiryDMY(p.expiry!, false)}`;
    if (settle === 'USDC') return `${base}-${expiryDMY(p.expiry!, false)}`;
    throw new Error(`bybit: symbol ${JSON.stringify(symbol)} is not a USDT or USDC future; ${supported}`);
  }
  if (settle !== 'USDT') {
    // USDC perpetuals exist on the linear endpoint but use other names (e.g. BTCPERP); not mapped.
    throw new Error(`bybit: symbol ${JSON.stringify(symbol)} is not a USDT perpetual; ${supported}`);
  }
  return base + quote;
}

/** The Bybit kline interval for a normalized one; throws naming the interval when unsupported. */
export function bybitInterval(interval: string, symbol: string): string {
  const v = Object.hasOwn(BYBIT_INTERVALS, interval) ? BYBIT_INTERVALS[interval] : undefined;
  if (v === undefined) {
    throw new Error(
      `bybit: unsupported candle interval ${JSON.stringify(interval)} for ${symbol}; ` +
        `expected one of ${Object.keys(BYBIT_INTERVALS).join(' ')}`,
    );
  }
  return v;
}

/** The topic carrying one stream, e.g. `orderbook.50.BTCUSDT`. Throws for an unsupported stream. */
export function topicOf(spec: StreamSpec, bookDepth = DEFAULT_BOOK_DEPTH): string {
  const s = spec.native;
  if (categoryOf(spec.symbol) === 'option') return optionTopicOf(spec);
  switch (spec.channel) {
    case 'trades':
      return `publicTrade.${s}`;
    case 'ticker':
      return `tickers.${s}`;
    case 'funding':
      if (categoryOf(spec.symbol) !== 'linear' || /-\d{6}$/.test(spec.symbol)) {
        throw new Error(`bybit: funding is only available for perpetuals (BASE/QUOTE:SETTLE), not ${spec.symbol}`);
      }
      return `tickers.${s}`;
    case 'quotes':
      return `orderbook.1.${s}`;
    case 'book':
      return `orderbook.${bookDepth}.${s}`;
    case 'candles':
      return `kline.${bybitInterval(spec.interval ?? '1m', spec.symbol)}.${s}`;
    default:
      throw new Error(`bybit: unsupported channel ${JSON.stringify(spec.channel)} for ${spec.symbol}`);
  }
}

/**
 * Options carry fewer channels here: the book (`orderbook.25.<symbol>`, Bybit's smallest option
 * depth) and trades, which Bybit publishes per base coin (`publicTrade.BTC`, every BTC option on
 * one topic; the session writes those of the subscribed options, by `s`). Option tickers have
 * their own fields (`bidPrice`, `bidIv`, greeks) and options have no 1-level book or klines.
 */
function optionTopicOf(spec: StreamSpec): string {
  if (spec.channel === 'book') return `orderbook.${BYBIT_OPTION_BOOK_DEPTH}.${spec.native}`;
  if (spec.channel === 'trades') return `publicTrade.${spec.native.slice(0, spec.native.indexOf('-'))}`;
  throw new Error(
    `bybit: channel ${JSON.stringify(spec.channel)} is not available for the option ${spec.symbol}; ` +
      'options have trades and book only',
  );
}

/** Split `requests` args into frames of at most MAX_ARGS_PER_REQUEST args. */
export function batchArgs(args: readonly string[], max = MAX_ARGS_PER_REQUEST): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < args.length; i += max) out.push(args.slice(i, i + max));
  return out;
}
