/**
 * Bybit v5 public topics for one category (spot or linear), generated from a SyntheticMarket.
 *
 * The market keeps the book and produces Binance-shaped trades, tickers and klines; this feed
 * translates those into `publicTrade`, `tickers` and `kline` frames and samples the book at each
 * topic's push cadence into `orderbook.<depth>` frames: a snapshot first, then deltas of the
 * levels that changed within the top `depth`, with `u` = previous `u` + 1 (level 1 always pushes
 * snapshots, as Bybit does). Linear tickers are a snapshot followed by deltas holding only the
 * fields that changed. Every frame of a topic is one string shared by all its subscribers.
 */
import { type BookView, type MarketOptions, SYMBOL_PATTERN, SyntheticMarket } from '../binance/market.js';
import { mulberry32, type Rng } from '../kit/rng.js';

export type BybitSimCategory = 'spot' | 'linear' | 'option';

/** Bybit kline interval → the market's (Binance) interval name. */
const KLINE_INTERVAL: Readonly<Record<string, string>> = {
  '1': '1m',
  '3': '3m',
  '5': '5m',
  '15': '15m',
  '30': '30m',
  '60': '1h',
  '120': '2h',
  '240': '4h',
  '360': '6h',
  '720': '12h',
  D: '1d',
  W: '1w',
  M: '1M',
};

/** Push cadence per order book depth (ms), as documented for v5 (options: 25 and 100 levels only). */
const BOOK_CADENCE: Readonly<Record<number, number>> = { 1: 10, 25: 20, 50: 20, 100: 100, 200: 100, 1000: 200 };
const OPTION_DEPTHS: ReadonlySet<number> = new Set([25, 100]);
const DEPTHS: ReadonlySet<number> = new Set([1, 50, 200, 1000]);

const TOPIC_RE = /^(publicTrade|tickers|orderbook|kline)\.(?:([0-9A-Z]+)\.)?([0-9A-Z]+(?:-[0-9A-Z]+)*)$/;

export interface ParsedTopic {
  readonly kind: 'publicTrade' | 'tickers' | 'orderbook' | 'kline';
  readonly symbol: string;
  /** Book depth (orderbook) or Bybit interval (kline). */
  readonly param: string | undefined;
}

export function parseTopic(topic: string): ParsedTopic | undefined {
  const m = TOPIC_RE.exec(topic);
  if (m === null) return undefined;
  const kind = m[1] as ParsedTopic['kind'];
  const param = m[2];
  if ((kind === 'orderbook' || kind === 'kline') !== (param !== undefined)) return undefined;
  if (kind === 'orderbook' && BOOK_CADENCE[Number(param)] === undefined) return undefined;
  if (kind === 'kline' && !Object.hasOwn(KLINE_INTERVAL, param!)) return undefined;
  return { kind, symbol: m[3], param };
}

interface BookTopic {
  readonly topic: string;
  readonly symbol: string;
  readonly depth: number;
  readonly cadence: number;
  nextAt: number;
  u: number;
  bids: Map<string, string>;
  asks: Map<string, string>;
  /** Published levels best-first (for snapshots and `book()`). */
  bidList: [string, string][];
  askList: [string, string][];
  published: boolean;
  /** Lose the next delta (its `u` is consumed, the frame never sent). */
  skipNext: boolean;
  /** Next publish is a `u = 1` snapshot (service restart). */
  restart: boolean;
}

interface TradeGroup {
  readonly topic: string;
  readonly E: number;
  readonly items: string[];
}

/** Fields of the linear ticker, in wire order. */
type LinearTicker = Record<string, string>;

export interface FeedOptions extends Omit<MarketOptions, 'symbols'> {
  readonly category: BybitSimCategory;
  readonly symbols: readonly string[];
  /**
   * Dated instruments this category lists, as Bybit names them: linear futures (`BTCUSDT-25DEC26`
   * USDT-settled, `BTC-25DEC26` USDC-settled) or options (`BTC-25DEC26-100000-C`, USDC-settled;
   * `…-C-USDT`). Only these exist; other dated names are refused. The option category lists
   * nothing else.
   */
  readonly dated?: readonly string[];
}

