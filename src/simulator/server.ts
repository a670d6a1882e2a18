/**
 * The simulator server: one uWebSockets.js app serving Binance-spot WS streams and REST on the same
 * port, fed either by the synthetic market or by a recorded capture, with faults on demand.
 *
 * Pacing: one scheduler timer (`tickMs`, default 5 ms) advances the market to "now" (events carry
 * their own Poisson / fixed-cadence virtual times), sorts the produced payloads by event time and
 * hands each connection the frames of the streams it subscribed. A connection's frames of one tick
 * are written in small corked groups (1..`maxFramesPerWrite` frames per `ws.cork`, default 5), so a
 * client sees a few messages per socket read, as from a real venue. Every payload is serialised once
 * and the same string is sent to every subscriber, so overlapping connections get identical frames.
 */
import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from '@trufflesuite/uws-js-unofficial';
import uWS from '@trufflesuite/uws-js-unofficial';
import {
  binanceCaptureAdapter,
  type ControlTarget,
  depthLimit,
  frame,
  handleControl,
  MAX_STREAMS_PER_CONNECTION,
  malformedFrame,
  parseConnectUrl,
  parseStreamName,
  REST_ERRORS,
} from './binance.js';
import { exchangeInfo, type ListedMarket } from './binance-exchange-info.js';
import { type BookView, DEFAULT_SYMBOLS, SYMBOL_PATTERN, SyntheticMarket } from './market.js';
import { type RawFrame, type RawFrameOptions, sendRawFrames } from './raw-frames.js';
import { loadReplay, ReplayCursor, type ReplayOptions, type ReplaySource } from './replay.js';
import { mulberry32, randInt } from './rng.js';

export type { RawFrame, RawFrameOptions } from './raw-frames.js';
export type { ReplayOptions, ReplaySpeed } from './replay.js';

export interface SimulatorOptions {
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Port (0 = ephemeral, the default). */
  port?: number;
  /** PRNG seed of the synthetic market (default 1). */
  seed?: number;
  /** Symbols that exist from the start (default BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT, XRPUSDT, ADAUSDT). Others matching `[A-Z0-9]{2,}(USDT|BTC|ETH|EUR|USDC|BUSD)` are created on demand. */
  symbols?: string[];
  /** Poisson rate per symbol (events/s) of book changes, touch quotes and taker orders (default 20). */
  ratePerStream?: number;
  /** Per-type overrides; see `MarketOptions.rates` (ticker and kline default to 1/s as on Binance). */
  rates?: Partial<Record<'trade' | 'aggTrade' | 'bookTicker' | 'ticker' | 'depth' | 'kline', number>>;
  /** Book levels per side (default 100). */
  depthLevels?: number;
  /** Cadence of `@depth@100ms` (default 100). */
  depthIntervalMs?: number;
  /** Scheduler tick (default 5 ms). */
  tickMs?: number;
  /** Upper bound of frames per corked write (default 5; each write gets 1..max frames). */
  maxFramesPerWrite?: number;
  /** Server ping interval (default 20 000, as Binance; 0 disables). */
  pingIntervalMs?: number;
  /** Close a connection that has not answered a ping for this long (default 60 000; 0 disables). */
  pongTimeoutMs?: number;
  /** Close connections older than this with 1001 (default 24 h; 0 disables). */
  maxConnectionAgeMs?: number;
  /** A connection whose unsent backlog exceeds this is closed with 1008 (default 16 MiB). */
  maxBufferedBytes?: number;
  /** Serve a recorded capture instead of the synthetic market. */
  replay?: ReplayOptions;
  /**
   * Speak Binance USDⓈ-M futures instead of spot (synthetic market only): USD-M payloads (`pu`,
   * `T`, `@markPrice@1s`, see `MarketOptions.futures`) on the same `/stream` and `/ws` paths, and
   * REST under `/fapi/v1` (`depth`, `ping`, `time`) instead of `/api/v3`.
   */
  futures?: boolean;
  log?: (msg: string, fields?: object) => void;
}

export interface StallOptions {
  /** `buffer` (default): frames produced during the stall are delivered in one burst afterwards; `drop`: they are lost. */
  mode?: 'buffer' | 'drop';
}

