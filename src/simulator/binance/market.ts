/**
 * Synthetic, seeded market: per symbol a random-walk fair price, a full L2 book in integer ticks/lots,
 * Poisson arrivals of book changes, touch quotes and taker orders, and fixed-cadence outputs
 * (aggregated depth diffs, partial books, klines, 24h tickers).
 *
 * Everything runs in *virtual* milliseconds since start, processed strictly in event-time order, and
 * all randomness comes from one PRNG per symbol — so a given seed yields the same sequence of update
 * ids, prices and quantities per symbol no matter how the scheduler ticks. Only the wall-clock
 * grouping of events into socket writes differs between runs.
 *
 * The market is protocol-neutral in its state; the payloads it emits are Binance-spot shaped (that is
 * the only protocol today). Another venue can reuse the state by adding its own emitter.
 */

import { BookSide } from '../kit/book-side.js';
import { addFill, emptyBar, fillBar, type OhlcBar } from '../kit/ohlc-bar.js';
import { expSample, gaussian, hashString, mulberry32, nearIndex, type Rng, randInt } from '../kit/rng.js';

export type RateKind = 'trade' | 'aggTrade' | 'bookTicker' | 'ticker' | 'depth' | 'kline';

export interface MarketOptions {
  seed: number;
  symbols: readonly string[];
  /** Default Poisson rate (events/s per symbol) for book changes, touch quotes and taker orders. */
  ratePerStream: number;
  /**
   * Overrides. `depth`: book-change events/s; `bookTicker`: touch quote events/s; `trade` (or
   * `aggTrade`): taker orders/s (each yields 1–3 trades and one aggTrade); `ticker`: 24h-ticker
   * emissions/s (default 1, as Binance); `kline`: kline emissions/s (default 1).
   */
  rates: Partial<Record<RateKind, number>>;
  /** Book levels kept per side (default 100). */
  depthLevels: number;
  /** Interval of the `@depth@100ms` stream (default 100); `@depth` is always 1000 ms. */
  depthIntervalMs: number;
  /** Unix ms corresponding to virtual time 0. */
  epochMs: number;
  /**
   * Emit Binance USDⓈ-M payloads instead of spot: depth diffs carry `T` and `pu` (the previous
   * diff's `u`, so a hidden change shows as `pu` > the last received `u`), bookTicker carries
   * `e`/`E`/`T`, trades carry `X`, tickers have no best bid/ask, snapshots carry `E`/`T`, and a
   * `@markPrice@1s` stream exists. Spot output is unchanged when false (the default).
   */
  futures?: boolean;
}

/** Where the market sends payloads. `wants` lets it skip serialising streams nobody subscribed. */
export interface MarketSink {
  wants(stream: string): boolean;
  emit(t: number, stream: string, data: string): void;
}

export interface BookView {
  lastUpdateId: number;
  bids: [number, number][];
  asks: [number, number][];
}

export interface BookSnapshot {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

export const SYMBOL_PATTERN = /^[A-Z0-9]{2,}(USDT|BTC|ETH|EUR|USDC|BUSD)$/;

export const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'ADAUSDT'];

const DEFAULT_PRICES: Record<string, number> = {
  BTCUSDT: 64000,
  ETHUSDT: 3000,
  SOLUSDT: 150,
  BNBUSDT: 600,
  XRPUSDT: 0.5,
  ADAUSDT: 0.4,
  ETHBTC: 0.047,
  BNBBTC: 0.0094,
};

/** Kline intervals Binance spot supports, in ms (1M approximated as 30 days). */
export const KLINE_INTERVALS: Record<string, number> = {
  '1s': 1_000,
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
  '1w': 604_800_000,
  '1M': 2_592_000_000,
};

interface Kline extends OhlcBar {
  interval: string;
  ms: number;
  t: number;
  vBuy: number;
  qBuy: number;
  f: number;
  L: number;
}

