/**
 * Synthetic Coinbase Exchange products for the simulator: per product an L2 book in integer
 * ticks/lots, a product `sequence` that advances on every book change and match (as the full
 * channel does), consecutive trade ids, and the JSON the Exchange feed sends (`snapshot`,
 * `l2update`, `match`, `last_match`, `ticker`, `heartbeat`). Seeded; events are Poisson.
 */

import { BookSide } from '../kit/book-side.js';
import { addFill, emptyBar, type OhlcBar } from '../kit/ohlc-bar.js';
import { expSample, hashString, mulberry32, nearIndex, type Rng, randInt } from '../kit/rng.js';

/**
 * Products created on demand: any base against a quote Coinbase trades in. Anything else (e.g.
 * FOO-BAR) is refused as Coinbase refuses it (`FOO-BAR is not a valid product`).
 */
export const PRODUCT_PATTERN = /^[A-Z0-9]{2,10}-(USD|USDT|USDC|EUR|GBP|DAI|BTC|ETH)$/;

const START_PRICES: Record<string, number> = {
  'BTC-USD': 64000,
  'ETH-USD': 3000,
  'SOL-USD': 150,
  'ETH-BTC': 0.047,
};

export interface ProductView {
  /** Product sequence when this view was published. */
  lastUpdateId: number;
  /** Best first: bids descending, asks ascending; prices and sizes as numbers. */
  bids: [number, number][];
  asks: [number, number][];
}

/** What the market hands the server. `level2` frames go out at once, batches on `flushBatch`. */
export interface ProductSink {
  /** true when someone takes unbatched `level2` for this product (skips serialising otherwise). */
  wantsL2(product: string): boolean;
  l2(product: string, frame: string): void;
  match(product: string, frame: string): void;
  ticker(product: string, frame: string): void;
}

export class SyntheticProduct {
  readonly rng: Rng;
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  readonly tick: number;
  readonly lot = 0.001;
  private readonly pxDecimals: number;
  sequence: number;
  tradeId: number;
  private lastMatch: string | undefined;
  private nextEvent: number;
  /** Level changes since the last batch flush: side-tagged price → lots. */
  private readonly batchB = new Map<number, number>();
  private readonly batchA = new Map<number, number>();
  /** The book as of the last batch flush (what `level2_batch` subscribers have). */
  private published: ProductView = { lastUpdateId: 0, bids: [], asks: [] };
  /** Set by the skipSequence fault: the next match frame is not sent. */
  hideNextMatch = false;
  /** The 24 h ticker figures (ticks, lots; `close` is the last trade). */
  private readonly day: OhlcBar;

  constructor(
    readonly id: string,
    seed: number,
    private readonly depthLevels: number,
    private readonly eventRatePerMs: number,
    private readonly tradeShare: number,
    private readonly epochMs: number,
    now: number,
  ) {
    this.rng = mulberry32((seed ^ hashString(id)) >>> 0);
    const price = START_PRICES[id] ?? 1 + this.rng() * 200;
    this.pxDecimals = price >= 10 ? 2 : 5;
    this.tick = 10 ** -this.pxDecimals;
    this.sequence = 1_000_000 + randInt(this.rng, 0, 1_000_000);
    this.tradeId = 10_000 + randInt(this.rng, 0, 10_000);
    const mid = Math.round(price / this.tick);
    for (let i = 0; i < depthLevels; i++) {
      this.bids.set(mid - 1 - i * randInt(this.rng, 1, 3), this.lots());
      this.asks.set(mid + 1 + i * randInt(this.rng, 1, 3), this.lots());
    }
    this.day = emptyBar(mid);
    this.nextEvent = now + expSample(this.rng, eventRatePerMs);
    this.publish();
  }

  private lots(): number {
    return randInt(this.rng, 1, 5000);
  }

  px(ticks: number): string {
    return (ticks * this.tick).toFixed(this.pxDecimals);
  }

  sz(lots: number): string {
    return (lots * this.lot).toFixed(8);
  }