const FUTURE_RE = /^([A-Z0-9]+?)(USDT)?-(\d{1,2}[A-Z]{3}\d{2})$/;
const OPTION_RE = /^([A-Z0-9]+)-(\d{1,2}[A-Z]{3}\d{2})-(\d+(?:\.\d+)?)-([CP])(-USDT)?$/;

/**
 * A Bybit future's or option's name → the synthetic market's symbol for it (`BTCUSDT-25DEC26` →
 * `BTC25DEC26USDT`, `BTC-25DEC26-100000-C` → `BTC25DEC26100000CUSDC`).
 */
function datedMarketSymbol(name: string, category: BybitSimCategory): string {
  const f = category === 'linear' ? FUTURE_RE.exec(name) : null;
  if (f !== null) return `${f[1]}${f[3]}${f[2] ?? 'USDC'}`;
  const o = category === 'option' ? OPTION_RE.exec(name) : null;
  if (o !== null) return `${o[1]}${o[2]}${o[3].replace('.', 'D')}${o[4]}${o[5] === undefined ? 'USDC' : 'USDT'}`;
  throw new Error(
    `bybit simulator: ${JSON.stringify(name)} is not a Bybit ${category === 'option' ? 'option (BTC-25DEC26-100000-C)' : 'future (BTCUSDT-25DEC26, BTC-25DEC26)'}`,
  );
}

/** An option's base coin: the topic its trades go out on is `publicTrade.<base>`. */
const optionBase = (name: string): string => name.slice(0, name.indexOf('-'));

/** Where the feed writes: `topic` frames for every subscriber of the topic. */
export type FeedEmit = (topic: string, frame: string) => void;

export class BybitFeed {
  readonly category: BybitSimCategory;
  private readonly market: SyntheticMarket;
  private readonly epochMs: number;
  private readonly rng: Rng;
  /** Subscriber counts per topic. */
  private readonly refs = new Map<string, number>();
  /** Binance stream names the market should produce, with counts. */
  private readonly wanted = new Map<string, number>();
  private readonly books = new Map<string, BookTopic>();
  private readonly linearTickers = new Map<string, LinearTicker>();
  private readonly tradeSeq = new Map<string, number>();
  private tradeId = 0;
  private tickerSeq = 0;
  private group: TradeGroup | undefined;
  private now = 0;
  /** Listed dated futures: Bybit name → market symbol, and back. */
  private readonly toMarket = new Map<string, string>();
  private readonly fromMarket = new Map<string, string>();

  constructor(
    options: FeedOptions,
    private readonly emit: FeedEmit,
  ) {
    this.category = options.category;
    this.epochMs = options.epochMs;
    this.rng = mulberry32((options.seed ^ (options.category === 'linear' ? 0x5bd1e995 : 0x27d4eb2f)) >>> 0);
    for (const name of options.dated ?? []) {
      const ms = datedMarketSymbol(name, options.category);
      this.toMarket.set(name, ms);
      this.fromMarket.set(ms, name);
    }
    this.market = new SyntheticMarket(
      { ...options, symbols: [...(options.category === 'option' ? [] : options.symbols), ...this.toMarket.values()] },
      {
        wants: (stream) => (this.wanted.get(stream) ?? 0) > 0,
        emit: (_t, stream, data) => this.onMarket(stream, data),
      },
    );
  }

  /** Starts a subscription; returns an error message for a topic this category cannot serve. */
  subscribe(topic: string): string | undefined {
    const p = parseTopic(topic);
    const trades = p !== undefined && this.category === 'option' && p.kind === 'publicTrade';
    if (p === undefined || !this.serves(p) || (!trades && !this.market.ensureSymbol(this.marketSymbol(p.symbol)))) {
      return `error:handler not found,topic:${topic}`;
    }
    this.refs.set(topic, (this.refs.get(topic) ?? 0) + 1);
    for (const stream of this.marketStreams(p)) this.wanted.set(stream, (this.wanted.get(stream) ?? 0) + 1);
    if (p.kind === 'kline') this.market.ensureKline(this.marketSymbol(p.symbol), KLINE_INTERVAL[p.param!]);
    if (p.kind === 'orderbook' && !this.books.has(topic)) {
      const depth = Number(p.param);
      this.books.set(topic, {
        topic,
        symbol: p.symbol,
        depth,
        cadence: BOOK_CADENCE[depth],
        nextAt: this.now,
        u: 0,
        bids: new Map(),
        asks: new Map(),
        bidList: [],
        askList: [],
        published: false,
        skipNext: false,
        restart: false,
      });
    }
    return undefined;
  }