interface Gen {
  kind: 'depth' | 'quote' | 'trade' | 'fast' | 'slow' | 'ticker' | 'kline' | 'mark';
  next: number;
  /** Poisson rate per ms (0 = fixed interval). */
  rate: number;
  interval: number;
}

class SymbolState {
  readonly lower: string;
  readonly rng: Rng;
  readonly tick: number;
  readonly lot: number;
  /** Typical level spacing away from the touch, in ticks. */
  readonly spacing: number;
  /** Fair price in ticks (float). */
  fair: number;
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  updateId: number;
  tradeId: number;
  aggId: number;
  /** Changes since the last fast/slow flush: price ticks → lots (0 = removed). */
  readonly fastB = new Map<number, number>();
  readonly fastA = new Map<number, number>();
  fastFirst = 0;
  readonly slowB = new Map<number, number>();
  readonly slowA = new Map<number, number>();
  slowFirst = 0;
  /** USD-M `pu`: the `u` of the previous fast / slow diff. */
  fastPrevU = 0;
  slowPrevU = 0;
  /** When true, level changes are applied but not recorded in diffs (gap fault). */
  hidden = false;
  gapPending = false;
  lastTop = '';
  readonly klines = new Map<string, Kline>();
  readonly gens: Gen[] = [];
  /** The 24 h ticker figures (ticks, lots; quote volume in quote units; `close` is the last trade). */
  readonly day: OhlcBar;
  lastQty = 0;
  firstTradeId: number;
  /** Notional per level in quote units (used for quantity sizing). */
  readonly notional: number;

  constructor(
    readonly symbol: string,
    seed: number,
  ) {
    this.lower = symbol.toLowerCase();
    this.rng = mulberry32((seed ^ hashString(symbol)) >>> 0);
    const price = startPrice(symbol, this.rng);
    this.tick = Math.max(1e-8, Math.min(0.01, 10 ** (Math.floor(Math.log10(price)) - 3)));
    this.lot = Math.max(1e-8, Math.min(1, 10 ** -Math.ceil(Math.log10(price))));
    this.spacing = Math.max(1, Math.round((price * 1e-5) / this.tick));
    this.fair = price / this.tick;
    this.notional = notionalFor(symbol);
    this.updateId = 1_000_000 + Math.floor(this.rng() * 1e9);
    this.fastPrevU = this.updateId;
    this.slowPrevU = this.updateId;
    this.tradeId = 100_000 + Math.floor(this.rng() * 1e8);
    this.aggId = 50_000 + Math.floor(this.rng() * 1e8);
    this.firstTradeId = this.tradeId + 1;
    this.day = emptyBar(Math.round(this.fair));
  }

  priceStr(ticks: number): string {
    return (ticks * this.tick).toFixed(8);
  }
  qtyStr(lots: number): string {
    return (lots * this.lot).toFixed(8);
  }
  randomLots(): number {
    const price = this.fair * this.tick;
    const n = this.notional * Math.exp(gaussian(this.rng) * 0.9);
    return Math.max(1, Math.round(n / price / this.lot));
  }
}

function startPrice(symbol: string, rng: Rng): number {
  const known = DEFAULT_PRICES[symbol];
  if (known !== undefined) return known;
  const u = rng();
  if (symbol.endsWith('BTC')) return 10 ** (-5.5 + u * 3.5);
  if (symbol.endsWith('ETH')) return 10 ** (-5 + u * 4);
  return 10 ** (-2 + u * 5);
}

function notionalFor(symbol: string): number {
  if (symbol.endsWith('BTC')) return 0.3;
  if (symbol.endsWith('ETH')) return 6;
  return 20_000;
}

function levelsJson(s: SymbolState, side: BookSide, limit: number): string {
  const n = Math.min(limit, side.length);
  const parts: string[] = new Array(n);
  for (let i = 0; i < n; i++) parts[i] = `["${s.priceStr(side.px[i])}","${s.qtyStr(side.qty[i])}"]`;
  return `[${parts.join(',')}]`;
}

