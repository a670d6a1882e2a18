/**
 * OKX v5 naming: instrument ids, channel names, candle intervals and which socket path a
 * channel lives on (shared by the adapter, its session and the simulator).
 */

import type { StreamSpec } from '../contract.js';
import { parseInstrument } from '../kit/symbols.js';

/**
 * Normalized symbol → OKX instId:
 *   `BTC/USDT` → `BTC-USDT` (spot); `BTC/USDT:USDT` → `BTC-USDT-SWAP`; `BTC/USD:BTC` → `BTC-USD-SWAP`;
 *   `BTC/USDT:USDT-261225` → `BTC-USDT-261225`, `BTC/USD:BTC-261225` → `BTC-USD-261225` (futures);
 *   `BTC/USD:BTC-261225-100000-C` → `BTC-USD-261225-100000-C` (options, settled in the base).
 * OKX spells instruments in upper case. Throws an Error naming the symbol for what OKX cannot list.
 */
export function okxInstId(symbol: string): string {
  const p = parseInstrument(symbol, { venue: 'okx', kinds: ['spot', 'swap', 'future', 'option'] });
  const { base, quote, settle } = p;
  if (p.kind === 'spot') return `${base}-${quote}`;
  if (p.kind === 'option') {
    // OKX's options are coin-margined: quoted against USD, settled in the base (BTC-USD-…-C).
    if (quote !== 'USD' || settle !== base) {
      throw new Error(
        `okx: symbol ${JSON.stringify(symbol)} cannot exist: OKX options are quoted in USD and settle in ` +
          `their base currency (BASE/USD:BASE-YYMMDD-STRIKE-C|P, e.g. BTC/USD:BTC-261225-100000-C)`,
      );
    }
    return `${base}-${quote}-${p.expiry}-${p.strike}-${p.optionType}`;
  }
  // Linear swaps and futures settle in the quote currency, inverse ones in the base currency.
  if (settle !== quote && settle !== base) {
    const what = p.kind === 'swap' ? 'a perpetual swap' : 'a future';
    const eg = p.kind === 'swap' ? 'BTC/USDT:USDT' : 'BTC/USDT:USDT-261225';
    const egInv = p.kind === 'swap' ? 'BTC/USD:BTC' : 'BTC/USD:BTC-261225';
    throw new Error(
      `okx: symbol ${JSON.stringify(symbol)} cannot exist: ${what} settles in its quote ` +
        `(linear, e.g. ${eg}) or its base currency (inverse, e.g. ${egInv})`,
    );
  }
  return p.kind === 'swap' ? `${base}-${quote}-SWAP` : `${base}-${quote}-${p.expiry}`;
}

const INST_ID_RE = /^([A-Z0-9]+)-([A-Z0-9]+)(?:-(SWAP)|-(\d{6})(?:-(\d+(?:\.\d+)?)-([CP]))?)?$/;

/** Inverse of `okxInstId`; undefined for what it does not name. */
export function okxSymbol(instId: string): string | undefined {
  const m = INST_ID_RE.exec(instId);
  if (m === null) return undefined;
  const [, base, quote, swap, expiry, strike, cp] = m;
  if (swap === undefined && expiry === undefined) return `${base}/${quote}`;
  // OKX's inverse contracts (and all its options) are quoted in USD and settle in the base currency.
  const settle = quote === 'USD' ? base : quote;
  if (swap !== undefined) return `${base}/${quote}:${settle}`;
  if (strike === undefined) return `${base}/${quote}:${settle}-${expiry}`;
  return `${base}/${quote}:${settle}-${expiry}-${strike}-${cp}`;
}

/** true for derivative instruments (sizes in contracts; volumes reported differently). */
export function isDerivativeInstId(instId: string): boolean {
  return instId.endsWith('-SWAP') || /-\d{6}(?:-[\d.]+-[CP])?$/.test(instId);
}

/**
 * The instId a channel is subscribed with: `index-tickers` takes the index (the swap's underlying,
 * `BTC-USDT` for `BTC-USDT-SWAP`); every other channel the instrument itself.
 */