  unsubscribe(topic: string): void {
    const n = this.refs.get(topic);
    if (n === undefined) return;
    if (n <= 1) this.refs.delete(topic);
    else this.refs.set(topic, n - 1);
    const p = parseTopic(topic)!;
    for (const stream of this.marketStreams(p)) {
      const w = (this.wanted.get(stream) ?? 1) - 1;
      if (w <= 0) this.wanted.delete(stream);
      else this.wanted.set(stream, w);
    }
  }

  /**
   * Does this category serve the topic? Options: the books (25 or 100 levels) of listed options
   * and `publicTrade.<base coin>` (every listed option of that base); their tickers and klines are
   * not simulated. Spot and linear: depths 1, 50, 200, 1000 of listed or creatable symbols.
   */
  private serves(p: ParsedTopic): boolean {
    if (this.category === 'option') {
      if (p.kind === 'publicTrade') return [...this.toMarket.keys()].some((n) => optionBase(n) === p.symbol);
      return p.kind === 'orderbook' && OPTION_DEPTHS.has(Number(p.param)) && this.toMarket.has(p.symbol);
    }
    if (p.kind === 'orderbook' && !DEPTHS.has(Number(p.param))) return false;
    return this.toMarket.has(p.symbol) || SYMBOL_PATTERN.test(p.symbol);
  }

  /** The snapshot a new subscriber gets right away (books and linear tickers), if any yet. */
  snapshotFrame(topic: string): string | undefined {
    const b = this.books.get(topic);
    if (b !== undefined) return b.published ? this.bookFrame(b, 'snapshot', b.bidList, b.askList) : undefined;
    const t = this.linearTickers.get(topic);
    if (t !== undefined) return this.tickerFrame(topic, 'snapshot', t);
    return undefined;
  }

  /** Process market events up to `nowMs` (virtual ms since start) and publish due book topics. */
  advance(nowMs: number): void {
    this.market.advance(nowMs);
    this.flushTrades();
    this.now = nowMs;
    for (const b of this.books.values()) {
      if ((this.refs.get(b.topic) ?? 0) === 0 || nowMs < b.nextAt) continue;
      b.nextAt = nowMs + b.cadence;
      this.publishBook(b);
    }
  }

  /** Lose the next delta of every book topic of `symbol`. Returns false for an unknown symbol. */
  skipSequence(symbol: string): boolean {
    return this.armBooks(symbol, 'skipNext');
  }

  /** Next book push of `symbol` is a `u = 1` snapshot, as after a Bybit service restart. */
  restartBooks(symbol: string): boolean {
    return this.armBooks(symbol, 'restart');
  }

  /** Sets a one-shot fault flag on every book topic of `symbol`; false when it has none. */
  private armBooks(symbol: string, flag: 'skipNext' | 'restart'): boolean {
    let found = false;
    for (const b of this.books.values()) {
      if (b.symbol !== symbol) continue;
      b[flag] = true;
      found = true;
    }
    return found;
  }

  /** The book as last published on `orderbook.<depth>.<symbol>` (lastUpdateId = its `u`). */
  book(symbol: string, depth: number): BookView {
    const b = this.books.get(`orderbook.${depth}.${symbol}`);
    if (b === undefined || !b.published) {
      throw new Error(`bybit simulator: orderbook.${depth}.${symbol} (${this.category}) has not been published`);
    }
    const nums = (l: [string, string][]): [number, number][] => l.map(([p, q]) => [Number(p), Number(q)]);
    return { lastUpdateId: b.u, bids: nums(b.bidList), asks: nums(b.askList) };
  }

  /** The synthetic market's symbol for a Bybit symbol (itself, but for dated futures). */
  private marketSymbol(symbol: string): string {
    return this.toMarket.get(symbol) ?? symbol;
  }