function diffJson(s: SymbolState, m: Map<number, number>, isBid: boolean): string {
  const keys = [...m.keys()].sort((a, b) => (isBid ? b - a : a - b));
  return `[${keys.map((k) => `["${s.priceStr(k)}","${s.qtyStr(m.get(k)!)}"]`).join(',')}]`;
}

export class SyntheticMarket {
  private readonly states = new Map<string, SymbolState>();
  private now = 0;

  constructor(
    private readonly opts: MarketOptions,
    private readonly sink: MarketSink,
  ) {
    for (const s of opts.symbols) this.ensureSymbol(s);
  }

  /** Known or creatable symbol? Creates it (seeded) on first use. */
  ensureSymbol(symbol: string): boolean {
    const sym = symbol.toUpperCase();
    if (this.states.has(sym)) return true;
    if (!SYMBOL_PATTERN.test(sym)) return false;
    this.create(sym);
    return true;
  }

  symbols(): string[] {
    return [...this.states.keys()];
  }

  /** Start tracking a kline interval for a symbol (from the current candle on). */
  ensureKline(symbol: string, interval: string): boolean {
    const ms = KLINE_INTERVALS[interval];
    if (ms === undefined || !this.ensureSymbol(symbol)) return false;
    const s = this.states.get(symbol.toUpperCase())!;
    if (!s.klines.has(interval)) s.klines.set(interval, this.newKline(s, interval, ms, this.now));
    return true;
  }

  /** Mark the next depth change of `symbol` as hidden: its update ids are skipped in the diff streams. */
  injectGap(symbol: string): boolean {
    const s = this.states.get(symbol.toUpperCase());
    if (!s) return false;
    s.gapPending = true;
    return true;
  }

  book(symbol: string, limit = Number.POSITIVE_INFINITY): BookView {
    const s = this.state(symbol);
    const side = (x: BookSide): [number, number][] => {
      const n = Math.min(limit, x.length);
      const out: [number, number][] = [];
      for (let i = 0; i < n; i++) out.push([Number(s.priceStr(x.px[i])), Number(s.qtyStr(x.qty[i]))]);
      return out;
    };
    return { lastUpdateId: s.updateId, bids: side(s.bids), asks: side(s.asks) };
  }

  /** REST-style snapshot, serialised exactly like the wire (string price/qty). */
  snapshotJson(symbol: string, limit: number): string {
    const s = this.state(symbol);
    if (this.opts.futures) {
      const E = this.epoch(this.now);
      return `{"lastUpdateId":${s.updateId},"E":${E},"T":${E},"bids":${levelsJson(s, s.bids, limit)},"asks":${levelsJson(s, s.asks, limit)}}`;
    }
    return `{"lastUpdateId":${s.updateId},"bids":${levelsJson(s, s.bids, limit)},"asks":${levelsJson(s, s.asks, limit)}}`;
  }

  snapshot(symbol: string, limit: number): BookSnapshot {
    return JSON.parse(this.snapshotJson(symbol, limit)) as BookSnapshot;
  }

  /** Process every event whose virtual time is <= nowMs, in time order per symbol. */
  advance(nowMs: number): void {
    for (const s of this.states.values()) {
      for (;;) {
        let g: Gen | undefined;
        for (const x of s.gens) if (g === undefined || x.next < g.next) g = x;
        if (g === undefined || g.next > nowMs) break;
        // After a long stall of the process, do not replay seconds of backlog as one burst.
        if (g.rate > 0 && g.next < nowMs - 2000) g.next = nowMs;
        this.now = g.next;
        this.run(s, g);
        g.next += g.rate > 0 ? expSample(s.rng, g.rate) : g.interval;
        this.checkTop(s);
      }
    }
    this.now = nowMs;
  }

  private state(symbol: string): SymbolState {
    const sym = symbol.toUpperCase();
    if (!this.ensureSymbol(sym)) throw new Error(`unknown symbol ${symbol}`);
    return this.states.get(sym)!;
  }

  private epoch(t: number): number {
    return Math.floor(this.opts.epochMs + t);
  }