export interface SimulatorFaults {
  /** Close every client connection with a close frame (default code 1001). */
  closeAll(code?: number, reason?: string): void;
  /** Drop every client connection abruptly (no close frame). */
  terminateAll(): void;
  /** Stop sending data frames for `ms` (sockets, acks and ping/pong keep working); `stall(0)` ends it. */
  stall(ms: number, opts?: StallOptions): void;
  /** Hide the next depth change of `symbol` from the diff streams so its `U` jumps ahead. */
  gap(symbol: string): void;
  /** Send `count` truncated JSON frames to every connection. */
  malformed(count?: number): void;
  /** Answer new WS upgrades with HTTP 503 while true. */
  rejectConnections(reject: boolean): void;
  /**
   * Send `frames` as they are to every client connection, now: any string (invalid JSON, empty,
   * megabytes long), bytes (`Uint8Array`/`Buffer`; with the default `text` opcode they go out as
   * a text frame unchecked, so invalid UTF-8 reaches the client), or, with `opcode: 'binary'` /
   * `'ping'`, binary or ping frames. Raw frames bypass the stall fault (a stalled feed can still
   * get them) and count in `framesSent` / `bytesSent` / `framesDropped`.
   */
  raw(frames: readonly RawFrame[], opts?: RawFrameOptions): void;
}

export interface SimulatorStats {
  connections: number;
  framesSent: number;
  subscriptions: number;
  bytesSent: number;
  framesDropped: number;
  upgradesRejected: number;
}

export interface Simulator {
  readonly port: number;
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly faults: SimulatorFaults;
  /** Current synthetic book of a symbol (sorted bids desc / asks asc). Throws in replay mode. */
  book(symbol: string): BookView;
  stats(): SimulatorStats;
  close(): Promise<void>;
}

interface Conn {
  id: number;
  ws: WebSocket<UserData> | undefined;
  alive: boolean;
  combined: boolean;
  subs: Set<string>;
  openedAt: number;
  nextPingAt: number;
  awaitingPongSince: number;
  stallQueue: string[];
  replay: ReplayCursor | undefined;
}

interface UserData {
  conn: Conn;
}

interface OutEntry {
  t: number;
  stream: string;
  data: string;
  combined: string | undefined;
}

const REPLAY_HIGH_WATER = 512 * 1024;

