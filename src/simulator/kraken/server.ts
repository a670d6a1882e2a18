/**
 * Kraken spot WebSocket v2 simulator (uWebSockets.js, any path, e.g. `ws://127.0.0.1:<port>/v2`):
 * `subscribe`/`unsubscribe` with per-symbol acks (`method`, `result`, `success`, `req_id`,
 * `time_in`/`time_out`), `ping` → `pong`, a `status` frame on open, `heartbeat` every second,
 * `instrument` (snapshot of all pairs with precisions; an `update` when a pair is created on
 * demand), `book` (depth 10/25/100/500/1000: snapshot, then updates computed as the difference of
 * each subscribed depth's view, with real CRC32 checksums over the simulated book and no delete
 * for a level pushed out of scope — as Kraken), `trade`, `ticker` (on trades) and `ohlc`.
 *
 * Faults: the common ones (see `kit/venue-server.ts`), `skipSequence(symbol)` (book
 * updates of the pair are withheld until the next one a client missing them cannot verify, which
 * is sent: the client's next checksum fails) and `corruptChecksum(symbol)` (the next book update
 * carries a wrong checksum). `freeze(true)` stops the market (sockets keep working) so a test
 * can compare books at rest.
 */
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import { readClientRequest } from '../kit/client-request.js';
import { type CommonFaults, type CommonSimulatorOptions, commonOptions, type Peer, reply, type SimulatorStats, VenueServer } from '../kit/venue-server.js';
import { KRAKEN_DEFAULT_PAIRS, KRAKEN_PAIR_PATTERN, type KrakenCandle, KrakenPair } from './market.js';

export interface KrakenSimulatorOptions extends Omit<CommonSimulatorOptions, 'maxFramesPerWrite'> {
  seed?: number;
  /** Pairs that exist from the start (default BTC/USD, ETH/USD, SOL/USD, DOGE/USDT); others `BASE/QUOTE` are created on demand. */
  pairs?: string[];
  /** Book changes + taker orders per second per pair (default 30). */
  ratePerPair?: number;
  /** Book levels per side in the simulated market (default 60). */
  depthLevels?: number;
  /** Heartbeat interval (default 1000 ms; 0 disables). */
  heartbeatMs?: number;
  tickMs?: number;
}

export interface KrakenSimulatorFaults extends CommonFaults {
  /**
   * Withhold book updates of `symbol` (from everyone; the book still changes) until the next
   * one whose checksum the clients, missing the withheld ones, cannot match; that one is sent.
   */
  skipSequence(symbol: string): void;
  /** The next book update of `symbol` carries a wrong checksum. */
  corruptChecksum(symbol: string): void;
}

export interface KrakenBookView {
  /** Full simulated book, bids desc / asks asc, as numbers. */
  bids: [number, number][];
  asks: [number, number][];
  checksum: number;
}

export interface KrakenSimulator {
  readonly port: number;
  /** `ws://host:port/v2` */
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly faults: KrakenSimulatorFaults;
  book(symbol: string): KrakenBookView;
  /** Stop (true) or restart (false) the synthetic market; sockets keep working. */
  freeze(on: boolean): void;
  stats(): SimulatorStats;
  close(): Promise<void>;
}

const DEPTHS = [10, 25, 100, 500, 1000];
const OHLC_MINUTES = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

interface KrakenConn {
  instrument: boolean;
  book: Map<string, number>;
  trade: Set<string>;
  ticker: Set<string>;
  ohlc: Map<string, Set<number>>;
}

type Conn = Peer<KrakenConn>;

/** What subscribers of one (pair, depth) have been sent: levels best-first. */
interface DepthView {
  bidPx: number[];
  bidQty: number[];
  askPx: number[];
  askQty: number[];
}