  private create(sym: string): void {
    const s = new SymbolState(sym, this.opts.seed);
    const levels = this.opts.depthLevels;
    const top = Math.floor(s.fair - 0.5);
    let p = top;
    for (let i = 0; i < levels; i++) {
      s.bids.set(p, s.randomLots());
      p -= i < 5 ? 1 : randInt(s.rng, 1, s.spacing);
    }
    p = top + 1;
    for (let i = 0; i < levels; i++) {
      s.asks.set(p, s.randomLots());
      p += i < 5 ? 1 : randInt(s.rng, 1, s.spacing);
    }
    const r = this.opts.rates;
    const base = this.opts.ratePerStream;
    const t0 = this.now;
    const poisson = (kind: Gen['kind'], perSec: number): void => {
      if (perSec > 0) {
        const rate = perSec / 1000;
        s.gens.push({ kind, rate, interval: 0, next: t0 + expSample(s.rng, rate) });
      }
    };
    const fixed = (kind: Gen['kind'], interval: number): void => {
      if (interval > 0 && Number.isFinite(interval)) {
        s.gens.push({ kind, rate: 0, interval, next: Math.ceil((t0 + 1e-9) / interval) * interval });
      }
    };
    poisson('depth', r.depth ?? base);
    poisson('quote', r.bookTicker ?? base);
    poisson('trade', r.trade ?? r.aggTrade ?? base);
    fixed('fast', this.opts.depthIntervalMs);
    fixed('slow', 1000);
    fixed('ticker', 1000 / (r.ticker ?? 1));
    fixed('kline', 1000 / (r.kline ?? 1));
    if (this.opts.futures) fixed('mark', 1000);
    s.lastTop = this.topKey(s);
    this.states.set(sym, s);
  }

  private run(s: SymbolState, g: Gen): void {
    switch (g.kind) {
      case 'depth':
        if (s.gapPending) this.gapEvent(s);
        this.depthEvent(s);
        break;
      case 'quote':
        this.quoteEvent(s);
        break;
      case 'trade':
        this.tradeEvent(s);
        break;
      case 'fast':
        this.flush(s, true);
        break;
      case 'slow':
        this.flush(s, false);
        break;
      case 'ticker':
        this.emitTicker(s);
        break;
      case 'kline':
        for (const k of s.klines.values()) this.emitKline(s, k);
        break;
      case 'mark':
        this.emitMarkPrice(s);
        break;
    }
  }

  // ---- book mutation -------------------------------------------------------------------------

  /** Apply one level change; consumes exactly one update id. */
  private setLevel(s: SymbolState, bid: boolean, p: number, q: number): void {
    (bid ? s.bids : s.asks).set(p, q);
    s.updateId++;
    if (s.hidden) return;
    (bid ? s.fastB : s.fastA).set(p, q);
    (bid ? s.slowB : s.slowA).set(p, q);
    if (s.fastFirst === 0) s.fastFirst = s.updateId;
    if (s.slowFirst === 0) s.slowFirst = s.updateId;
  }

  private gapEvent(s: SymbolState): void {
    s.gapPending = false;
    // Whatever was accumulated goes out now, so the hidden ids fall between two diffs.
    this.flush(s, true);
    this.flush(s, false);
    s.hidden = true;
    this.depthEvent(s);
    s.updateId += randInt(s.rng, 1, 50);
    s.hidden = false;
    // USD-M: the hidden changes went out in a diff this client "missed"; the next one points at it.
    s.fastPrevU = s.updateId;
    s.slowPrevU = s.updateId;
  }

