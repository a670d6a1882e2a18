/**
 * Bybit v5 public simulator: one uWebSockets.js app serving `/v5/public/spot` and
 * `/v5/public/linear` (each its own synthetic market, see `bybit-feed.ts`), with `op: subscribe`
 * / `unsubscribe` acks (`success`, `ret_msg`, `conn_id`, `req_id`), app-level ping/pong, and faults
 * on demand. Paced like the Binance simulator: a scheduler tick advances both markets and each
 * connection gets its frames in small corked groups.
 */

import type { BookView } from '../binance/market.js';
import { DEFAULT_SYMBOLS } from '../binance/market.js';
import { readClientRequest } from '../kit/client-request.js';
import { type CommonFaults, type CommonSimulatorOptions, commonOptions, type Peer, reply, type SimulatorStats, VenueServer } from '../kit/venue-server.js';
import { BybitFeed, type BybitSimCategory } from './feed.js';

export type { BybitSimCategory } from './feed.js';

export interface BybitSimulatorOptions extends CommonSimulatorOptions {
  /** PRNG seed (default 1); the linear market uses a derived seed so its prices differ. */
  seed?: number;
  /** Symbols that exist from the start in both categories (default as the Binance simulator). */
  symbols?: string[];
  /**
   * Dated futures the linear category lists, as Bybit names them (default `BTCUSDT-25DEC26`,
   * USDT-settled, and `BTC-25DEC26`, USDC-settled). Other dated names are refused.
   */
  linearFutures?: string[];
  /**
   * Options the option category (`/v5/public/option`) lists (default `BTC-25DEC26-100000-C`):
   * books of 25 and 100 levels and `publicTrade.<base coin>`. Nothing else exists there.
   */
  options?: string[];
  /** Poisson rate per symbol (events/s) of book changes, touch quotes and taker orders (default 20). */
  ratePerStream?: number;
  /** Ticker pushes per second per symbol (default 10) and kline pushes per second (default 1). */
  tickerRate?: number;
  klineRate?: number;
  /** Book levels per side in the market (default 100). */
  depthLevels?: number;
  /** Scheduler tick (default 5 ms). */
  tickMs?: number;
  /** Max args per subscribe request on spot (default 10, as Bybit). */
  maxSpotArgs?: number;
}

export interface BybitSimulatorFaults extends CommonFaults {
  /** Lose the next book delta of `symbol` (native, e.g. BTCUSDT) in one or both categories. */
  skipSequence(symbol: string, category?: BybitSimCategory): void;
  /** Next book push of `symbol` is a `u = 1` snapshot, as after a Bybit service restart. */
  restartBooks(symbol: string, category?: BybitSimCategory): void;
}

export interface BybitSimulatorStats extends SimulatorStats {
  /** App-level pings answered. */
  pings: number;
  spotConnections: number;
  linearConnections: number;
  optionConnections: number;
}

export interface BybitSimulator {
  readonly port: number;
  /** Base URL; clients append `/v5/public/<category>`. */
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly faults: BybitSimulatorFaults;
  /** The book as last published on `orderbook.<depth>.<symbol>` (default spot, depth 50). */
  book(symbol: string, category?: BybitSimCategory, depth?: number): BookView;
  stats(): BybitSimulatorStats;
  close(): Promise<void>;
}

interface BybitConn {
  readonly connId: string;
  readonly category: BybitSimCategory;
  readonly topics: Set<string>;
  /** Data frames gathered during a tick, written at its end. */
  pending: string[];
}

type Conn = Peer<BybitConn>;

const CATEGORIES: readonly BybitSimCategory[] = ['spot', 'linear', 'option'];
const DEFAULT_LINEAR_FUTURES = ['BTCUSDT-25DEC26', 'BTC-25DEC26'];
const DEFAULT_OPTIONS = ['BTC-25DEC26-100000-C'];
const SEED_SALT: Record<BybitSimCategory, number> = { spot: 0, linear: 7, option: 13 };

