/**
 * One simulated OKX instrument: a seeded random book in integer ticks/lots, taker trades, and the
 * `books` sequence (seqId/prevSeqId, checksum over the published book). Frames are built as OKX
 * v5 sends them. Price text drops trailing zeros (as OKX does); size text keeps a fixed number of
 * decimals (e.g. "0.50000000"), so a client that reformats numbers fails the checksum.
 */

import { okxInstType } from '../../venues/okx/channels.js';
import { okxChecksum } from '../../venues/okx/checksum.js';
import { addFill, emptyBar, type OhlcBar } from '../kit/ohlc-bar.js';
import { hashString, mulberry32, nearIndex, type Rng, randInt } from '../kit/rng.js';

export interface OkxBookView {
  /** seqId of the last published `books` frame. */
  lastUpdateId: number;
  bids: [number, number][];
  asks: [number, number][];
}

const DEFAULT_PRICES: Record<string, number> = { BTC: 64000, ETH: 3000, SOL: 150, UNI: 6 };

function trimZeros(s: string): string {
  if (!s.includes('.')) return s;
  s = s.replace(/0+$/, '');
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

export class OkxInstrument {
  readonly rng: Rng;
  readonly pxDec: number;
  readonly szDec: number;
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  /** Levels changed since the last published update: tick → lots before the first change. */
  private readonly pendingBids = new Map<number, number>();
  private readonly pendingAsks = new Map<number, number>();
  seqId: number;
  tradeId: number;
  /** bbo-tbt sequence (one per top-of-book frame). */
  bboSeq = 0;
  /** The 24 h ticker figures (prices; volume in base currency; `close` is the last trade). */
  readonly day: OhlcBar;
  /** Faults armed for the next published update. */
  skipNext = false;
  corruptNext = false;
  /** When the last `books` update was published (ms), for the idle no-change frame. */
  lastPublishAt = 0;

  constructor(
    readonly instId: string,
    seed: number,
    readonly depthLevels: number,
  ) {
    this.rng = mulberry32((seed ^ hashString(instId)) >>> 0);
    const base = instId.split('-')[0];
    const type = okxInstType(instId);
    // An option's premium is quoted in its base currency (BTC), a fraction of one.
    const price = type === 'OPTION' ? 0.05 : (DEFAULT_PRICES[base] ?? 10 + randInt(this.rng, 0, 90));
    this.pxDec = price >= 1000 ? 1 : price >= 10 ? 2 : 4;
    this.szDec = type === 'SPOT' ? 8 : 2;
    const mid = Math.round(price * 10 ** this.pxDec);
    for (let i = 0; i < depthLevels; i++) {
      this.bids.set(mid - 1 - i, this.randLots());
      this.asks.set(mid + 1 + i, this.randLots());
    }
    this.seqId = 1_000_000 + randInt(this.rng, 0, 1_000_000);
    this.tradeId = 100_000 + randInt(this.rng, 0, 100_000);
    this.day = emptyBar(price);
  }

  private randLots(): number {
    return randInt(this.rng, 1, 5000) * 10 ** (this.szDec - 2);
  }

  pxText(tick: number): string {
    return trimZeros((tick / 10 ** this.pxDec).toFixed(this.pxDec));
  }

  szText(lots: number): string {
    return (lots / 10 ** this.szDec).toFixed(this.szDec);
  }

  px(tick: number): number {
    return +(tick / 10 ** this.pxDec).toFixed(this.pxDec);
  }

  sz(lots: number): number {
    return +(lots / 10 ** this.szDec).toFixed(this.szDec);
  }

  private sorted(side: Map<number, number>, desc: boolean): number[] {
    const ticks = [...side.keys()];
    ticks.sort(desc ? (a, b) => b - a : (a, b) => a - b);
    return ticks;
  }

  bestBid(): number {
    let best = Number.NEGATIVE_INFINITY;
    for (const t of this.bids.keys()) if (t > best) best = t;
    return best;
  }

  bestAsk(): number {
    let best = Number.POSITIVE_INFINITY;
    for (const t of this.asks.keys()) if (t < best) best = t;
    return best;
  }

  private setLevel(isBid: boolean, tick: number, lots: number): void {
    const side = isBid ? this.bids : this.asks;
    const pending = isBid ? this.pendingBids : this.pendingAsks;
    if (!pending.has(tick)) pending.set(tick, side.get(tick) ?? 0);
    if (lots > 0) side.set(tick, lots);
    else side.delete(tick);
  }

  /** One random book change near the top: resize, add or remove a level (never crossing). */
  bookEvent(): void {
    const isBid = this.rng() < 0.5;
    const side = isBid ? this.bids : this.asks;
    const ticks = this.sorted(side, isBid);
    const r = this.rng();
    if (r < 0.3 && ticks.length > 5) {
      this.setLevel(isBid, ticks[nearIndex(this.rng, ticks.length)], 0);
    } else if (r < 0.7 || ticks.length === 0) {
      const bb = this.bestBid();
      const ba = this.bestAsk();
      let tick: number;
      if (isBid) tick = (Number.isFinite(bb) ? bb : ba - 1) + 1 - randInt(this.rng, 0, 8);
      else tick = (Number.isFinite(ba) ? ba : bb + 1) - 1 + randInt(this.rng, 0, 8);
      if (isBid && tick >= ba) tick = ba - 1;
      if (!isBid && tick <= bb) tick = bb + 1;
      this.setLevel(isBid, tick, this.randLots());
    } else {
      this.setLevel(isBid, ticks[nearIndex(this.rng, ticks.length)], this.randLots());
    }
    // Keep the book near its configured depth.
    if (side.size > this.depthLevels * 1.5) {
      const far = this.sorted(side, isBid);
      for (let i = this.depthLevels; i < far.length; i++) this.setLevel(isBid, far[i], 0);
    }
  }

  /** A taker order against the top level; returns the trade frame data object. */
  takerEvent(ts: number): Record<string, unknown> | undefined {
    const buy = this.rng() < 0.5;
    const tick = buy ? this.bestAsk() : this.bestBid();
    if (!Number.isFinite(tick)) return undefined;
    const side = buy ? this.asks : this.bids;
    const lots = side.get(tick)!;
    const take = Math.min(lots, randInt(this.rng, 1, Math.max(1, Math.floor(lots / 2))) + (this.rng() < 0.2 ? lots : 0));
    this.setLevel(!buy, tick, lots - take);
    const price = this.px(tick);
    addFill(this.day, price, this.sz(take));
    this.tradeId += 1;
    return {
      instId: this.instId,
      tradeId: String(this.tradeId),
      px: this.pxText(tick),
      sz: this.szText(take),
      side: buy ? 'buy' : 'sell',
      ts: String(ts),
      count: '1',
    };
  }

  /** Levels (text) of one side, best first. */
  private levels(isBid: boolean, ticks: Iterable<number>): string[][] {
    const side = isBid ? this.bids : this.asks;
    const out: string[][] = [];
    for (const t of ticks) out.push([this.pxText(t), this.szText(side.get(t) ?? 0), '0', String(side.has(t) ? 1 : 0)]);
    return out;
  }

  private checksum(): number {
    const b = this.sorted(this.bids, true).slice(0, 25);
    const a = this.sorted(this.asks, false).slice(0, 25);
    const bs: string[] = [];
    const as: string[] = [];
    for (const t of b) bs.push(this.pxText(t), this.szText(this.bids.get(t)!));
    for (const t of a) as.push(this.pxText(t), this.szText(this.asks.get(t)!));
    return okxChecksum(bs, b.length, as, a.length);
  }

  /** The full `books` snapshot frame data at the current seqId. Call only with nothing pending. */
  snapshotData(ts: number): Record<string, unknown> {
    return {
      asks: this.levels(false, this.sorted(this.asks, false)),
      bids: this.levels(true, this.sorted(this.bids, true)),
      ts: String(ts),
      checksum: this.checksum(),
      prevSeqId: -1,
      seqId: this.seqId,
    };
  }

  /**
   * Publish the pending changes as one `books` update. Returns its data object, or undefined when
   * the `skipSequence` fault swallowed it. `idle` = no-change update (prevSeqId == seqId).
   */
  publish(ts: number, idle: boolean): Record<string, unknown> | undefined {
    const prev = this.seqId;
    if (!idle) this.seqId += randInt(this.rng, 1, 20);
    const bidTicks = this.sorted(this.pendingBids, true);
    const askTicks = this.sorted(this.pendingAsks, false);
    this.pendingBids.clear();
    this.pendingAsks.clear();
    this.lastPublishAt = ts;
    if (this.skipNext && !idle) {
      this.skipNext = false;
      return undefined;
    }
    let checksum = this.checksum();
    if (this.corruptNext) {
      this.corruptNext = false;
      checksum = (checksum ^ 0x5a5a) | 0;
    }
    return {
      asks: this.levels(false, askTicks),
      bids: this.levels(true, bidTicks),
      ts: String(ts),
      checksum,
      prevSeqId: prev,
      seqId: this.seqId,
    };
  }

  get hasPending(): boolean {
    return this.pendingBids.size + this.pendingAsks.size > 0;
  }

  /** Book as of the last published seqId (pending changes rolled back). */
  view(): OkxBookView {
    const bids = new Map(this.bids);
    const asks = new Map(this.asks);
    for (const [t, lots] of this.pendingBids) lots > 0 ? bids.set(t, lots) : bids.delete(t);
    for (const [t, lots] of this.pendingAsks) lots > 0 ? asks.set(t, lots) : asks.delete(t);
    const pairs = (m: Map<number, number>, desc: boolean): [number, number][] =>
      [...m.keys()].sort(desc ? (a, b) => b - a : (a, b) => a - b).map((t) => [this.px(t), this.sz(m.get(t)!)]);
    return { lastUpdateId: this.seqId, bids: pairs(bids, true), asks: pairs(asks, false) };
  }

  bbo(ts: number): Record<string, unknown> {
    const bb = this.bestBid();
    const ba = this.bestAsk();
    return {
      asks: Number.isFinite(ba) ? [[this.pxText(ba), this.szText(this.asks.get(ba)!), '0', '1']] : [],
      bids: Number.isFinite(bb) ? [[this.pxText(bb), this.szText(this.bids.get(bb)!), '0', '1']] : [],
      ts: String(ts),
      seqId: this.seqId * 100 + (this.bboSeq++ % 100),
    };
  }

  tickerData(ts: number): Record<string, unknown> {
    const type = okxInstType(this.instId);
    const swap = type !== 'SPOT';
    const bb = this.bestBid();
    const ba = this.bestAsk();
    const day = this.day;
    const quoteVol = day.volume * day.close;
    return {
      instType: type,
      instId: this.instId,
      last: String(day.close),
      lastSz: '1',
      askPx: Number.isFinite(ba) ? this.pxText(ba) : '',
      askSz: Number.isFinite(ba) ? this.szText(this.asks.get(ba)!) : '',
      bidPx: Number.isFinite(bb) ? this.pxText(bb) : '',
      bidSz: Number.isFinite(bb) ? this.szText(this.bids.get(bb)!) : '',
      open24h: String(day.open),
      high24h: String(day.high),
      low24h: String(day.low),
      // Derivatives: vol24h in contracts (1 contract = 0.01 base here), volCcy24h in base.
      vol24h: swap ? String(day.volume * 100) : String(day.volume),
      volCcy24h: swap ? String(day.volume) : String(quoteVol),
      ts: String(ts),
    };
  }
}
