/**
 * OpenD's tables as ringfeed uses them: proto ids, subscription types per channel, K-line
 * intervals, markets and their states, and the symbol grammar (`HK.00700`, `US.AAPL`,
 * `SH.600519`, `SZ.000001`).
 */
import type { Channel } from '../contract.js';

export const ProtoId = {
  InitConnect: 1001,
  GetGlobalState: 1002,
  Notify: 1003,
  KeepAlive: 1004,
  QotSub: 3001,
  QotRegQotPush: 3002,
  QotUpdateBasicQot: 3005,
  QotUpdateKL: 3007,
  QotGetTicker: 3010,
  QotUpdateTicker: 3011,
  QotUpdateOrderBook: 3013,
} as const;

/** Qot_Common.SubType values ringfeed subscribes. */
export const SubType = { Basic: 1, OrderBook: 2, Ticker: 4 } as const;

/** Candle interval → Qot_Common.SubType (subscription) and Qot_Common.KLType (push), seconds. */
export const FUTU_CANDLE_INTERVALS: Readonly<Record<string, { subType: number; klType: number; sec: number }>> = Object.freeze({
  '1m': { subType: 11, klType: 1, sec: 60 },
  '3m': { subType: 17, klType: 10, sec: 180 },
  '5m': { subType: 7, klType: 6, sec: 300 },
  '10m': { subType: 18, klType: 12, sec: 600 },
  '15m': { subType: 8, klType: 7, sec: 900 },
  '30m': { subType: 9, klType: 8, sec: 1800 },
  '1h': { subType: 10, klType: 9, sec: 3600 },
  '2h': { subType: 19, klType: 13, sec: 7200 },
  '3h': { subType: 20, klType: 14, sec: 10800 },
  '4h': { subType: 21, klType: 15, sec: 14400 },
  '1d': { subType: 6, klType: 2, sec: 86400 },
  '1w': { subType: 12, klType: 3, sec: 604800 },
});

/** The KLType of a push → its interval seconds (undefined for a type not in the table). */
export function klTypeSeconds(klType: number): number | undefined {
  for (const k in FUTU_CANDLE_INTERVALS) if (FUTU_CANDLE_INTERVALS[k]!.klType === klType) return FUTU_CANDLE_INTERVALS[k]!.sec;
  return undefined;
}

/** The SubType a stream needs (quotes and book share the order book subscription). */
export function subTypeOf(channel: Channel, interval: string | undefined): number {
  switch (channel) {
    case 'trades':
      return SubType.Ticker;
    case 'book':
    case 'quotes':
      return SubType.OrderBook;
    case 'ticker':
      return SubType.Basic;
    case 'candles': {
      const kl = FUTU_CANDLE_INTERVALS[interval ?? '1m'];
      if (kl === undefined) throw new Error(`futu: no candle interval ${JSON.stringify(interval)}`);
      return kl.subType;
    }
    default:
      throw new Error(`futu: no channel ${channel}`);
  }
}

/** Symbol prefix → Qot_Common.QotMarket, and the code grammar of that market. */
export const FUTU_MARKETS: Readonly<Record<string, { market: number; code: RegExp; example: string }>> = Object.freeze({
  HK: { market: 1, code: /^[0-9]{5,6}$/, example: 'HK.00700' },
  US: { market: 11, code: /^[A-Z][A-Z0-9]{0,9}(\.[A-Z])?$/, example: 'US.AAPL' },
  SH: { market: 21, code: /^[0-9]{6}$/, example: 'SH.600519' },
  SZ: { market: 22, code: /^[0-9]{6}$/, example: 'SZ.000001' },
});

const MARKET_PREFIX = new Map(Object.entries(FUTU_MARKETS).map(([prefix, m]) => [m.market, prefix]));

export interface FutuSecurity {
  readonly market: number;
  readonly code: string;
}

const GRAMMAR = 'MARKET.CODE: HK.00700 (5–6 digits), US.AAPL (letters/digits, e.g. US.BRK.B), SH.600519 or SZ.000001 (6 digits)';

/** `HK.00700` → { market: 1, code: '00700' }; throws naming the symbol and the grammar. */
export function parseFutuSymbol(symbol: string): FutuSecurity {
  const shown = typeof symbol === 'string' ? JSON.stringify(symbol.length > 40 ? `${symbol.slice(0, 40)}…` : symbol) : String(symbol);
  const dot = typeof symbol === 'string' ? symbol.indexOf('.') : -1;
  const m = dot > 0 ? FUTU_MARKETS[symbol.slice(0, dot)] : undefined;
  const code = dot > 0 ? symbol.slice(dot + 1) : '';
  if (m === undefined || !m.code.test(code)) throw new Error(`futu: invalid symbol ${shown}; expected ${GRAMMAR}`);
  return { market: m.market, code };
}

/** { market: 1, code: '00700' } → `HK.00700` (undefined for a market ringfeed does not speak). */
export function futuSymbolOf(market: number, code: string): string | undefined {
  const prefix = MARKET_PREFIX.get(market);
  return prefix === undefined ? undefined : `${prefix}.${code}`;
}

/** GetGlobalState field per market. */
export const MARKET_STATE_FIELD: Readonly<Record<number, string>> = { 1: 'marketHK', 11: 'marketUS', 21: 'marketSH', 22: 'marketSZ' };

/**
 * Qot_Common.QotMarketState values in which no data is expected: none, waiting to open, midday
 * rest, closed, the ends of pre/after-hours and night sessions, closed for the day.
 */
const QUIET_STATES = new Set([0, 2, 4, 6, 9, 11, 14, 29, 31, 34]);

export function isQuietMarketState(state: number): boolean {
  return QUIET_STATES.has(state);
}

/** TickerDirection: 1 bid (buyer-initiated, "外盘") → buy, 2 ask → sell, else unknown. */
export function sideOfDirection(dir: number): number {
  return dir === 1 ? 1 : dir === 2 ? 2 : 0;
}