  private depthEvent(s: SymbolState): void {
    const rng = s.rng;
    s.fair += gaussian(rng) * s.spacing * 0.5;
    const dBid = Math.floor(s.fair - 0.5);
    const dAsk = dBid + 1;
    const { bids, asks } = s;
    // Fair value moved through the touch: those levels are gone.
    while (asks.length > 0 && asks.px[0] <= dBid) this.setLevel(s, false, asks.px[0], 0);
    while (bids.length > 0 && bids.px[0] >= dAsk) this.setLevel(s, true, bids.px[0], 0);
    // Liquidity follows fair value into the gap.
    if (bids.length === 0 || (bids.px[0] < dBid && rng() < 0.6)) {
      const lo = bids.length > 0 ? bids.px[0] + 1 : dBid;
      const p = randInt(rng, lo, dBid);
      if (asks.length === 0 || p < asks.px[0]) this.setLevel(s, true, p, s.randomLots());
    }
    if (asks.length === 0 || (asks.px[0] > dAsk && rng() < 0.6)) {
      const hi = asks.length > 0 ? asks.px[0] - 1 : dAsk;
      const p = randInt(rng, dAsk, hi);
      if (bids.length === 0 || p > bids.px[0]) this.setLevel(s, false, p, s.randomLots());
    }
    const ops = 1 + (rng() < 0.35 ? 1 : 0) + (rng() < 0.15 ? 1 : 0);
    for (let k = 0; k < ops; k++) this.randomOp(s);
    this.maintain(s, true);
    this.maintain(s, false);
  }

  private randomOp(s: SymbolState): void {
    const rng = s.rng;
    const bid = rng() < 0.5;
    const side = bid ? s.bids : s.asks;
    if (side.length === 0) return;
    const i = nearIndex(rng, side.length, 0.12);
    const r = rng();
    if (r < 0.55 || side.length < 3) {
      const q = Math.max(1, Math.round(side.qty[i] * (0.3 + rng() * 1.4)));
      this.setLevel(s, bid, side.px[i], q === side.qty[i] ? q + 1 : q);
    } else if (r < 0.75) {
      this.setLevel(s, bid, side.px[i], 0);
    } else if (i + 1 < side.length) {
      const a = side.px[i];
      const b = side.px[i + 1];
      if (Math.abs(a - b) > 1) {
        const p = bid ? randInt(rng, b + 1, a - 1) : randInt(rng, a + 1, b - 1);
        this.setLevel(s, bid, p, s.randomLots());
      } else {
        this.setLevel(s, bid, a, side.qty[i] + 1);
      }
    }
  }

  /** Keep each side near `depthLevels` by trimming / extending the far end. */
  private maintain(s: SymbolState, bid: boolean): void {
    const side = bid ? s.bids : s.asks;
    const target = this.opts.depthLevels;
    while (side.length > target) this.setLevel(s, bid, side.px[side.length - 1], 0);
    while (side.length < target) {
      const other = bid ? s.asks : s.bids;
      let p: number;
      if (side.length > 0) {
        const worst = side.px[side.length - 1];
        const d = randInt(s.rng, 1, s.spacing);
        p = bid ? worst - d : worst + d;
      } else if (other.length > 0) {
        p = bid ? other.px[0] - 1 : other.px[0] + 1;
      } else {
        p = bid ? Math.floor(s.fair - 0.5) : Math.floor(s.fair + 0.5);
      }
      if (p <= 0) break;
      this.setLevel(s, bid, p, s.randomLots());
    }
  }

  private quoteEvent(s: SymbolState): void {
    const rng = s.rng;
    const bid = rng() < 0.5;
    const side = bid ? s.bids : s.asks;
    const other = bid ? s.asks : s.bids;
    if (side.length === 0) return;
    const spread = other.length > 0 ? Math.abs(other.px[0] - side.px[0]) : 0;
    if (spread > 1 && rng() < 0.25) {
      const p = bid ? side.px[0] + 1 : side.px[0] - 1;
      this.setLevel(s, bid, p, s.randomLots());
      this.maintain(s, bid);
    } else {
      const q = Math.max(1, Math.round(side.qty[0] * (0.5 + rng())));
      this.setLevel(s, bid, side.px[0], q === side.qty[0] ? q + 1 : q);
    }
  }

