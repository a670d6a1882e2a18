/**
 * Bybit v5 public simulator: one uWebSockets.js app serving `/v5/public/spot` and
 * `/v5/public/linear` (each its own synthetic market, see `bybit-feed.ts`), with `op: subscribe`
 * / `unsubscribe` acks (`success`, `ret_msg`, `conn_id`, `req_id`), app-level ping/pong, and faults
 * on demand. Paced like the Binance simulator: a scheduler tick advances both markets and each
 * connection gets its frames in small corked groups.
 */
import { performance } from 'node:perf_hooks';
import type { HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from '@trufflesuite/uws-js-unofficial';
import uWS from '@trufflesuite/uws-js-unofficial';
import { BybitFeed, type BybitSimCategory } from './bybit-feed.js';
import type { BookView } from './market.js';
import { DEFAULT_SYMBOLS } from './market.js';
import { mulberry32, randInt } from './rng.js';
import type { SimulatorStats, StallOptions } from './server.js';

export type { BybitSimCategory } from './bybit-feed.js';

export interface BybitSimulatorOptions {
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Port (0 = ephemeral, the default). */
  port?: number;
  /** PRNG seed (default 1); the linear market uses a derived seed so its prices differ. */
  seed?: number;
  /** Symbols that exist from the start in both categories (default as the Binance simulator). */
  symbols?: string[];
  /** Poisson rate per symbol (events/s) of book changes, touch quotes and taker orders (default 20). */
  ratePerStream?: number;
  /** Ticker pushes per second per symbol (default 10) and kline pushes per second (default 1). */
  tickerRate?: number;
  klineRate?: number;
  /** Book levels per side in the market (default 100). */
  depthLevels?: number;
  /** Scheduler tick (default 5 ms). */
  tickMs?: number;
  /** Upper bound of frames per corked write (default 5). */
  maxFramesPerWrite?: number;
  /** Max args per subscribe request on spot (default 10, as Bybit). */
  maxSpotArgs?: number;
  log?: (msg: string, fields?: object) => void;
}

export interface BybitSimulatorFaults {
  /** Close every client connection with a close frame (default code 1001). */
  closeAll(code?: number, reason?: string): void;
  /** Drop every client connection abruptly (no close frame). */
  terminateAll(): void;
  /** Stop sending data frames for `ms` (acks and pongs keep flowing); `stall(0)` ends it. */
  stall(ms: number, opts?: StallOptions): void;
  /** Send `count` truncated JSON frames to every connection. */
  malformed(count?: number): void;
  /** Lose the next book delta of `symbol` (native, e.g. BTCUSDT) in one or both categories. */
  skipSequence(symbol: string, category?: BybitSimCategory): void;
  /** Next book push of `symbol` is a `u = 1` snapshot, as after a Bybit service restart. */
  restartBooks(symbol: string, category?: BybitSimCategory): void;
  /** Answer new WS upgrades with HTTP 503 while true. */
  rejectConnections(reject: boolean): void;
}

export interface BybitSimulatorStats extends SimulatorStats {
  /** App-level pings answered. */
  pings: number;
  spotConnections: number;
  linearConnections: number;
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

interface Conn {
  readonly id: number;
  readonly connId: string;
  readonly category: BybitSimCategory;
  ws: WebSocket<UserData> | undefined;
  alive: boolean;
  readonly topics: Set<string>;
  /** Data frames gathered during a tick, written at its end. */
  pending: string[];
  stallQueue: string[];
}

interface UserData {
  conn: Conn;
}

const CATEGORIES: readonly BybitSimCategory[] = ['spot', 'linear'];

export async function startBybitSimulator(opts: BybitSimulatorOptions = {}): Promise<BybitSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const tickMs = opts.tickMs ?? 5;
  const maxPerWrite = Math.max(1, opts.maxFramesPerWrite ?? 5);
  const maxSpotArgs = opts.maxSpotArgs ?? 10;
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 1;
  const writeRng = mulberry32((seed ^ 0x85ebca6b) >>> 0);
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const epochMs = Date.now();

  const conns = new Set<Conn>();
  const allSockets = new Set<WebSocket<UserData>>();
  /** Subscribers per category and topic. */
  const subscribers = new Map<string, Set<Conn>>();
  let nextConnId = 1;
  let stallUntil = 0;
  let stallMode: 'buffer' | 'drop' = 'buffer';
  let rejecting = false;
  const counters = { framesSent: 0, bytesSent: 0, framesDropped: 0, upgradesRejected: 0, pings: 0 };

  const feeds = new Map<BybitSimCategory, BybitFeed>();
  for (const category of CATEGORIES) {
    feeds.set(
      category,
      new BybitFeed(
        {
          category,
          seed: category === 'spot' ? seed : (seed * 31 + 7) >>> 0,
          symbols: (opts.symbols ?? DEFAULT_SYMBOLS).map((s) => s.toUpperCase()),
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

  function writeFrames(conn: Conn, frames: string[]): void {
    const ws = conn.ws;
    if (!ws || !conn.alive || frames.length === 0) return;
    let i = 0;
    while (i < frames.length) {
      const n = Math.min(frames.length - i, randInt(writeRng, 1, maxPerWrite));
      const start = i;
      i += n;
      ws.cork(() => {
        for (let k = start; k < start + n; k++) {
          const status = ws.send(frames[k], false, false);
          if (status === 2) counters.framesDropped++;
          else {
            counters.framesSent++;
            counters.bytesSent += frames[k].length;
          }
        }
      });
    }
  }

  /** Data frames go through here so that the stall fault applies. */
  function sendData(conn: Conn, frames: string[]): void {
    if (frames.length === 0) return;
    if (stallUntil > 0) {
      if (stallMode === 'buffer') conn.stallQueue.push(...frames);
      else counters.framesDropped += frames.length;
      return;
    }
    writeFrames(conn, frames);
  }

  function sendControl(conn: Conn, body: Record<string, unknown>): void {
    if (!conn.alive || !conn.ws) return;
    conn.ws.send(JSON.stringify(body), false, false);
  }

  function dropConn(conn: Conn): void {
    if (!conn.alive) return;
    conn.alive = false;
    conns.delete(conn);
    for (const topic of conn.topics) unsubscribe(conn, topic);
    conn.stallQueue = [];
    conn.pending = [];
  }

  function endConn(conn: Conn, code: number, reason: string): void {
    const ws = conn.ws;
    if (!conn.alive || !ws) return;
    dropConn(conn);
    try {
      ws.end(code, reason);
    } catch {
      // already closed
    }
  }

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
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      sendControl(conn, { success: false, ret_msg: 'error:invalid json', conn_id: conn.connId, op: '' });
      return;
    }
    const req = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    const op = req.op;
    const reqId = req.req_id === undefined ? '' : String(req.req_id);
    if (op === 'ping') {
      counters.pings++;
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
    if (stallUntil > 0 && t >= stallUntil) endStall();
    for (const feed of feeds.values()) feed.advance(t);
    for (const conn of conns) {
      if (conn.pending.length === 0) continue;
      const frames = conn.pending;
      conn.pending = [];
      sendData(conn, frames);
    }
  }

  function endStall(): void {
    stallUntil = 0;
    for (const conn of conns) {
      const q = conn.stallQueue;
      conn.stallQueue = [];
      writeFrames(conn, q);
    }
  }

  // ---- HTTP / WS -----------------------------------------------------------------------------

  const app: TemplatedApp = uWS.App();

  function reply(res: HttpResponse, status: string, body: string): void {
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(body);
    });
  }

  function behavior(category: BybitSimCategory): uWS.WebSocketBehavior<UserData> {
    return {
      compression: uWS.DISABLED,
      maxPayloadLength: 64 * 1024,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      upgrade: (res, req, context) => {
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        if (rejecting) {
          counters.upgradesRejected++;
          reply(res, '503 Service Unavailable', '{"retCode":10006,"retMsg":"Service unavailable (simulated)"}');
          return;
        }
        const id = nextConnId++;
        const conn: Conn = {
          id,
          connId: `sim${id.toString(36)}-${category}`,
          category,
          ws: undefined,
          alive: false,
          topics: new Set(),
          pending: [],
          stallQueue: [],
        };
        res.upgrade<UserData>({ conn }, key, protocol, extensions, context);
      },
      open: (ws) => {
        const conn = ws.getUserData().conn;
        conn.ws = ws;
        conn.alive = true;
        allSockets.add(ws);
        conns.add(conn);
        log('bybit connection opened', { conn: conn.id, category });
      },
      message: (ws, message) => {
        const conn = ws.getUserData().conn;
        if (conn.alive) onRequest(conn, Buffer.from(message).toString('utf8'));
      },
      close: (ws, code) => {
        allSockets.delete(ws);
        const conn = ws.getUserData().conn;
        if (conn.alive) log('bybit connection closed', { conn: conn.id, code });
        dropConn(conn);
        conn.ws = undefined;
      },
    };
  }
  for (const category of CATEGORIES) app.ws(`/v5/public/${category}`, behavior(category));
  app.get('/v5/market/time', (res) =>
    reply(res, '200 OK', `{"retCode":0,"retMsg":"OK","result":{"timeSecond":"${Math.floor(Date.now() / 1000)}"},"time":${Date.now()}}`),
  );
  app.any('/*', (res) => reply(res, '404 Not Found', '{"retCode":10001,"retMsg":"not found"}'));

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(host, opts.port ?? 0, (s) => {
      if (s) resolve(s);
      else reject(new Error(`bybit simulator: cannot listen on ${host}:${opts.port ?? 0}`));
    });
  });
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  const timer = setInterval(tick, tickMs);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log('bybit simulator listening', { host, port });

  const categoriesOf = (category?: BybitSimCategory) => (category === undefined ? CATEGORIES : [category]);

  const faults: BybitSimulatorFaults = {
    closeAll(code = 1001, reason = 'simulated close') {
      for (const conn of [...conns]) endConn(conn, code, reason);
    },
    terminateAll() {
      for (const conn of [...conns]) {
        const ws = conn.ws;
        dropConn(conn);
        try {
          ws?.close();
        } catch {
          // already closed
        }
      }
    },
    stall(ms, stallOpts = {}) {
      if (ms <= 0) {
        if (stallUntil > 0) endStall();
        return;
      }
      stallMode = stallOpts.mode ?? 'buffer';
      stallUntil = now() + ms;
    },
    malformed(count = 1) {
      for (const conn of conns) {
        const frames: string[] = [];
        for (let i = 0; i < count; i++) frames.push(`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":${i},"data":[{"T":`);
        writeFrames(conn, frames);
      }
    },
    skipSequence(symbol, category) {
      const found = categoriesOf(category).map((c) => feedOf(c).skipSequence(symbol));
      if (!found.includes(true)) throw new Error(`bybit simulator: no book topic for ${symbol}`);
    },
    restartBooks(symbol, category) {
      const found = categoriesOf(category).map((c) => feedOf(c).restartBooks(symbol));
      if (!found.includes(true)) throw new Error(`bybit simulator: no book topic for ${symbol}`);
    },
    rejectConnections(reject) {
      rejecting = reject;
    },
  };

  let closed: Promise<void> | undefined;

  return {
    port,
    wsUrl: `ws://${urlHost}:${port}`,
    restUrl: `http://${urlHost}:${port}`,
    faults,
    book(symbol, category = 'spot', depth = 50) {
      return feedOf(category).book(symbol, depth);
    },
    stats() {
      let subscriptions = 0;
      let spot = 0;
      for (const c of conns) {
        subscriptions += c.topics.size;
        if (c.category === 'spot') spot++;
      }
      return {
        connections: conns.size,
        spotConnections: spot,
        linearConnections: conns.size - spot,
        subscriptions,
        ...counters,
      };
    },
    close() {
      if (closed) return closed;
      closed = (async () => {
        clearInterval(timer);
        uWS.us_listen_socket_close(listenSocket);
        faults.closeAll(1001, 'simulator shutting down');
        const deadline = Date.now() + 500;
        while (Date.now() < deadline && allSockets.size > 0) await new Promise((r) => setTimeout(r, 10));
        for (const ws of [...allSockets]) {
          try {
            ws.close();
          } catch {
            // already closed
          }
        }
        log('bybit simulator closed', { port });
      })();
      return closed;
    },
  };
}