type Obj = Record<string, unknown>;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function startKrakenSimulator(opts: KrakenSimulatorOptions = {}): Promise<KrakenSimulator> {
  const seed = opts.seed ?? 1;
  const rate = opts.ratePerPair ?? 30;
  const levels = opts.depthLevels ?? 60;
  const heartbeatMs = opts.heartbeatMs ?? 1000;
  const t0 = performance.now();
  const wall0 = Date.now();
  const now = (): number => wall0 + (performance.now() - t0);

  const pairs = new Map<string, KrakenPair>();
  const views = new Map<string, DepthView>(); // `${symbol}|${depth}`
  const server = new VenueServer<KrakenConn>({
    name: 'kraken simulator',
    ...commonOptions(opts),
    writeSeed: seed,
    // Kraken's frames of one write go out in one cork.
    maxFramesPerWrite: Number.POSITIVE_INFINITY,
    unavailableBody: '{"error":["EService:Unavailable"]}',
  });
  const conns = server.peers;
  const skipNext = new Set<string>();
  /** Under skipSequence: what the client still has per `${symbol}|${depth}` (updates withheld). */
  const skipping = new Map<string, DepthView>();
  const corruptNext = new Set<string>();
  let frozen = false;
  let lastHeartbeat = 0;

  function createPair(symbol: string): KrakenPair {
    const p = new KrakenPair(symbol, seed, levels);
    p.schedule(performance.now(), rate);
    pairs.set(symbol, p);
    return p;
  }
  for (const s of opts.pairs ?? KRAKEN_DEFAULT_PAIRS) createPair(s);

  function pairJson(p: KrakenPair): Obj {
    const [base, quote] = p.symbol.split('/');
    return {
      symbol: p.symbol,
      base,
      quote,
      status: 'online',
      qty_precision: p.qtyPrecision,
      qty_increment: 1 / p.lotScale,
      price_precision: p.pricePrecision,
      price_increment: 1 / p.tickScale,
      cost_precision: 5,
      marginable: false,
      has_index: true,
      cost_min: 0.5,
      qty_min: 0.0001,
    };
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Data frames (subject to the stall fault). */
  const sendData = (conn: Conn, frame: string): void => server.sendData(conn, [frame]);
  /** Acks, snapshots and status frames: written (and counted) at once, stall or not. */
  const sendControl = (conn: Conn, frames: string[]): void => server.write(conn, frames);

  // ---- book views ------------------------------------------------------------------------------

  function topView(p: KrakenPair, depth: number): DepthView {
    return {
      bidPx: p.bids.px.slice(0, depth),
      bidQty: p.bids.qty.slice(0, depth),
      askPx: p.asks.px.slice(0, depth),
      askQty: p.asks.qty.slice(0, depth),
    };
  }

  function levelsJson(p: KrakenPair, px: number[], qty: number[]): Obj[] {
    return px.map((x, i) => ({ price: p.price(x), qty: p.qty(qty[i]) }));
  }

  /**
   * Levels (ticks, lots; lots 0 = delete) changed from the old to the new best-first view; no
   * delete for a level pushed out of a full view (as Kraken: the client truncates).
   */
  function diffSide(isBid: boolean, depth: number, oldPx: number[], oldQty: number[], newPx: number[], newQty: number[]): number[][] {
    const out: number[][] = [];
    const before = new Map<number, number>();
    for (let i = 0; i < oldPx.length; i++) before.set(oldPx[i], oldQty[i]);
    const after = new Set(newPx);
    const worst = newPx[newPx.length - 1];
    for (const x of oldPx) {
      if (after.has(x)) continue;
      const pushedOut = newPx.length === depth && (isBid ? x < worst : x > worst);
      if (!pushedOut) out.push([x, 0]);
    }
    for (let i = 0; i < newPx.length; i++) if (before.get(newPx[i]) !== newQty[i]) out.push([newPx[i], newQty[i]]);
    return out;
  }

  /** A client's side after applying `changes` and truncating to `depth` (what Kraken asks clients to do). */
  function applySide(isBid: boolean, depth: number, px: number[], qty: number[], changes: number[][]): [number[], number[]] {
    const m = new Map<number, number>();
    for (let i = 0; i < px.length; i++) m.set(px[i], qty[i]);
    for (const [x, q] of changes) q === 0 ? m.delete(x) : m.set(x, q);
    const levels = [...m].sort((a, b) => (isBid ? b[0] - a[0] : a[0] - b[0])).slice(0, depth);
    return [levels.map((l) => l[0]), levels.map((l) => l[1])];
  }

  function viewChecksum(v: DepthView): number {
    let text = '';
    for (let i = 0; i < Math.min(10, v.askPx.length); i++) text += `${v.askPx[i]}${v.askQty[i]}`;
    for (let i = 0; i < Math.min(10, v.bidPx.length); i++) text += `${v.bidPx[i]}${v.bidQty[i]}`;
    return crc32(text) >>> 0;
  }

  function bookSnapshotFrame(p: KrakenPair, depth: number): string {
    const v = topView(p, depth);
    return JSON.stringify({
      channel: 'book',
      type: 'snapshot',
      data: [
        {
          symbol: p.symbol,
          bids: levelsJson(p, v.bidPx, v.bidQty),
          asks: levelsJson(p, v.askPx, v.askQty),
          checksum: p.checksum(),
          timestamp: iso(now()),
        },
      ],
    });
  }

  /**
   * Send each subscribed depth's changes. Under `skipSequence`, updates are withheld until the
   * next one that would leave the client (which missed them) with a wrong checksum; that one is
   * sent, so the client's very next checksum after the gap fails. (Withholding only one update
   * could go unnoticed: a later absolute quantity may overwrite the missed one, or it may lie
   * outside the top 10 levels the checksum covers.)
   */
  function publishBook(p: KrakenPair): void {
    const depths = new Set<number>();
    for (const c of conns) {
      const d = c.book.get(p.symbol);
      if (d !== undefined) depths.add(d);
    }
    const corrupt = corruptNext.has(p.symbol);
    let sent = false;
    for (const depth of depths) {
      const key = `${p.symbol}|${depth}`;
      const old = views.get(key) ?? topView(p, depth);
      const next = topView(p, depth);
      views.set(key, next);
      const bids = diffSide(true, depth, old.bidPx, old.bidQty, next.bidPx, next.bidQty);
      const asks = diffSide(false, depth, old.askPx, old.askQty, next.askPx, next.askQty);
      if (bids.length === 0 && asks.length === 0) continue;
      const checksum = p.checksum();
      if (skipNext.has(p.symbol)) {
        const client = skipping.get(key) ?? old;
        const [bidPx, bidQty] = applySide(true, depth, client.bidPx, client.bidQty, bids);
        const [askPx, askQty] = applySide(false, depth, client.askPx, client.askQty, asks);
        if (viewChecksum({ bidPx, bidQty, askPx, askQty }) === checksum) {
          skipping.set(key, client); // withheld: the client keeps its (stale) book
          continue;
        }
        skipping.delete(key);
        if (![...skipping.keys()].some((k) => k.startsWith(`${p.symbol}|`))) skipNext.delete(p.symbol);
      }
      sent = true;
      const json = (l: number[]) => ({ price: p.price(l[0]), qty: p.qty(l[1]) });
      const frame = JSON.stringify({
        channel: 'book',
        type: 'update',
        data: [
          {
            symbol: p.symbol,
            bids: bids.map(json),
            asks: asks.map(json),
            checksum: corrupt ? (checksum ^ 0x5a5a5a5a) >>> 0 : checksum,
            timestamp: iso(now()),
          },
        ],
      });
      for (const c of conns) if (c.book.get(p.symbol) === depth) sendData(c, frame);
    }
    if (sent) corruptNext.delete(p.symbol);
  }

  function tickerFrame(p: KrakenPair, type: 'snapshot' | 'update'): string {
    const day = p.day;
    const vol = Number(p.qty(day.volume).toFixed(p.qtyPrecision));
    const change = p.price(day.close - day.open);
    return JSON.stringify({
      channel: 'ticker',
      type,
      data: [
        {
          symbol: p.symbol,
          bid: p.price(p.bids.px[0] ?? 0),
          bid_qty: p.qty(p.bids.qty[0] ?? 0),
          ask: p.price(p.asks.px[0] ?? 0),
          ask_qty: p.qty(p.asks.qty[0] ?? 0),
          last: p.price(day.close),
          volume: vol,
          vwap: vol > 0 ? Number((day.quote / vol).toFixed(p.pricePrecision)) : p.price(day.close),
          low: p.price(day.low),
          high: p.price(day.high),
          change: Number(change.toFixed(p.pricePrecision)),
          change_pct: Number(((change / p.price(day.open)) * 100).toFixed(2)),
          timestamp: iso(now()),
        },
      ],
    });
  }

  function candleJson(p: KrakenPair, c: KrakenCandle): Obj {
    const vol = Number(p.qty(c.volume).toFixed(p.qtyPrecision));
    return {
      symbol: p.symbol,
      open: p.price(c.open),
      high: p.price(c.high),
      low: p.price(c.low),
      close: p.price(c.close),
      trades: c.trades,
      volume: vol,
      vwap: vol > 0 ? Number((c.quote / vol).toFixed(p.pricePrecision)) : p.price(c.close),
      interval_begin: new Date(c.begin).toISOString().replace('Z', '000000Z'),
      interval: c.minutes,
      timestamp: iso(c.begin + c.minutes * 60_000),
    };
  }

  function ohlcFrame(p: KrakenPair, type: 'snapshot' | 'update', candles: KrakenCandle[]): string {
    return JSON.stringify({
      channel: 'ohlc',
      type,
      timestamp: iso(now()),
      data: candles.map((c) => candleJson(p, c)),
    });
  }

  function publishTrades(p: KrakenPair, fills: { id: number; price: number; lots: number; side: string }[]): void {
    const t = now();
    const trade = JSON.stringify({
      channel: 'trade',
      type: 'update',
      data: fills.map((f) => ({
        symbol: p.symbol,
        side: f.side,
        price: p.price(f.price),
        qty: p.qty(f.lots),
        ord_type: 'market',
        trade_id: f.id,
        timestamp: iso(t),
      })),
    });
    let ticker: string | undefined;
    for (const c of conns) {
      if (c.trade.has(p.symbol)) sendData(c, trade);
      if (c.ticker.has(p.symbol)) {
        ticker ??= tickerFrame(p, 'update');
        sendData(c, ticker);
      }
      const intervals = c.ohlc.get(p.symbol);
      if (intervals !== undefined) {
        for (const m of intervals) {
          const candle = p.candles.get(m);
          if (candle !== undefined) sendData(c, ohlcFrame(p, 'update', [candle]));
        }
      }
    }
  }

  // ---- scheduler -------------------------------------------------------------------------------

  function tick(): void {
    const t = performance.now();
    if (!frozen) {
      for (const p of pairs.values()) {
        let guard = 0;
        while (p.nextEventAt <= t && guard++ < 200) {
          const ev = p.step(now(), levels);
          publishBook(p);
          if (ev.fills.length > 0) publishTrades(p, ev.fills);
          p.schedule(p.nextEventAt, rate);
        }
        if (p.nextEventAt <= t) p.schedule(t, rate); // after a long pause, do not burst
      }
    }
    if (heartbeatMs > 0 && t - lastHeartbeat >= heartbeatMs) {
      lastHeartbeat = t;
      for (const c of conns) {
        if (c.book.size + c.trade.size + c.ticker.size + c.ohlc.size > 0) sendData(c, '{"channel":"heartbeat"}');
      }
    }
  }

  // ---- requests --------------------------------------------------------------------------------

  function errorFrame(method: unknown, reqId: unknown, error: string, symbol?: string): string {
    const t = iso(now());
    return JSON.stringify({ error, method, req_id: reqId, success: false, symbol, time_in: t, time_out: t });
  }

  function ackFrame(method: string, reqId: unknown, result: Obj): string {
    const t = iso(now());
    return JSON.stringify({ method, req_id: reqId, result, success: true, time_in: t, time_out: t });
  }

  function ensurePair(symbol: string): KrakenPair | undefined {
    const known = pairs.get(symbol);
    if (known !== undefined) return known;
    if (!KRAKEN_PAIR_PATTERN.test(symbol)) return undefined;
    const p = createPair(symbol);
    const update = JSON.stringify({ channel: 'instrument', type: 'update', data: { assets: [], pairs: [pairJson(p)] } });
    for (const c of conns) if (c.instrument) sendControl(c, [update]);
    return p;
  }

  function handleRequest(conn: Conn, text: string): void {
    const req = readClientRequest(text);
    if (!req.ok) {
      sendControl(conn, [errorFrame(undefined, undefined, 'Malformed request')]);
      return;
    }
    const msg = req.body;
    const { method, req_id: reqId } = msg;
    if (method === 'ping') {
      const t = iso(now());
      sendControl(conn, [JSON.stringify({ method: 'pong', req_id: reqId, time_in: t, time_out: t })]);
      return;
    }
    if (method !== 'subscribe' && method !== 'unsubscribe') {
      sendControl(conn, [errorFrame(method, reqId, 'Method not found')]);
      return;
    }
    const params = msg.params;
    if (!isObj(params) || typeof params.channel !== 'string') {
      sendControl(conn, [errorFrame(method, reqId, 'Missing channel')]);
      return;
    }
    const channel = params.channel;
    if (channel === 'instrument') {
      conn.instrument = method === 'subscribe';
      const frames = [ackFrame(method, reqId, { channel, snapshot: method === 'subscribe' })];
      if (method === 'subscribe') {
        frames.push(
          JSON.stringify({
            channel: 'instrument',
            type: 'snapshot',
            data: { assets: [], pairs: [...pairs.values()].map(pairJson) },
          }),
        );
      }
      sendControl(conn, frames);
      return;
    }
    if (!['book', 'trade', 'ticker', 'ohlc'].includes(channel)) {
      sendControl(conn, [errorFrame(method, reqId, `Channel ${channel} not found`)]);
      return;
    }
    const symbols = params.symbol;
    if (!Array.isArray(symbols) || symbols.length === 0) {
      sendControl(conn, [errorFrame(method, reqId, 'Missing symbol')]);
      return;
    }
    const depth = params.depth ?? 10;
    if (channel === 'book' && (typeof depth !== 'number' || !DEPTHS.includes(depth))) {
      sendControl(conn, [errorFrame(method, reqId, `Invalid depth ${String(depth)}`)]);
      return;
    }
    const interval = params.interval ?? 1;
    if (channel === 'ohlc' && (typeof interval !== 'number' || !OHLC_MINUTES.includes(interval))) {
      sendControl(conn, [errorFrame(method, reqId, `Invalid interval ${String(interval)}`)]);
      return;
    }
    const wantSnapshot = params.snapshot !== false;
    for (const s of symbols) {
      const symbol = String(s);
      const p = ensurePair(symbol);
      if (p === undefined) {
        sendControl(conn, [errorFrame(method, reqId, `Currency pair not supported ${symbol}`, symbol)]);
        continue;
      }
      const result: Obj = { channel, symbol };
      if (channel === 'book') result.depth = depth;
      if (channel === 'ohlc') result.interval = interval;
      if (method === 'unsubscribe') {
        const had = unsubscribe(conn, channel, symbol, interval as number);
        sendControl(conn, [had ? ackFrame(method, reqId, result) : errorFrame(method, reqId, 'Subscription Not Found', symbol)]);
        continue;
      }
      if (isSubscribed(conn, channel, symbol, interval as number)) {
        sendControl(conn, [errorFrame(method, reqId, 'Already subscribed', symbol)]);
        continue;
      }
      result.snapshot = wantSnapshot;
      const frames = [ackFrame(method, reqId, result)];
      switch (channel) {
        case 'book': {
          const key = `${symbol}|${depth}`;
          // A new depth view starts from the current book (the snapshot below).
          if (![...conns].some((c) => c.book.get(symbol) === depth)) views.set(key, topView(p, depth as number));
          conn.book.set(symbol, depth as number);
          frames.push(bookSnapshotFrame(p, depth as number));
          break;
        }
        case 'trade':
          conn.trade.add(symbol);
          break;
        case 'ticker':
          conn.ticker.add(symbol);
          if (wantSnapshot) frames.push(tickerFrame(p, 'snapshot'));
          break;
        case 'ohlc': {
          let set = conn.ohlc.get(symbol);
          if (set === undefined) {
            set = new Set();
            conn.ohlc.set(symbol, set);
          }
          set.add(interval as number);
          p.trackCandles(interval as number, now());
          const current = p.candles.get(interval as number)!;
          p.roll(current, now());
          const prev = p.closedCandles.get(interval as number);
          if (wantSnapshot) frames.push(ohlcFrame(p, 'snapshot', prev ? [prev, current] : [current]));
          break;
        }
      }
      sendControl(conn, frames);
    }
  }

  function isSubscribed(conn: Conn, channel: string, symbol: string, interval: number): boolean {
    if (channel === 'book') return conn.book.has(symbol);
    if (channel === 'trade') return conn.trade.has(symbol);
    if (channel === 'ticker') return conn.ticker.has(symbol);
    return conn.ohlc.get(symbol)?.has(interval) ?? false;
  }

  function unsubscribe(conn: Conn, channel: string, symbol: string, interval: number): boolean {
    if (channel === 'book') return conn.book.delete(symbol);
    if (channel === 'trade') return conn.trade.delete(symbol);
    if (channel === 'ticker') return conn.ticker.delete(symbol);
    const set = conn.ohlc.get(symbol);
    const had = set?.delete(interval) ?? false;
    if (set !== undefined && set.size === 0) conn.ohlc.delete(symbol);
    return had;
  }

  // ---- HTTP / WS -------------------------------------------------------------------------------

  server.ws('/*', {
    accept: () => ({ instrument: false, book: new Map(), trade: new Set(), ticker: new Set(), ohlc: new Map() }),
    open: (conn) =>
      sendControl(conn, [
        JSON.stringify({
          channel: 'status',
          type: 'update',
          data: [{ version: '2.0.10', system: 'online', api_version: 'v2', connection_id: conn.id }],
        }),
      ]),
    message: handleRequest,
  });
  server.app.any('/*', (res) => reply(res, '404 Not Found', '{"error":["EGeneral:Unknown method"]}'));

  await server.listen();
  server.run(opts.tickMs ?? 5, tick);

  const faults: KrakenSimulatorFaults = {
    ...server.faults(() => `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","pri`),
    skipSequence(symbol) {
      if (!pairs.has(symbol)) throw new Error(`kraken simulator: unknown pair ${symbol}`);
      skipNext.add(symbol);
    },
    corruptChecksum(symbol) {
      if (!pairs.has(symbol)) throw new Error(`kraken simulator: unknown pair ${symbol}`);
      corruptNext.add(symbol);
    },
  };

  return {
    ...server.endpoints('/v2'),
    faults,
    book(symbol) {
      const p = pairs.get(symbol);
      if (p === undefined) throw new Error(`kraken simulator: unknown pair ${symbol}`);
      return {
        bids: p.bids.px.map((x, i) => [p.price(x), p.qty(p.bids.qty[i])]),
        asks: p.asks.px.map((x, i) => [p.price(x), p.qty(p.asks.qty[i])]),
        checksum: p.checksum(),
      };
    },
    freeze(on) {
      frozen = on;
    },
    stats() {
      let subscriptions = 0;
      for (const c of conns) subscriptions += c.book.size + c.trade.size + c.ticker.size;
      for (const c of conns) for (const s of c.ohlc.values()) subscriptions += s.size;
      return { ...server.stats(), subscriptions };
    },
    close: () => server.close(),
  };
}