/** A replay's instrument list: the symbols of its recorded streams (and, as for subscriptions, the pattern). */
function replayListing(replay: ReplaySource): ListedMarket {
  const recorded = new Set<string>();
  for (const f of replay.frames) if (f.stream) recorded.add(f.stream.split('@')[0]!.toUpperCase());
  return {
    ensureSymbol: (symbol) => recorded.has(symbol) || SYMBOL_PATTERN.test(symbol),
    symbols: () => [...recorded],
  };
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const tickMs = opts.tickMs ?? 5;
  const maxPerWrite = Math.max(1, opts.maxFramesPerWrite ?? 5);
  const pingIntervalMs = opts.pingIntervalMs ?? 20_000;
  const pongTimeoutMs = opts.pongTimeoutMs ?? 60_000;
  const maxAgeMs = opts.maxConnectionAgeMs ?? 86_400_000;
  const maxBuffered = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const writeRng = mulberry32(((opts.seed ?? 1) ^ 0x9e3779b9) >>> 0);

  const conns = new Set<Conn>();
  /** Every socket between open and close handler (including ones already told to end). */
  const allSockets = new Set<WebSocket<UserData>>();
  const subscribers = new Map<string, number>();
  let nextConnId = 1;
  let outbox: OutEntry[] = [];
  let stallUntil = 0;
  let stallMode: 'buffer' | 'drop' = 'buffer';
  let rejecting = false;
  const counters = { framesSent: 0, bytesSent: 0, framesDropped: 0, upgradesRejected: 0 };

  const futures = opts.futures ?? false;
  if (futures && opts.replay) throw new Error('simulator: futures mode serves the synthetic market only (no replay)');
  const replay: ReplaySource | undefined = opts.replay ? loadReplay(opts.replay, binanceCaptureAdapter) : undefined;
  const market = replay
    ? undefined
    : new SyntheticMarket(
        {
          seed: opts.seed ?? 1,
          symbols: (opts.symbols ?? DEFAULT_SYMBOLS).map((s) => s.toUpperCase()),
          ratePerStream: opts.ratePerStream ?? 20,
          rates: opts.rates ?? {},
          depthLevels: opts.depthLevels ?? 100,
          depthIntervalMs: opts.depthIntervalMs ?? 100,
          epochMs: Date.now(),
          futures: opts.futures ?? false,
        },
        {
          wants: (stream) => (subscribers.get(stream) ?? 0) > 0,
          emit: (t, stream, data) => {
            outbox.push({ t, stream, data, combined: undefined });
          },
        },
      );

  // ---- subscriptions -------------------------------------------------------------------------

  /** Validate and canonicalise stream names; returns [streams] or an error message. */
  function resolveStreams(names: string[]): string[] | string {
    const out: string[] = [];
    for (const name of names) {
      const p = parseStreamName(name, futures);
      if (!p) return `invalid stream name '${name}'`;
      if (market) {
        if (!market.ensureSymbol(p.symbol)) return `unknown symbol in stream '${name}'`;
        if (p.kind === 'kline') market.ensureKline(p.symbol, p.interval!);
      } else if (!SYMBOL_PATTERN.test(p.symbol) && !replay?.frames.some((f) => f.stream === p.stream)) {
        return `unknown symbol in stream '${name}'`;
      }
      out.push(p.stream);
    }
    return out;
  }

  function addSubs(conn: Conn, streams: string[]): void {
    for (const s of streams) {
      if (conn.subs.has(s)) continue;
      conn.subs.add(s);
      subscribers.set(s, (subscribers.get(s) ?? 0) + 1);
    }
  }

  function removeSubs(conn: Conn, streams: Iterable<string>): void {
    for (const s of [...streams]) {
      if (!conn.subs.delete(s)) continue;
      const n = (subscribers.get(s) ?? 1) - 1;
      if (n <= 0) subscribers.delete(s);
      else subscribers.set(s, n);
    }
  }

  // ---- sending -------------------------------------------------------------------------------

  function dropConn(conn: Conn): void {
    if (!conn.alive) return;
    conn.alive = false;
    conns.delete(conn);
    removeSubs(conn, conn.subs);
    conn.stallQueue = [];
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

  /** Write frames in corked groups of 1..maxPerWrite frames. */
  function writeFrames(conn: Conn, frames: string[]): void {
    const ws = conn.ws;
    if (!ws || !conn.alive || frames.length === 0) return;
    let i = 0;
    while (i < frames.length && conn.alive) {
      const n = Math.min(frames.length - i, randInt(writeRng, 1, maxPerWrite));
      const start = i;
      i += n;
      ws.cork(() => {
        for (let k = start; k < start + n; k++) {
          const f = frames[k];
          const status = ws.send(f, false, false);
          if (status === 2) counters.framesDropped++;
          else {
            counters.framesSent++;
            counters.bytesSent += f.length;
          }
        }
      });
    }
    if (ws.getBufferedAmount() > maxBuffered) {
      log('closing slow consumer', { conn: conn.id, buffered: ws.getBufferedAmount() });
      endConn(conn, 1008, 'slow consumer');
    }
  }

  /** Data frames go through here so that the stall fault applies. */
  function sendData(conn: Conn, frames: string[]): void {
    if (frames.length === 0) return;
    if (stallUntil > 0) {
      if (stallMode === 'buffer') for (const f of frames) conn.stallQueue.push(f);
      else counters.framesDropped += frames.length;
      return;
    }
    writeFrames(conn, frames);
  }

  function sendControl(conn: Conn, text: string): void {
    if (!conn.alive || !conn.ws) return;
    conn.ws.send(text, false, false);
  }

  function deliverOutbox(): void {
    if (outbox.length === 0) return;
    const entries = outbox;
    outbox = [];
    entries.sort((a, b) => a.t - b.t);
    for (const conn of conns) {
      if (conn.subs.size === 0) continue;
      const frames: string[] = [];
      for (const e of entries) {
        if (!conn.subs.has(e.stream)) continue;
        if (conn.combined) {
          if (e.combined === undefined) e.combined = frame(e.stream, e.data, true);
          frames.push(e.combined);
        } else frames.push(e.data);
      }
      sendData(conn, frames);
    }
  }

  function pumpReplay(conn: Conn): void {
    const cur = conn.replay;
    const ws = conn.ws;
    if (!cur || cur.done || !ws || !conn.alive || stallUntil > 0 || !replay) return;
    const t = now();
    const max = replay.speed === 'max';
    let batch: string[] = [];
    let budget = max ? 50_000 : Number.POSITIVE_INFINITY;
    for (;;) {
      if (max && (batch.length >= 256 || budget <= 0)) {
        writeFrames(conn, batch);
        batch = [];
        if (!conn.alive || budget <= 0 || ws.getBufferedAmount() > REPLAY_HIGH_WATER) break;
      }
      const f = cur.next(t);
      if (!f) break;
      budget--;
      if (f.stream !== undefined && !conn.subs.has(f.stream)) continue;
      batch.push(f.stream !== undefined && !conn.combined ? f.data : f.payload);
    }
    writeFrames(conn, batch);
  }

  function startReplayIfReady(conn: Conn): void {
    if (!replay || conn.replay) return;
    if (replay.hasStreams && conn.subs.size === 0) return;
    conn.replay = new ReplayCursor(replay, now());
  }

  // ---- scheduler -----------------------------------------------------------------------------

  let lastHousekeeping = 0;
  function housekeeping(t: number): void {
    for (const conn of [...conns]) {
      const ws = conn.ws;
      if (!ws || !conn.alive) continue;
      if (maxAgeMs > 0 && t - conn.openedAt >= maxAgeMs) {
        log('closing connection at max age', { conn: conn.id });
        endConn(conn, 1001, 'max connection age');
        continue;
      }
      if (pongTimeoutMs > 0 && conn.awaitingPongSince > 0 && t - conn.awaitingPongSince >= pongTimeoutMs) {
        log('closing connection: pong timeout', { conn: conn.id });
        endConn(conn, 1008, 'pong timeout');
        continue;
      }
      if (pingIntervalMs > 0 && t >= conn.nextPingAt) {
        conn.nextPingAt = t + pingIntervalMs;
        if (conn.awaitingPongSince === 0) conn.awaitingPongSince = t;
        ws.ping();
      }
    }
  }

  function tick(): void {
    const t = now();
    if (stallUntil > 0 && t >= stallUntil) endStall();
    if (market) {
      market.advance(t);
      deliverOutbox();
    } else {
      for (const conn of conns) pumpReplay(conn);
    }
    if (t - lastHousekeeping >= 20) {
      lastHousekeeping = t;
      housekeeping(t);
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
      res.writeStatus(status).writeHeader('Content-Type', 'application/json;charset=UTF-8').end(body);
    });
  }

  const behavior: uWS.WebSocketBehavior<UserData> = {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    maxBackpressure: maxBuffered + 4 * 1024 * 1024,
    upgrade: (res: HttpResponse, req: HttpRequest, context) => {
      const path = req.getUrl();
      const query = req.getQuery() ?? '';
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (rejecting) {
        counters.upgradesRejected++;
        reply(res, '503 Service Unavailable', '{"code":-1008,"msg":"Service unavailable (simulated)."}');
        return;
      }
      const request = parseConnectUrl(path, query);
      const streams = resolveStreams(request.streams);
      if (typeof streams === 'string' || streams.length > MAX_STREAMS_PER_CONNECTION) {
        const msg = typeof streams === 'string' ? streams : 'too many streams';
        reply(res, '400 Bad Request', JSON.stringify({ code: -1100, msg }));
        return;
      }
      const conn: Conn = {
        id: nextConnId++,
        ws: undefined,
        alive: false,
        combined: request.combined,
        subs: new Set(),
        openedAt: 0,
        nextPingAt: 0,
        awaitingPongSince: 0,
        stallQueue: [],
        replay: undefined,
      };
      addSubs(conn, streams);
      res.upgrade<UserData>({ conn }, key, protocol, extensions, context);
    },
    open: (ws) => {
      const conn = ws.getUserData().conn;
      conn.ws = ws;
      conn.alive = true;
      allSockets.add(ws);
      conn.openedAt = now();
      conn.nextPingAt = conn.openedAt + pingIntervalMs;
      conns.add(conn);
      log('connection opened', { conn: conn.id, streams: [...conn.subs] });
      startReplayIfReady(conn);
    },
    message: (ws, message) => {
      const conn = ws.getUserData().conn;
      const text = Buffer.from(message).toString('utf8');
      const target: ControlTarget = {
        subscribe: (names) => {
          const streams = resolveStreams(names);
          if (typeof streams === 'string') return streams;
          if (new Set([...conn.subs, ...streams]).size > MAX_STREAMS_PER_CONNECTION) return 'too many streams';
          addSubs(conn, streams);
          return undefined;
        },
        unsubscribe: (names) => {
          const canon = names.map((n) => parseStreamName(n, futures)?.stream ?? n);
          removeSubs(conn, canon);
        },
        list: () => [...conn.subs],
        get combined() {
          return conn.combined;
        },
        set combined(v: boolean) {
          conn.combined = v;
        },
      };
      sendControl(conn, handleControl(text, target));
      startReplayIfReady(conn);
    },
    drain: (ws) => {
      const conn = ws.getUserData().conn;
      if (conn.replay) pumpReplay(conn);
    },
    pong: (ws) => {
      ws.getUserData().conn.awaitingPongSince = 0;
    },
    close: (ws, code) => {
      allSockets.delete(ws);
      const conn = ws.getUserData().conn;
      if (conn.alive) log('connection closed', { conn: conn.id, code });
      dropConn(conn);
      conn.ws = undefined;
    },
  };
  app.ws('/stream', behavior);
  app.ws('/ws', behavior);
  app.ws('/ws/*', behavior);

  const restBase = futures ? '/fapi/v1' : '/api/v3';
  app.get(`${restBase}/ping`, (res) => reply(res, '200 OK', '{}'));
  app.get(`${restBase}/time`, (res) => reply(res, '200 OK', `{"serverTime":${Date.now()}}`));
  app.get(`${restBase}/depth`, (res, req) => {
    const symbol = req.getQuery('symbol') ?? '';
    const limit = depthLimit(req.getQuery('limit') ?? undefined);
    if (symbol === '') return reply(res, '400 Bad Request', REST_ERRORS.missingSymbol);
    if (limit === undefined) return reply(res, '400 Bad Request', REST_ERRORS.badLimit);
    if (replay) {
      const body = replay.restBody('/api/v3/depth', symbol, limit);
      return body === undefined ? reply(res, '400 Bad Request', REST_ERRORS.invalidSymbol) : reply(res, '200 OK', body);
    }
    // Binance symbols are upper case; a lower-case symbol is an invalid symbol there too.
    if (symbol !== symbol.toUpperCase() || !market!.ensureSymbol(symbol)) {
      return reply(res, '400 Bad Request', REST_ERRORS.invalidSymbol);
    }
    reply(res, '200 OK', market!.snapshotJson(symbol, limit));
  });
  const listing: ListedMarket = market ?? replayListing(replay!);
  app.get(`${restBase}/exchangeInfo`, (res, req) => {
    const answer = exchangeInfo(listing, futures, {
      symbol: req.getQuery('symbol') ?? undefined,
      symbols: req.getQuery('symbols') ?? undefined,
    });
    reply(res, answer.status, answer.body);
  });
  app.any('/*', (res, req) => {
    if (replay && req.getMethod() === 'get') {
      const body = replay.restBody(req.getUrl(), req.getQuery('symbol') ?? undefined);
      if (body !== undefined) return reply(res, '200 OK', body);
    }
    reply(res, '404 Not Found', REST_ERRORS.notFound);
  });

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(host, opts.port ?? 0, (s) => {
      if (s) resolve(s);
      else reject(new Error(`simulator: cannot listen on ${host}:${opts.port ?? 0}`));
    });
  });
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  const timer = setInterval(tick, tickMs);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log('simulator listening', { host, port, mode: replay ? 'replay' : 'synthetic' });

  let closed: Promise<void> | undefined;

  const faults: SimulatorFaults = {
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
    gap(symbol) {
      if (!market) throw new Error('gap() needs the synthetic market');
      if (!market.injectGap(symbol)) throw new Error(`unknown symbol ${symbol}`);
    },
    malformed(count = 1) {
      for (const conn of conns) {
        const stream = conn.subs.values().next().value ?? 'btcusdt@trade';
        const frames: string[] = [];
        for (let i = 0; i < count; i++) frames.push(malformedFrame(stream, conn.combined, i));
        writeFrames(conn, frames);
      }
    },
    rejectConnections(reject) {
      rejecting = reject;
    },
    raw(frames, rawOpts) {
      for (const conn of conns) {
        if (!conn.ws) continue;
        const sent = sendRawFrames(conn.ws, frames, rawOpts);
        counters.framesSent += sent.frames;
        counters.bytesSent += sent.bytes;
        counters.framesDropped += sent.dropped;
      }
    },
  };

  return {
    port,
    wsUrl: `ws://${urlHost}:${port}`,
    restUrl: `http://${urlHost}:${port}`,
    faults,
    book(symbol) {
      if (!market) throw new Error('book() is not available in replay mode');
      return market.book(symbol);
    },
    stats() {
      let subscriptions = 0;
      for (const c of conns) subscriptions += c.subs.size;
      return { connections: conns.size, subscriptions, ...counters };
    },
    close() {
      if (closed) return closed;
      closed = (async () => {
        clearInterval(timer);
        uWS.us_listen_socket_close(listenSocket);
        faults.closeAll(1001, 'simulator shutting down');
        // Give clients a moment to answer the close handshake, then cut what is left.
        const deadline = Date.now() + 500;
        while (Date.now() < deadline && allSockets.size > 0) {
          await new Promise((r) => setTimeout(r, 10));
        }
        for (const ws of [...allSockets]) {
          try {
            ws.close();
          } catch {
            // already closed
          }
        }
        log('simulator closed', { port });
      })();
      return closed;
    },
  };
}