  private tradeEvent(s: SymbolState): void {
    const rng = s.rng;
    const { bids, asks } = s;
    if (bids.length === 0 || asks.length === 0) return;
    const mid = (bids.px[0] + asks.px[0]) / 2;
    const pBuy = Math.min(0.8, Math.max(0.2, 0.5 + (s.fair - mid) / (4 * s.spacing)));
    const takerBuy = rng() < pBuy;
    const side = takerBuy ? asks : bids;
    const price = side.px[0];
    const avail = side.qty[0];
    let total = rng() < 0.2 ? avail : Math.max(1, Math.ceil(avail * rng() * 0.6));
    total = Math.min(total, avail);
    const n = Math.min(total, randInt(rng, 1, 3));
    const fills: number[] = [];
    let left = total;
    for (let i = 0; i < n; i++) {
      const rest = n - i - 1; // fills still to come, each needs >= 1 lot
      const q = rest === 0 ? left : Math.min(left - rest, Math.max(1, Math.floor(left * (0.2 + rng() * 0.5))));
      fills.push(q);
      left -= q;
    }
    const E = this.epoch(this.now);
    const m = !takerBuy; // buyer is the maker when the taker sells
    const p = s.priceStr(price);
    const first = s.tradeId + 1;
    const wantTrade = this.sink.wants(`${s.lower}@trade`);
    for (const q of fills) {
      s.tradeId++;
      if (wantTrade) {
        this.sink.emit(
          this.now,
          `${s.lower}@trade`,
          this.opts.futures
            ? `{"e":"trade","E":${E},"T":${E},"s":"${s.symbol}","t":${s.tradeId},"p":"${p}","q":"${s.qtyStr(q)}","X":"MARKET","m":${m}}`
            : `{"e":"trade","E":${E},"s":"${s.symbol}","t":${s.tradeId},"p":"${p}","q":"${s.qtyStr(q)}","T":${E},"m":${m},"M":true}`,
        );
      }
      this.onTrade(s, price, q, takerBuy);
    }
    s.aggId++;
    if (this.sink.wants(`${s.lower}@aggTrade`)) {
      this.sink.emit(
        this.now,
        `${s.lower}@aggTrade`,
        this.opts.futures
          ? `{"e":"aggTrade","E":${E},"a":${s.aggId},"s":"${s.symbol}","p":"${p}","q":"${s.qtyStr(total)}","f":${first},"l":${s.tradeId},"T":${E},"m":${m}}`
          : `{"e":"aggTrade","E":${E},"s":"${s.symbol}","a":${s.aggId},"p":"${p}","q":"${s.qtyStr(total)}","f":${first},"l":${s.tradeId},"T":${E},"m":${m},"M":true}`,
      );
    }
    this.setLevel(s, !takerBuy, price, avail - total);
    this.maintain(s, !takerBuy);
  }

  private onTrade(s: SymbolState, price: number, lots: number, takerBuy: boolean): void {
    const quote = price * s.tick * lots * s.lot;
    addFill(s.day, price, lots, quote);
    s.lastQty = lots;
    for (const k of s.klines.values()) {
      this.roll(s, k);
      if (k.trades === 0) k.f = s.tradeId;
      fillBar(k, price, lots, quote);
      if (takerBuy) {
        k.vBuy += lots;
        k.qBuy += quote;
      }
      k.L = s.tradeId;
    }
  }

  // ---- outputs -------------------------------------------------------------------------------

  private topKey(s: SymbolState): string {
    return `${s.bids.px[0]}|${s.bids.qty[0]}|${s.asks.px[0]}|${s.asks.qty[0]}`;
  }

  private checkTop(s: SymbolState): void {
    const key = this.topKey(s);
    if (key === s.lastTop) return;
    s.lastTop = key;
    const stream = `${s.lower}@bookTicker`;
    if (!this.sink.wants(stream) || s.bids.length === 0 || s.asks.length === 0) return;
    if (this.opts.futures) {
      const E = this.epoch(this.now);
      this.sink.emit(
        this.now,
        stream,
        `{"e":"bookTicker","u":${s.updateId},"s":"${s.symbol}","b":"${s.priceStr(s.bids.px[0])}","B":"${s.qtyStr(s.bids.qty[0])}","a":"${s.priceStr(s.asks.px[0])}","A":"${s.qtyStr(s.asks.qty[0])}","T":${E},"E":${E}}`,
      );
      return;
    }
    this.sink.emit(
      this.now,
      stream,
      `{"u":${s.updateId},"s":"${s.symbol}","b":"${s.priceStr(s.bids.px[0])}","B":"${s.qtyStr(s.bids.qty[0])}","a":"${s.priceStr(s.asks.px[0])}","A":"${s.qtyStr(s.asks.qty[0])}"}`,
    );
  }