  /** The market streams a topic needs (an option trade topic: the trades of every option of its base). */
  private marketStreams(p: ParsedTopic): string[] {
    if (this.category === 'option' && p.kind === 'publicTrade') {
      return [...this.toMarket].filter(([n]) => optionBase(n) === p.symbol).map(([, ms]) => `${ms.toLowerCase()}@trade`);
    }
    const l = this.marketSymbol(p.symbol).toLowerCase();
    switch (p.kind) {
      case 'publicTrade':
        return [`${l}@trade`];
      case 'tickers':
        return [`${l}@ticker`];
      case 'kline':
        return [`${l}@kline_${KLINE_INTERVAL[p.param!]}`];
      default:
        return [];
    }
  }

  private ts(): number {
    return Math.floor(this.epochMs + this.now);
  }

  // ─── books ─────────────────────────────────────────────────────────────────────────────

  private bookFrame(b: BookTopic, type: 'snapshot' | 'delta', bids: [string, string][], asks: [string, string][]): string {
    const ts = this.ts();
    const seq = this.market.book(this.marketSymbol(b.symbol), 0).lastUpdateId;
    const lv = (l: [string, string][]) => `[${l.map(([p, q]) => `["${p}","${q}"]`).join(',')}]`;
    return `{"topic":"${b.topic}","type":"${type}","ts":${ts},"data":{"s":"${b.symbol}","b":${lv(bids)},"a":${lv(asks)},"u":${b.u},"seq":${seq}},"cts":${ts - 1}}`;
  }

  private publishBook(b: BookTopic): void {
    const snap = this.market.snapshot(this.marketSymbol(b.symbol), b.depth);
    const db = diff(b.bids, snap.bids, b.published);
    const da = diff(b.asks, snap.asks, b.published);
    const restart = b.restart;
    if (b.published && !restart && db.length === 0 && da.length === 0) return;
    b.bids = new Map(snap.bids);
    b.asks = new Map(snap.asks);
    b.bidList = snap.bids;
    b.askList = snap.asks;
    const first = !b.published;
    b.published = true;
    b.restart = false;
    b.u = restart ? 1 : b.u + 1;
    if (first || restart || b.depth === 1) {
      this.emit(b.topic, this.bookFrame(b, 'snapshot', snap.bids, snap.asks));
      return;
    }
    if (b.skipNext) {
      b.skipNext = false;
      return; // lost: the next delta carries u + 2
    }
    this.emit(b.topic, this.bookFrame(b, 'delta', db, da));
  }

  // ─── market payloads → topics ──────────────────────────────────────────────────────────

  private onMarket(stream: string, data: string): void {
    const at = stream.indexOf('@');
    const ms = stream.slice(0, at).toUpperCase();
    const symbol = this.fromMarket.get(ms) ?? ms;
    const kind = stream.slice(at + 1);
    const d = JSON.parse(data) as Record<string, unknown>;
    if (kind === 'trade') this.onTrade(symbol, d);
    else if (kind === 'ticker') this.onTicker(symbol, d);
    else if (kind.startsWith('kline_')) this.onKline(symbol, d);
  }

  /** Trades of one taker order (same event time) go out in one frame with one cross sequence. */
  private onTrade(symbol: string, d: Record<string, unknown>): void {
    // Option trades go out per base coin (publicTrade.BTC), each naming its option in `s`.
    const topic = `publicTrade.${this.category === 'option' ? optionBase(symbol) : symbol}`;
    const E = d.E as number;
    if (this.group !== undefined && (this.group.topic !== topic || this.group.E !== E)) this.flushTrades();
    if (this.group === undefined) {
      this.group = { topic, E, items: [] };
      // One cross sequence per frame of the topic (an option topic's frame may hold several options).
      this.tradeSeq.set(topic, (this.tradeSeq.get(topic) ?? 100_000_000) + 1 + Math.floor(this.rng() * 20));
    }
    const seq = this.tradeSeq.get(topic)!;
    const side = d.m ? 'Sell' : 'Buy'; // buyer is the maker → the taker sold
    const id = this.category === 'spot' ? `229000000${String(1_000_000_000 + ++this.tradeId)}` : this.uuid();
    this.group.items.push(
      `{"T":${d.T},"s":"${symbol}","S":"${side}","v":"${d.q}","p":"${d.p}","L":"ZeroPlusTick","i":"${id}","BT":false,"RPI":false,"seq":${seq}}`,
    );
  }

  private flushTrades(): void {
    const g = this.group;
    if (g === undefined) return;
    this.group = undefined;
    this.emit(g.topic, `{"topic":"${g.topic}","type":"snapshot","ts":${g.E + 1},"data":[${g.items.join(',')}]}`);
  }

