/**
 * A synthetic security for the OpenD simulator: an L2 book in integer ticks and shares (kit
 * `BookSide`), Poisson book changes and taker trades, tickers with a per-security sequence, day
 * statistics for the basic quote and K-line bars for any interval. Seeded per security.
 *
 * Invariants: the book is never crossed; every trade takes liquidity at the touch and moves the
 * book accordingly; ticker sequences are consecutive (a fault may withhold one from the pushes,
 * never from the history that Qot_GetTicker serves).
 */
import { BookSide } from '../kit/book-side.js';
import { expSample, hashString, mulberry32, nearIndex, type Rng, randInt } from '../kit/rng.js';

export interface SimTicker {
  readonly sequence: number;
  /** Seconds (OpenD's timestamps are seconds with a fraction). */
  readonly timestamp: number;
  /** TickerDirection: 1 buyer-initiated, 2 seller-initiated. */
  readonly dir: 1 | 2;
  readonly price: number;
  readonly volume: number;
}

export interface SimBar {
  /** Start of the bar (ms). */
  readonly startMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  turnover: number;
}

/** The day's statistics a basic quote reports (the window never rolls: a simulator runs far less than a day). */
class DayStats {
  high: number;
  low: number;
  last: number;
  volume = 0;
  turnover = 0;
  constructor(readonly open: number) {
    this.high = open;
    this.low = open;
    this.last = open;
  }
  fill(price: number, volume: number): void {
    this.last = price;
    this.high = Math.max(this.high, price);
    this.low = Math.min(this.low, price);
    this.volume += volume;
    this.turnover += price * volume;
  }
}

const HISTORY = 1000;
const LEVELS = 20;

export class FutuSecurityMarket {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  readonly tick: number;
  readonly day: DayStats;
  /** Last tickers, oldest first (Qot_GetTicker). */
  readonly history: SimTicker[] = [];
  /** Tickers produced since the last `takeTickers`. */
  private fresh: SimTicker[] = [];
  private sequence: number;
  private readonly rng: Rng;
  private readonly bars = new Map<number, SimBar>();
  private nextEventAt = 0;
  bookChanged = true;
  updateTimestamp: number;

  constructor(
    readonly native: string,
    seed: number,
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.rng = mulberry32(seed ^ hashString(native));
    const price = 10 + Math.floor(this.rng() * 500);
    this.tick = price >= 100 ? 0.1 : 0.01;
    const mid = Math.round(price / this.tick);
    for (let i = 0; i < LEVELS; i++) {
      this.bids.set(mid - 1 - i, randInt(this.rng, 1, 50) * 100);
      this.asks.set(mid + 1 + i, randInt(this.rng, 1, 50) * 100);
    }
    this.day = new DayStats(this.price(mid));
    this.sequence = 1 + Math.floor(this.rng() * 1_000_000) * 1000;
    this.updateTimestamp = now / 1000;
    this.nextEventAt = now;
  }

  price(ticks: number): number {
    return Math.round(ticks * this.tick * 1e6) / 1e6;
  }

  /** Runs the market up to `now` (ms). */
  advance(now: number): void {
    while (this.nextEventAt <= now) {
      const at = this.nextEventAt;
      if (this.rng() < 0.4) this.trade(at);
      else this.changeBook();
      this.nextEventAt += Math.max(1, 1000 * expSample(this.rng, this.ratePerSecond));
    }
  }

  /** A taker order at the touch; `withhold` keeps its ticker out of the pushes (a gap fault). */
  trade(at: number, withhold = false): void {
    const buy = this.rng() < 0.5;
    const side = buy ? this.asks : this.bids;
    const px = side.px[0]!;
    const lots = Math.min(side.qty[0]!, randInt(this.rng, 1, 10) * 100);
    side.set(px, side.qty[0]! - lots);
    this.refill(side);
    const price = this.price(px);
    const t: SimTicker = { sequence: this.sequence++, timestamp: at / 1000, dir: buy ? 1 : 2, price, volume: lots };
    this.history.push(t);
    if (this.history.length > HISTORY) this.history.shift();
    if (!withhold) this.fresh.push(t);
    this.day.fill(price, lots);
    this.updateTimestamp = at / 1000;
    for (const [sec, bar] of this.bars) this.bars.set(sec, this.barFill(bar, sec, at, price, lots));
    this.bookChanged = true;
  }

  /** Skips `count` tickers in the pushes: the first `count` trades from now are withheld. */
  withhold(at: number, count: number): void {
    for (let i = 0; i < count; i++) this.trade(at, true);
  }

  takeTickers(): SimTicker[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  /** The bar of `sec` seconds that `now` falls in (tracked from the first ask on). */
  bar(sec: number, now: number): SimBar {
    const start = Math.floor(now / (sec * 1000)) * sec * 1000;
    let bar = this.bars.get(sec);
    if (bar === undefined || bar.startMs !== start) {
      const last = this.day.last;
      bar = { startMs: start, open: last, high: last, low: last, close: last, volume: 0, turnover: 0 };
      this.bars.set(sec, bar);
    }
    return bar;
  }

  private barFill(bar: SimBar, sec: number, at: number, price: number, lots: number): SimBar {
    const b = at >= bar.startMs + sec * 1000 ? this.bar(sec, at) : bar;
    b.high = Math.max(b.high, price);
    b.low = Math.min(b.low, price);
    b.close = price;
    b.volume += lots;
    b.turnover += price * lots;
    return b;
  }

  private changeBook(): void {
    const side = this.rng() < 0.5 ? this.bids : this.asks;
    const spread = this.asks.px[0]! - this.bids.px[0]!;
    if (spread > 1 && this.rng() < 0.5) {
      // A new best level inside the spread (keeps the spread from only ever widening).
      side.set(side.isBid ? this.bids.px[0]! + 1 : this.asks.px[0]! - 1, randInt(this.rng, 1, 50) * 100);
      this.bookChanged = true;
      return;
    }
    const i = nearIndex(this.rng, side.length);
    const px = side.px[i]!;
    if (this.rng() < 0.3 && i > 0) side.set(px, 0);
    else side.set(px, randInt(this.rng, 1, 80) * 100);
    this.refill(side);
    this.bookChanged = true;
  }

  /** Keeps LEVELS levels per side, never crossed. */
  private refill(side: BookSide): void {
    const other = side === this.bids ? this.asks : this.bids;
    while (side.length < LEVELS) {
      const worst = side.px[side.length - 1];
      const best = other.px[0]!;
      const px =
        worst === undefined ? (side.isBid ? best - 1 : best + 1) : side.isBid ? worst - randInt(this.rng, 1, 2) : worst + randInt(this.rng, 1, 2);
      side.set(px, randInt(this.rng, 1, 50) * 100);
    }
  }
}