  private flush(s: SymbolState, fast: boolean): void {
    const b = fast ? s.fastB : s.slowB;
    const a = fast ? s.fastA : s.slowA;
    const first = fast ? s.fastFirst : s.slowFirst;
    const suffix = fast ? '@100ms' : '';
    if (first !== 0) {
      const stream = `${s.lower}@depth${suffix}`;
      const pu = fast ? s.fastPrevU : s.slowPrevU;
      if (this.sink.wants(stream)) {
        const E = this.epoch(this.now);
        this.sink.emit(
          this.now,
          stream,
          this.opts.futures
            ? `{"e":"depthUpdate","E":${E},"T":${E},"s":"${s.symbol}","U":${first},"u":${s.updateId},"pu":${pu},"b":${diffJson(s, b, true)},"a":${diffJson(s, a, false)}}`
            : `{"e":"depthUpdate","E":${E},"s":"${s.symbol}","U":${first},"u":${s.updateId},"b":${diffJson(s, b, true)},"a":${diffJson(s, a, false)}}`,
        );
      }
      if (fast) s.fastPrevU = s.updateId;
      else s.slowPrevU = s.updateId;
      b.clear();
      a.clear();
      if (fast) s.fastFirst = 0;
      else s.slowFirst = 0;
    }
    for (const n of [5, 10, 20]) {
      const stream = `${s.lower}@depth${n}${suffix}`;
      if (this.sink.wants(stream)) {
        this.sink.emit(
          this.now,
          stream,
          `{"lastUpdateId":${s.updateId},"bids":${levelsJson(s, s.bids, n)},"asks":${levelsJson(s, s.asks, n)}}`,
        );
      }
    }
  }

  private emitTicker(s: SymbolState): void {
    const full = this.sink.wants(`${s.lower}@ticker`);
    const mini = this.sink.wants(`${s.lower}@miniTicker`);
    if (!full && !mini) return;
    const E = this.epoch(this.now);
    const day = s.day;
    const c = s.priceStr(day.close);
    const o = s.priceStr(day.open);
    const h = s.priceStr(day.high);
    const l = s.priceStr(day.low);
    const v = s.qtyStr(day.volume);
    const q = day.quote.toFixed(8);
    if (mini) {
      this.sink.emit(
        this.now,
        `${s.lower}@miniTicker`,
        `{"e":"24hrMiniTicker","E":${E},"s":"${s.symbol}","c":"${c}","o":"${o}","h":"${h}","l":"${l}","v":"${v}","q":"${q}"}`,
      );
    }
    if (!full) return;
    const change = (day.close - day.open) * s.tick;
    const pct = ((day.close - day.open) / day.open) * 100;
    const vol = day.volume * s.lot;
    const w = vol > 0 ? day.quote / vol : day.close * s.tick;
    const bb = s.bids.length > 0 ? s.bids.px[0] : 0;
    const bq = s.bids.length > 0 ? s.bids.qty[0] : 0;
    const ba = s.asks.length > 0 ? s.asks.px[0] : 0;
    const aq = s.asks.length > 0 ? s.asks.qty[0] : 0;
    if (this.opts.futures) {
      this.sink.emit(
        this.now,
        `${s.lower}@ticker`,
        `{"e":"24hrTicker","E":${E},"s":"${s.symbol}","p":"${change.toFixed(8)}","P":"${pct.toFixed(3)}","w":"${w.toFixed(8)}","c":"${c}","Q":"${s.qtyStr(s.lastQty)}","o":"${o}","h":"${h}","l":"${l}","v":"${v}","q":"${q}","O":${E - 86_400_000},"C":${E},"F":${day.trades > 0 ? s.firstTradeId : -1},"L":${day.trades > 0 ? s.tradeId : -1},"n":${day.trades}}`,
      );
      return;
    }
    this.sink.emit(
      this.now,
      `${s.lower}@ticker`,
      `{"e":"24hrTicker","E":${E},"s":"${s.symbol}","p":"${change.toFixed(8)}","P":"${pct.toFixed(3)}","w":"${w.toFixed(8)}","x":"${o}","c":"${c}","Q":"${s.qtyStr(s.lastQty)}","b":"${s.priceStr(bb)}","B":"${s.qtyStr(bq)}","a":"${s.priceStr(ba)}","A":"${s.qtyStr(aq)}","o":"${o}","h":"${h}","l":"${l}","v":"${v}","q":"${q}","O":${E - 86_400_000},"C":${E},"F":${day.trades > 0 ? s.firstTradeId : -1},"L":${day.trades > 0 ? s.tradeId : -1},"n":${day.trades}}`,
    );
  }

