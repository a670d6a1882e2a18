/**
 * Synthetic Kraken spot pairs for the Kraken v2 simulator: an L2 book per pair kept in integer
 * ticks (10^-price_precision) and lots (10^-qty_precision), Poisson book changes and taker
 * trades, a 24 h ticker and OHLC candles per tracked interval. Seeded (mulberry32 per pair).
 *
 * Because prices and quantities are integers here, the Kraken checksum text of a level is simply
 * `String(ticks) + String(lots)` (the decimal digits without point and leading zeros) — an
 * implementation independent of the client's, which starts from parsed JSON numbers.
 */
import { crc32 } from 'node:zlib';
import { BookSide } from '../kit/book-side.js';
import { addFill, emptyBar, fillBar, type OhlcBar } from '../kit/ohlc-bar.js';
import { expSample, gaussian, hashString, mulberry32, nearIndex, type Rng, randInt } from '../kit/rng.js';

/**
 * Pairs created on demand: any upper-case base against a quote Kraken trades in, and Kraken's
 * tokenised stocks (xStocks: the ticker and a lower-case `x`, e.g. `AAPLx/USD`) against USD.
 * Kraken's pair names are case-sensitive: anything else (FOO/BAR, btc/usd, AAPLX/USD) is an
 * unknown pair, refused as Kraken refuses it (`Currency pair not supported`).
 */
export const KRAKEN_PAIR_PATTERN =
  /^(?:[A-Z0-9]{2,10}\/(?:USD|EUR|GBP|CAD|JPY|CHF|AUD|USDT|USDC|DAI|BTC|XBT|ETH)|[A-Z]{1,5}x\/USD)$/;
export const KRAKEN_DEFAULT_PAIRS = ['BTC/USD', 'ETH/USD', 'SOL/USD', 'DOGE/USDT'];

const KNOWN: Record<string, { price: number; pp: number; qp: number }> = {
  'BTC/USD': { price: 64000, pp: 1, qp: 8 },
  'ETH/USD': { price: 3000, pp: 2, qp: 8 },
  'SOL/USD': { price: 150, pp: 2, qp: 8 },
  'DOGE/USDT': { price: 0.0956, pp: 5, qp: 8 },
  'AAPLx/USD': { price: 231.5, pp: 2, qp: 8 },
};

export interface KrakenCandle extends OhlcBar {
  readonly minutes: number;
  begin: number;
}

/** What a pair reports after one event. */
export interface PairEvent {
  /** The book changed. */
  book: boolean;
  /** Fills of a taker order (ticks, lots), empty when the event was a book change. */
  fills: { id: number; price: number; lots: number; side: 'buy' | 'sell' }[];
}

export class KrakenPair {
  readonly rng: Rng;
  readonly pricePrecision: number;
  readonly qtyPrecision: number;
  readonly tickScale: number;
  readonly lotScale: number;
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  /** Typical gap between levels away from the touch, in ticks. */
  private readonly spacing: number;
  private readonly notional: number;
  private readonly refPrice: number;
  tradeId: number;
  /** The 24 h ticker figures (ticks, lots; quote volume in quote units; `close` is the last trade). */
  readonly day: OhlcBar;
  readonly candles = new Map<number, KrakenCandle>();
  /** Previous (closed) candle per interval, for snapshots. */
  readonly closedCandles = new Map<number, KrakenCandle>();
  nextEventAt = 0;

  constructor(
    readonly symbol: string,
    seed: number,
    levels: number,
  ) {
    this.rng = mulberry32((seed ^ hashString(symbol)) >>> 0);
    const known = KNOWN[symbol];
    const price = known?.price ?? 10 ** (-1 + this.rng() * 4);
    this.pricePrecision = known?.pp ?? Math.max(0, Math.min(8, 4 - Math.floor(Math.log10(price))));
    this.qtyPrecision = known?.qp ?? 8;
    this.tickScale = 10 ** this.pricePrecision;
    this.lotScale = 10 ** this.qtyPrecision;
    this.notional = symbol.endsWith('/BTC') ? 0.3 : 20_000;
    this.refPrice = price;
    this.spacing = Math.max(1, Math.round(price * 2e-5 * this.tickScale));
    this.tradeId = 1_000 + Math.floor(this.rng() * 1e7);
    const mid = Math.round(price * this.tickScale);
    let p = mid;
    for (let i = 0; i < levels; i++) {
      this.bids.set(p, this.randomLots());
      p -= randInt(this.rng, 1, this.spacing);
    }
    p = mid + randInt(this.rng, 1, 3);
    for (let i = 0; i < levels; i++) {
      this.asks.set(p, this.randomLots());
      p += randInt(this.rng, 1, this.spacing);
    }
    this.day = emptyBar(mid);
  }

  price(ticks: number): number {
    return ticks / this.tickScale;
  }
  qty(lots: number): number {
    return lots / this.lotScale;
  }