  private uuid(): string {
    const hex = (n: number) => {
      let s = '';
      for (let i = 0; i < n; i++) s += Math.floor(this.rng() * 16).toString(16);
      return s;
    };
    return `${hex(8)}-${hex(4)}-5${hex(3)}-${hex(4)}-${hex(12)}`;
  }

  private onTicker(symbol: string, d: Record<string, unknown>): void {
    const topic = `tickers.${symbol}`;
    const last = Number(d.c);
    const open = Number(d.o);
    const pct = open > 0 ? ((last - open) / open).toFixed(4) : '0';
    if (this.category === 'spot') {
      const data = `{"symbol":"${symbol}","lastPrice":"${d.c}","highPrice24h":"${d.h}","lowPrice24h":"${d.l}","prevPrice24h":"${d.o}","volume24h":"${d.v}","turnover24h":"${d.q}","price24hPcnt":"${pct}","usdIndexPrice":"${d.c}"}`;
      this.emit(topic, `{"topic":"${topic}","ts":${d.E},"type":"snapshot","cs":${++this.tickerSeq},"data":${data}}`);
      return;
    }
    const decimals = String(d.c).split('.')[1]?.length ?? 0;
    const bid = Number(d.b);
    const ask = Number(d.a);
    const mark = bid > 0 && ask > 0 ? (bid + ask) / 2 : last;
    const E = d.E as number;
    const next: LinearTicker = {
      symbol,
      tickDirection: 'ZeroPlusTick',
      price24hPcnt: pct,
      lastPrice: String(d.c),
      prevPrice24h: String(d.o),
      highPrice24h: String(d.h),
      lowPrice24h: String(d.l),
      markPrice: mark.toFixed(decimals),
      indexPrice: (mark * (1 + (this.rng() - 0.5) * 2e-4)).toFixed(decimals),
      openInterest: '50000.000',
      turnover24h: String(d.q),
      volume24h: String(d.v),
      nextFundingTime: String(Math.ceil((E + 1) / 28_800_000) * 28_800_000),
      fundingRate: ((this.rng() - 0.4) * 1e-4).toFixed(7),
      bid1Price: String(d.b),
      bid1Size: String(d.B),
      ask1Price: String(d.a),
      ask1Size: String(d.A),
    };
    const prev = this.linearTickers.get(topic);
    this.linearTickers.set(topic, next);
    if (prev === undefined) {
      this.emit(topic, this.tickerFrame(topic, 'snapshot', next, E));
      return;
    }
    const changed: LinearTicker = { symbol };
    let any = false;
    for (const k of Object.keys(next)) {
      if (prev[k] !== next[k]) {
        changed[k] = next[k];
        any = true;
      }
    }
    if (any) this.emit(topic, this.tickerFrame(topic, 'delta', changed, E));
  }

  private tickerFrame(topic: string, type: 'snapshot' | 'delta', fields: LinearTicker, ts = this.ts()): string {
    return `{"topic":"${topic}","type":"${type}","data":${JSON.stringify(fields)},"cs":${++this.tickerSeq},"ts":${ts}}`;
  }

  private onKline(symbol: string, d: Record<string, unknown>): void {
    const k = d.k as Record<string, unknown>;
    const interval = Object.keys(KLINE_INTERVAL).find((b) => KLINE_INTERVAL[b] === k.i)!;
    const topic = `kline.${interval}.${symbol}`;
    const candle = `{"start":${k.t},"end":${k.T},"interval":"${interval}","open":"${k.o}","close":"${k.c}","high":"${k.h}","low":"${k.l}","volume":"${k.v}","turnover":"${k.q}","confirm":${k.x},"timestamp":${d.E}}`;
    this.emit(topic, `{"topic":"${topic}","data":[${candle}],"ts":${d.E},"type":"snapshot"}`);
  }
}

/** Changed levels from `old` to `next` (best-first), removals as size "0". */
function diff(old: Map<string, string>, next: [string, string][], published: boolean): [string, string][] {
  if (!published) return next;
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const [p, q] of next) {
    seen.add(p);
    if (old.get(p) !== q) out.push([p, q]);
  }
  for (const p of old.keys()) if (!seen.has(p)) out.push([p, '0']);
  return out;
}