  iso(t: number): string {
    const ms = this.epochMs + t;
    const micros = Math.floor((ms % 1) * 1000);
    return `${new Date(Math.floor(ms)).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
  }

  /** Run every event due by `now` (virtual ms). */
  advance(now: number, sink: ProductSink): void {
    while (this.nextEvent <= now) {
      const t = this.nextEvent;
      if (this.rng() < this.tradeShare) this.trade(t, sink);
      else this.bookEvent(t, sink);
      this.nextEvent = Math.max(this.nextEvent, now - 2000) + expSample(this.rng, this.eventRatePerMs);
    }
  }

  private setLevel(bid: boolean, p: number, q: number, t: number, sink: ProductSink): void {
    (bid ? this.bids : this.asks).set(p, q);
    this.sequence++;
    (bid ? this.batchB : this.batchA).set(p, q);
    if (!sink.wantsL2(this.id)) return;
    const side = bid ? 'buy' : 'sell';
    sink.l2(
      this.id,
      `{"type":"l2update","product_id":"${this.id}","changes":[["${side}","${this.px(p)}","${this.sz(q)}"]],"time":"${this.iso(t)}"}`,
    );
  }

  private bookEvent(t: number, sink: ProductSink): void {
    const rng = this.rng;
    const bid = rng() < 0.5;
    const side = bid ? this.bids : this.asks;
    const other = bid ? this.asks : this.bids;
    const r = rng();
    if (r < 0.2 && side.length > 0 && other.length > 0 && Math.abs(other.px[0] - side.px[0]) > 1) {
      // Improve the touch inside the spread (never crossing it).
      this.setLevel(bid, bid ? side.px[0] + 1 : side.px[0] - 1, this.lots(), t, sink);
    } else if (r < 0.75 && side.length > 0) {
      const i = nearIndex(rng, side.length, 0.15);
      this.setLevel(bid, side.px[i], this.lots(), t, sink);
    } else if (side.length > 2) {
      this.setLevel(bid, side.px[nearIndex(rng, side.length, 0.15)], 0, t, sink);
    }
    this.maintain(bid, t, sink);
  }

  private maintain(bid: boolean, t: number, sink: ProductSink): void {
    const side = bid ? this.bids : this.asks;
    while (side.length > this.depthLevels) this.setLevel(bid, side.px[side.length - 1], 0, t, sink);
    while (side.length < this.depthLevels) {
      const other = bid ? this.asks : this.bids;
      const ref = side.length > 0 ? side.px[side.length - 1] : bid ? other.px[0] : other.px[0];
      const d = side.length > 0 ? randInt(this.rng, 1, 3) : 1;
      const p = bid ? ref - d : ref + d;
      if (p <= 0) break;
      this.setLevel(bid, p, this.lots(), t, sink);
    }
  }

  private trade(t: number, sink: ProductSink): void {
    const takerBuy = this.rng() < 0.5;
    const resting = takerBuy ? this.asks : this.bids;
    if (resting.length === 0) return;
    const price = resting.px[0];
    const avail = resting.qty[0];
    const lots = Math.min(avail, randInt(this.rng, 1, Math.max(1, Math.ceil(avail * 0.7))));
    this.sequence++;
    this.tradeId++;
    addFill(this.day, price, lots);
    // `side` is the maker's: a taker buy lifts a resting sell.
    const body = `"trade_id":${this.tradeId},"maker_order_id":"m-${this.tradeId}","taker_order_id":"t-${this.tradeId}","side":"${takerBuy ? 'sell' : 'buy'}","size":"${this.sz(lots)}","price":"${this.px(price)}","product_id":"${this.id}","sequence":${this.sequence},"time":"${this.iso(t)}"}`;
    this.lastMatch = `{"type":"last_match",${body}`;
    if (this.hideNextMatch) this.hideNextMatch = false;
    else sink.match(this.id, `{"type":"match",${body}`);
    this.setLevel(!takerBuy, price, avail - lots, t, sink);
    this.maintain(!takerBuy, t, sink);
    sink.ticker(this.id, this.tickerJson(t, takerBuy ? 'buy' : 'sell', lots));
  }

  tickerJson(t: number, takerSide = 'buy', lastLots = 0): string {
    const bb = this.bids.length > 0 ? this.bids.px[0] : 0;
    const ba = this.asks.length > 0 ? this.asks.px[0] : 0;
    const day = this.day;
    return `{"type":"ticker","sequence":${this.sequence},"product_id":"${this.id}","price":"${this.px(day.close)}","open_24h":"${this.px(day.open)}","volume_24h":"${this.sz(day.volume)}","low_24h":"${this.px(day.low)}","high_24h":"${this.px(day.high)}","volume_30d":"${this.sz(day.volume)}","best_bid":"${this.px(bb)}","best_bid_size":"${this.sz(this.bids.qty[0] ?? 0)}","best_ask":"${this.px(ba)}","best_ask_size":"${this.sz(this.asks.qty[0] ?? 0)}","side":"${takerSide}","time":"${this.iso(t)}","trade_id":${this.tradeId},"last_size":"${this.sz(lastLots)}"}`;
  }

  lastMatchJson(): string | undefined {
    return this.lastMatch;
  }

  heartbeatJson(t: number): string {
    return `{"type":"heartbeat","last_trade_id":${this.tradeId},"product_id":"${this.id}","sequence":${this.sequence},"time":"${this.iso(t)}"}`;
  }

  snapshotJson(t: number): string {
    const lv = (s: BookSide) => s.px.map((p, i) => `["${this.px(p)}","${this.sz(s.qty[i])}"]`).join(',');
    return `{"type":"snapshot","product_id":"${this.id}","bids":[${lv(this.bids)}],"asks":[${lv(this.asks)}],"time":"${this.iso(t)}"}`;
  }

  /** The accumulated `level2_batch` update (undefined when nothing changed); publishes the book. */
  flushBatch(t: number): string | undefined {
    if (this.batchB.size === 0 && this.batchA.size === 0) return undefined;
    const changes: string[] = [];
    for (const [p, q] of this.batchB) changes.push(`["buy","${this.px(p)}","${this.sz(q)}"]`);
    for (const [p, q] of this.batchA) changes.push(`["sell","${this.px(p)}","${this.sz(q)}"]`);
    this.batchB.clear();
    this.batchA.clear();
    this.publish();
    return `{"type":"l2update","product_id":"${this.id}","changes":[${changes.join(',')}],"time":"${this.iso(t)}"}`;
  }

  private publish(): void {
    const view = (s: BookSide): [number, number][] => s.px.map((p, i) => [+this.px(p), +this.sz(s.qty[i])]);
    this.published = { lastUpdateId: this.sequence, bids: view(this.bids), asks: view(this.asks) };
  }

  /** The book as `level2_batch` subscribers have it (as of the last batch). */
  view(): ProductView {
    return this.published;
  }
}