export function channelInstId(channel: string, instId: string): string {
  return channel === 'index-tickers' ? instId.replace(/-SWAP$/, '') : instId;
}

/** OKX's instType of an instId: SPOT, SWAP, FUTURES or OPTION. */
export function okxInstType(instId: string): 'SPOT' | 'SWAP' | 'FUTURES' | 'OPTION' {
  if (instId.endsWith('-SWAP')) return 'SWAP';
  if (/-[CP]$/.test(instId)) return 'OPTION';
  return /-\d{6}$/.test(instId) ? 'FUTURES' : 'SPOT';
}

/**
 * Our candle intervals → OKX channel suffix. Intervals of 6h and longer use the `utc` variants:
 * OKX's plain ones are aligned to UTC+8, ours (and Binance's) to UTC.
 */
export const OKX_CANDLE_INTERVALS: Readonly<Record<string, { channel: string; sec: number }>> = Object.freeze({
  '1s': { channel: 'candle1s', sec: 1 },
  '1m': { channel: 'candle1m', sec: 60 },
  '3m': { channel: 'candle3m', sec: 180 },
  '5m': { channel: 'candle5m', sec: 300 },
  '15m': { channel: 'candle15m', sec: 900 },
  '30m': { channel: 'candle30m', sec: 1800 },
  '1h': { channel: 'candle1H', sec: 3600 },
  '2h': { channel: 'candle2H', sec: 7200 },
  '4h': { channel: 'candle4H', sec: 14400 },
  '6h': { channel: 'candle6Hutc', sec: 21600 },
  '12h': { channel: 'candle12Hutc', sec: 43200 },
  '1d': { channel: 'candle1Dutc', sec: 86400 },
  '3d': { channel: 'candle3Dutc', sec: 259200 },
  '1w': { channel: 'candle1Wutc', sec: 604800 },
  '1M': { channel: 'candle1Mutc', sec: 2592000 },
});

/** Interval seconds of an OKX candle channel name (`candle1m` → 60), undefined otherwise. */
export function okxCandleSec(channel: string): number | undefined {
  for (const k in OKX_CANDLE_INTERVALS) {
    const v = OKX_CANDLE_INTERVALS[k];
    if (v.channel === channel) return v.sec;
  }
  return undefined;
}

export type OkxBookChannel = 'books' | 'books5';

/** One `{channel, instId}` subscription argument. */
export interface OkxArg {
  readonly channel: string;
  readonly instId: string;
}

/**
 * The OKX channels one stream needs. `funding` is two channels (funding-rate and mark-price)
 * and exists only for swaps; for spot it yields none.
 */
export function okxChannelsOf(spec: StreamSpec, bookChannel: OkxBookChannel): string[] {
  switch (spec.channel) {
    case 'trades':
      return ['trades'];
    case 'ticker':
      return ['tickers'];
    case 'quotes':
      return ['bbo-tbt'];
    case 'book':
      return [bookChannel];
    case 'funding':
      // Funding exists for perpetual swaps only (OKX refuses funding-rate for futures and options).
      // The index price comes from the index's own channel (`index-tickers`).
      return okxInstType(spec.native) === 'SWAP' ? ['funding-rate', 'mark-price', 'index-tickers'] : [];
    case 'candles': {
      const interval = spec.interval ?? '1m';
      const c = Object.hasOwn(OKX_CANDLE_INTERVALS, interval) ? OKX_CANDLE_INTERVALS[interval] : undefined;
      if (c === undefined) {
        throw new Error(
          `okx: unsupported candle interval ${JSON.stringify(interval)} for ${spec.symbol}; ` +
            `expected one of ${Object.keys(OKX_CANDLE_INTERVALS).join(' ')}`,
        );
      }
      return [c.channel];
    }
    default:
      throw new Error(`okx: unsupported channel ${JSON.stringify(spec.channel)} for ${spec.symbol}`);
  }
}

/** Candles live on `/ws/v5/business`, everything else here on `/ws/v5/public`. */
export function okxPathOf(channel: string): '/ws/v5/public' | '/ws/v5/business' {
  return channel.startsWith('candle') ? '/ws/v5/business' : '/ws/v5/public';
}