  /** USD-M `markPriceUpdate`: mark = mid, index a little off it, a small funding rate, 8-hourly funding. */
  private emitMarkPrice(s: SymbolState): void {
    const stream = `${s.lower}@markPrice@1s`;
    if (!this.sink.wants(stream) || s.bids.length === 0 || s.asks.length === 0) return;
    const E = this.epoch(this.now);
    const mid = (s.bids.px[0] + s.asks.px[0]) / 2;
    const index = s.fair;
    const rate = Math.max(-0.0075, Math.min(0.0075, 0.0001 + ((mid - index) / index) * 0.1));
    const next = (Math.floor(E / 28_800_000) + 1) * 28_800_000;
    this.sink.emit(
      this.now,
      stream,
      `{"e":"markPriceUpdate","E":${E},"s":"${s.symbol}","p":"${s.priceStr(mid)}","ap":"${s.priceStr(mid)}","P":"${s.priceStr(index)}","i":"${s.priceStr(index)}","r":"${rate.toFixed(8)}","T":${next}}`,
    );
  }

  private newKline(s: SymbolState, interval: string, ms: number, t: number): Kline {
    const start = Math.floor(this.epoch(t) / ms) * ms;
    return { interval, ms, t: start, ...emptyBar(s.day.close), vBuy: 0, qBuy: 0, f: -1, L: -1 };
  }

  /** Close the candle if its period is over (emitting the final `x:true` update). */
  private roll(s: SymbolState, k: Kline): void {
    if (this.epoch(this.now) < k.t + k.ms) return;
    this.emitKlineFrame(s, k, true);
    const next = this.newKline(s, k.interval, k.ms, this.now);
    Object.assign(k, next);
  }

  private emitKline(s: SymbolState, k: Kline): void {
    this.roll(s, k);
    this.emitKlineFrame(s, k, false);
  }

  private emitKlineFrame(s: SymbolState, k: Kline, closed: boolean): void {
    const stream = `${s.lower}@kline_${k.interval}`;
    if (!this.sink.wants(stream)) return;
    const E = this.epoch(this.now);
    this.sink.emit(
      this.now,
      stream,
      `{"e":"kline","E":${E},"s":"${s.symbol}","k":{"t":${k.t},"T":${k.t + k.ms - 1},"s":"${s.symbol}","i":"${k.interval}","f":${k.f},"L":${k.L},"o":"${s.priceStr(k.open)}","c":"${s.priceStr(k.close)}","h":"${s.priceStr(k.high)}","l":"${s.priceStr(k.low)}","v":"${s.qtyStr(k.volume)}","n":${k.trades},"x":${closed},"q":"${k.quote.toFixed(8)}","V":"${s.qtyStr(k.vBuy)}","Q":"${k.qBuy.toFixed(8)}","B":"0"}}`,
    );
  }
}