export async function startBybitSimulator(opts: BybitSimulatorOptions = {}): Promise<BybitSimulator> {
  const tickMs = opts.tickMs ?? 5;
  const maxSpotArgs = opts.maxSpotArgs ?? 10;
  const seed = opts.seed ?? 1;
  const epochMs = Date.now();

  const server: VenueServer<BybitConn> = new VenueServer<BybitConn>({
    name: 'bybit simulator',
    ...commonOptions(opts),
    writeSeed: seed ^ 0x85ebca6b,
    unavailableBody: '{"retCode":10006,"retMsg":"Service unavailable (simulated)"}',
    onDrop: (conn) => {
      for (const topic of conn.topics) unsubscribe(conn, topic);
      conn.pending = [];
    },
  });
  const conns = server.peers;
  const now = (): number => server.now();
  /** Subscribers per category and topic. */
  const subscribers = new Map<string, Set<Conn>>();
  let pings = 0;

  const feeds = new Map<BybitSimCategory, BybitFeed>();
  for (const category of CATEGORIES) {
    feeds.set(
      category,
      new BybitFeed(
        {
          category,
          seed: category === 'spot' ? seed : (seed * 31 + SEED_SALT[category]) >>> 0,
          symbols: (opts.symbols ?? DEFAULT_SYMBOLS).map((s) => s.toUpperCase()),
          dated:
            category === 'linear'
              ? (opts.linearFutures ?? DEFAULT_LINEAR_FUTURES)
              : category === 'option'
                ? (opts.options ?? DEFAULT_OPTIONS)
                : [],
          ratePerStream: opts.ratePerStream ?? 20,
          rates: { ticker: opts.tickerRate ?? 10, kline: opts.klineRate ?? 1 },
          depthLevels: opts.depthLevels ?? 100,
          depthIntervalMs: 100,
          epochMs,
        },
        (topic, frame) => {
          const subs = subscribers.get(`${category}|${topic}`);
          if (subs !== undefined) for (const c of subs) c.pending.push(frame);
        },
      ),
    );
  }
  const feedOf = (category: BybitSimCategory): BybitFeed => feeds.get(category)!;

  // ---- sending -------------------------------------------------------------------------------

  const sendData = (conn: Conn, frames: string[]): void => server.sendData(conn, frames);
  const sendControl = (conn: Conn, body: Record<string, unknown>): void => server.sendControl(conn, JSON.stringify(body));

  // ---- subscriptions -------------------------------------------------------------------------

  /** Adds a subscription; a snapshot for the new subscriber (books, linear tickers) goes to `out`. */
  function subscribe(conn: Conn, topic: string, out: string[]): string | undefined {
    if (conn.topics.has(topic)) return `error:already subscribed,topic:${topic}`;
    const feed = feedOf(conn.category);
    const err = feed.subscribe(topic);
    if (err !== undefined) return err;
    conn.topics.add(topic);
    const key = `${conn.category}|${topic}`;
    let subs = subscribers.get(key);
    if (subs === undefined) {
      subs = new Set();
      subscribers.set(key, subs);
    }
    subs.add(conn);
    const snapshot = feed.snapshotFrame(topic);
    if (snapshot !== undefined) out.push(snapshot);
    return undefined;
  }

  function unsubscribe(conn: Conn, topic: string): void {
    if (!conn.topics.delete(topic)) return;
    feedOf(conn.category).unsubscribe(topic);
    subscribers.get(`${conn.category}|${topic}`)?.delete(conn);
  }

  function onRequest(conn: Conn, text: string): void {
    const parsed = readClientRequest(text);
    if (!parsed.ok && parsed.notJson) {
      sendControl(conn, { success: false, ret_msg: 'error:invalid json', conn_id: conn.connId, op: '' });
      return;
    }
    const req = parsed.ok ? parsed.body : {};
    const op = req.op;
    const reqId = req.req_id === undefined ? '' : String(req.req_id);
    if (op === 'ping') {
      pings++;
      sendControl(conn, { success: true, ret_msg: 'pong', conn_id: conn.connId, req_id: reqId, op: 'ping' });
      return;
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      sendControl(conn, { success: false, ret_msg: `error:unknown op ${String(op)}`, conn_id: conn.connId, req_id: reqId, op });
      return;
    }
    const args = req.args;
    const ack = (ok: boolean, retMsg: string) =>
      sendControl(conn, { success: ok, ret_msg: retMsg, conn_id: conn.connId, req_id: reqId, op });
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) {
      ack(false, 'error:args must be strings');
      return;
    }
    if (conn.category === 'spot' && args.length > maxSpotArgs) {
      ack(false, `error:args size >${maxSpotArgs}`);
      return;
    }
    if (op === 'unsubscribe') {
      for (const topic of args as string[]) unsubscribe(conn, topic);
      ack(true, conn.category === 'spot' ? 'unsubscribe' : '');
      return;
    }
    const errors: string[] = [];
    const snapshots: string[] = [];
    for (const topic of args as string[]) {
      const err = subscribe(conn, topic, snapshots);
      if (err !== undefined) errors.push(err);
    }
    ack(errors.length === 0, errors.length === 0 ? (conn.category === 'spot' ? 'subscribe' : '') : errors.join(';'));
    sendData(conn, snapshots);
  }

  // ---- scheduler -----------------------------------------------------------------------------

  function tick(): void {
    const t = now();
    for (const feed of feeds.values()) feed.advance(t);
    for (const conn of conns) {
      if (conn.pending.length === 0) continue;
      const frames = conn.pending;
      conn.pending = [];
      sendData(conn, frames);
    }
  }

  // ---- HTTP / WS -----------------------------------------------------------------------------

  for (const category of CATEGORIES) {
    server.ws(`/v5/public/${category}`, {
      accept: (_req, id) => ({ connId: `sim${id.toString(36)}-${category}`, category, topics: new Set(), pending: [] }),
      message: onRequest,
    });
  }
  server.app.get('/v5/market/time', (res) =>
    reply(res, '200 OK', `{"retCode":0,"retMsg":"OK","result":{"timeSecond":"${Math.floor(Date.now() / 1000)}"},"time":${Date.now()}}`),
  );
  server.app.any('/*', (res) => reply(res, '404 Not Found', '{"retCode":10001,"retMsg":"not found"}'));

  await server.listen();
  server.run(tickMs, tick);

  const categoriesOf = (category?: BybitSimCategory) => (category === undefined ? CATEGORIES : [category]);

  const faults: BybitSimulatorFaults = {
    ...server.faults((_conn, i) => `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":${i},"data":[{"T":`),
    skipSequence(symbol, category) {
      const found = categoriesOf(category).map((c) => feedOf(c).skipSequence(symbol));
      if (!found.includes(true)) throw new Error(`bybit simulator: no book topic for ${symbol}`);
    },
    restartBooks(symbol, category) {
      const found = categoriesOf(category).map((c) => feedOf(c).restartBooks(symbol));
      if (!found.includes(true)) throw new Error(`bybit simulator: no book topic for ${symbol}`);
    },
  };

  return {
    ...server.endpoints(),
    faults,
    book(symbol, category = 'spot', depth = 50) {
      return feedOf(category).book(symbol, depth);
    },
    stats() {
      let subscriptions = 0;
      const per: Record<BybitSimCategory, number> = { spot: 0, linear: 0, option: 0 };
      for (const c of conns) {
        subscriptions += c.topics.size;
        per[c.category]++;
      }
      return {
        ...server.stats(),
        spotConnections: per.spot,
        linearConnections: per.linear,
        optionConnections: per.option,
        subscriptions,
        pings,
      };
    },
    close: () => server.close(),
  };
}