  private randomLots(): number {
    const q = (this.notional / this.refPrice) * Math.exp(gaussian(this.rng) * 0.9) * this.lotScale;
    return Math.max(1, Math.min(Math.round(q), 1e14));
  }

  /** Kraken checksum of the current top 10 levels per side. */
  checksum(): number {
    let text = '';
    for (let i = 0; i < Math.min(10, this.asks.length); i++) text += `${this.asks.px[i]}${this.asks.qty[i]}`;
    for (let i = 0; i < Math.min(10, this.bids.length); i++) text += `${this.bids.px[i]}${this.bids.qty[i]}`;
    return crc32(text) >>> 0;
  }

  /** One random event: a book change (weight 3) or a taker order (weight 1). */
  step(nowMs: number, levels: number): PairEvent {
    const ev: PairEvent = { book: true, fills: [] };
    if (this.rng() < 0.25) this.trade(nowMs, ev);
    else this.bookChange();
    this.maintain(this.bids, levels);
    this.maintain(this.asks, levels);
    return ev;
  }

  private bookChange(): void {
    const rng = this.rng;
    const bid = rng() < 0.5;
    const side = bid ? this.bids : this.asks;
    const other = bid ? this.asks : this.bids;
    if (side.length < 2 || other.length === 0) return;
    const i = nearIndex(rng, side.length, 0.15);
    const r = rng();
    if (r < 0.45) {
      const q = Math.max(1, Math.round(side.qty[i] * (0.3 + rng() * 1.4)));
      side.set(side.px[i], q === side.qty[i] ? q + 1 : q);
    } else if (r < 0.65) {
      side.set(side.px[i], 0);
    } else {
      // A new level just better than level i (inside the spread when i = 0).
      const limit = i === 0 ? other.px[0] : side.px[i - 1];
      const from = side.px[i];
      const gap = Math.abs(limit - from);
      if (gap > 1) {
        const d = randInt(rng, 1, gap - 1);
        side.set(bid ? from + d : from - d, this.randomLots());
      } else side.set(from, side.qty[i] + 1);
    }
  }

  private trade(nowMs: number, ev: PairEvent): void {
    const rng = this.rng;
    const takerBuy = rng() < 0.5;
    const side = takerBuy ? this.asks : this.bids;
    if (side.length === 0) return;
    const price = side.px[0];
    const avail = side.qty[0];
    const total = rng() < 0.2 ? avail : Math.max(1, Math.ceil(avail * rng() * 0.6));
    const n = Math.min(total, randInt(rng, 1, 2));
    let left = total;
    for (let k = 0; k < n; k++) {
      const lots = k === n - 1 ? left : Math.max(1, Math.floor(left / 2));
      left -= lots;
      this.tradeId++;
      ev.fills.push({ id: this.tradeId, price, lots, side: takerBuy ? 'buy' : 'sell' });
      this.onFill(nowMs, price, lots);
    }
    side.set(price, avail - total);
  }

  private onFill(nowMs: number, price: number, lots: number): void {
    const quote = this.price(price) * this.qty(lots);
    addFill(this.day, price, lots, quote);
    for (const c of this.candles.values()) {
      this.roll(c, nowMs);
      fillBar(c, price, lots, quote);
    }
  }

  /** Start tracking an OHLC interval. */
  trackCandles(minutes: number, nowMs: number): void {
    if (this.candles.has(minutes)) return;
    const ms = minutes * 60_000;
    const begin = Math.floor(nowMs / ms) * ms;
    this.candles.set(minutes, { minutes, begin, ...emptyBar(this.day.close) });
  }

  /** Close the candle when its period is over. */
  roll(c: KrakenCandle, nowMs: number): void {
    const ms = c.minutes * 60_000;
    if (nowMs < c.begin + ms) return;
    this.closedCandles.set(c.minutes, { ...c });
    Object.assign(c, { begin: Math.floor(nowMs / ms) * ms, ...emptyBar(c.close) });
  }

  /** Keep each side at `levels` by trimming / extending the far end. */
  private maintain(side: BookSide, levels: number): void {
    while (side.length > levels) side.set(side.px[side.length - 1], 0);
    const other = side === this.bids ? this.asks : this.bids;
    while (side.length < levels) {
      let p: number;
      if (side.length > 0) {
        const d = randInt(this.rng, 1, this.spacing);
        p = side.isBid ? side.px[side.length - 1] - d : side.px[side.length - 1] + d;
      } else p = side.isBid ? other.px[0] - 1 : other.px[0] + 1;
      if (p <= 0) break;
      side.set(p, this.randomLots());
    }
  }

  /** Time of the next event (Poisson at `ratePerSec`). */
  schedule(from: number, ratePerSec: number): void {
    this.nextEventAt = from + expSample(this.rng, ratePerSec / 1000);
  }
}
