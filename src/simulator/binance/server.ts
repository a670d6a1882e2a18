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
import type { HttpRequest, HttpResponse } from '@trufflesuite/uws-js-unofficial';
import { loadReplay, ReplayCursor, type ReplayOptions, type ReplaySource } from '../kit/replay.js';
import { type CommonFaults, type CommonSimulatorOptions, commonOptions, type Peer, Refusal, reply, type SimulatorStats, VenueServer } from '../kit/venue-server.js';
import { exchangeInfo, type ListedMarket } from './exchange-info.js';
import { type BookView, DEFAULT_SYMBOLS, SYMBOL_PATTERN, SyntheticMarket } from './market.js';
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
} from './protocol.js';

export type { RawFrame, RawFrameOptions } from '../kit/raw-frames.js';
export type { ReplayOptions, ReplaySpeed } from '../kit/replay.js';
export type { CommonFaults, SimulatorStats, StallOptions } from '../kit/venue-server.js';

export interface SimulatorOptions extends CommonSimulatorOptions {
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
  /** Server ping interval (default 20 000, as Binance; 0 disables). */
  pingIntervalMs?: number;
  /** Close a connection that has not answered a ping for this long (default 60 000; 0 disables). */
  pongTimeoutMs?: number;
  /** Close connections older than this with 1001 (default 24 h; 0 disables). */
  maxConnectionAgeMs?: number;
  /**
   * Close a connection sent more than this many messages (text and ping frames) in a second with
   * 1008, as Binance does (default: spot 5, futures 10; 0 disables).
   */
  maxClientMessagesPerSec?: number;
  /** Serve a recorded capture instead of the synthetic market. */
  replay?: ReplayOptions;
  /**
   * Speak Binance USDⓈ-M futures instead of spot (synthetic market only): USD-M payloads (`pu`,
   * `T`, `@markPrice@1s`, see `MarketOptions.futures`) on the same `/stream` and `/ws` paths, and
   * REST under `/fapi/v1` (`depth`, `ping`, `time`) instead of `/api/v3`.
   */
  futures?: boolean;
}

export interface SimulatorFaults extends CommonFaults {
  /** Hide the next depth change of `symbol` from the diff streams so its `U` jumps ahead. */
  gap(symbol: string): void;
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

interface BinanceConn {
  combined: boolean;
  /** Streams named in the connect URL, subscribed on open. */
  requested: readonly string[];
  subs: Set<string>;
  replay: ReplayCursor | undefined;
}

type Conn = Peer<BinanceConn>;

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
  const tickMs = opts.tickMs ?? 5;
  const server: VenueServer<BinanceConn> = new VenueServer<BinanceConn>({
    name: 'simulator',
    ...commonOptions(opts),
    writeSeed: (opts.seed ?? 1) ^ 0x9e3779b9,
    pingIntervalMs: opts.pingIntervalMs ?? 20_000,
    pongTimeoutMs: opts.pongTimeoutMs ?? 60_000,
    maxConnectionAgeMs: opts.maxConnectionAgeMs ?? 86_400_000,
    maxClientMessagesPerSec: opts.maxClientMessagesPerSec ?? (opts.futures ? 10 : 5),
    unavailableBody: '{"code":-1008,"msg":"Service unavailable (simulated)."}',
    onDrop: (conn) => removeSubs(conn, conn.subs),
  });
  const conns = server.peers;
  const now = (): number => server.now();
  const subscribers = new Map<string, number>();
  let outbox: OutEntry[] = [];

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

  function addSubs(conn: Conn, streams: readonly string[]): void {
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

  const sendData = (conn: Conn, frames: string[]): void => server.sendData(conn, frames);

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
    if (!cur || cur.done || !ws || !conn.alive || server.stalled || !replay) return;
    const t = now();
    const max = replay.speed === 'max';
    let batch: string[] = [];
    let budget = max ? 50_000 : Number.POSITIVE_INFINITY;
    for (;;) {
      if (max && (batch.length >= 256 || budget <= 0)) {
        server.write(conn, batch);
        batch = [];
        if (!conn.alive || budget <= 0 || ws.getBufferedAmount() > REPLAY_HIGH_WATER) break;
      }
      const f = cur.next(t);
      if (!f) break;
      budget--;
      if (f.stream !== undefined && !conn.subs.has(f.stream)) continue;
      batch.push(f.stream !== undefined && !conn.combined ? f.data : f.payload);
    }
    server.write(conn, batch);
  }

  function startReplayIfReady(conn: Conn): void {
    if (!replay || conn.replay) return;
    if (replay.hasStreams && conn.subs.size === 0) return;
    conn.replay = new ReplayCursor(replay, now());
  }

  // ---- scheduler -----------------------------------------------------------------------------

  function tick(): void {
    if (market) {
      market.advance(now());
      deliverOutbox();
    } else {
      for (const conn of conns) pumpReplay(conn);
    }
  }

  // ---- HTTP / WS -----------------------------------------------------------------------------

  const route = {
    accept: (req: HttpRequest): BinanceConn | Refusal => {
      const request = parseConnectUrl(req.getUrl(), req.getQuery() ?? '');
      const streams = resolveStreams(request.streams);
      if (typeof streams === 'string' || streams.length > MAX_STREAMS_PER_CONNECTION) {
        const msg = typeof streams === 'string' ? streams : 'too many streams';
        return new Refusal('400 Bad Request', JSON.stringify({ code: -1100, msg }));
      }
      return { combined: request.combined, requested: streams, subs: new Set<string>(), replay: undefined };
    },
    open: (conn: Conn) => {
      addSubs(conn, conn.requested);
      server.log('connection streams', { conn: conn.id, streams: [...conn.subs] });
      startReplayIfReady(conn);
    },
    message: (conn: Conn, text: string) => {
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
      server.sendControl(conn, handleControl(text, target));
      startReplayIfReady(conn);
    },
    drain: (conn: Conn) => {
      if (conn.replay) pumpReplay(conn);
    },
  };
  for (const path of ['/stream', '/ws', '/ws/*']) server.ws(path, route);
  const app = server.app;
  const json = (res: HttpResponse, status: string, body: string): void => reply(res, status, body, 'application/json;charset=UTF-8');

  const restBase = futures ? '/fapi/v1' : '/api/v3';
  app.get(`${restBase}/ping`, (res) => json(res, '200 OK', '{}'));
  app.get(`${restBase}/time`, (res) => json(res, '200 OK', `{"serverTime":${Date.now()}}`));
  app.get(`${restBase}/depth`, (res, req) => {
    const symbol = req.getQuery('symbol') ?? '';
    const limit = depthLimit(req.getQuery('limit') ?? undefined);
    if (symbol === '') return json(res, '400 Bad Request', REST_ERRORS.missingSymbol);
    if (limit === undefined) return json(res, '400 Bad Request', REST_ERRORS.badLimit);
    if (replay) {
      const body = replay.restBody('/api/v3/depth', symbol, limit);
      return body === undefined ? json(res, '400 Bad Request', REST_ERRORS.invalidSymbol) : json(res, '200 OK', body);
    }
    // Binance symbols are upper case; a lower-case symbol is an invalid symbol there too.
    if (symbol !== symbol.toUpperCase() || !market!.ensureSymbol(symbol)) {
      return json(res, '400 Bad Request', REST_ERRORS.invalidSymbol);
    }
    json(res, '200 OK', market!.snapshotJson(symbol, limit));
  });
  const listing: ListedMarket = market ?? replayListing(replay!);
  app.get(`${restBase}/exchangeInfo`, (res, req) => {
    const answer = exchangeInfo(listing, futures, {
      symbol: req.getQuery('symbol') ?? undefined,
      symbols: req.getQuery('symbols') ?? undefined,
    });
    json(res, answer.status, answer.body);
  });
  app.any('/*', (res, req) => {
    if (replay && req.getMethod() === 'get') {
      const body = replay.restBody(req.getUrl(), req.getQuery('symbol') ?? undefined);
      if (body !== undefined) return json(res, '200 OK', body);
    }
    json(res, '404 Not Found', REST_ERRORS.notFound);
  });

  await server.listen();
  server.run(tickMs, tick);

  const faults: SimulatorFaults = {
    ...server.faults((conn, i) => malformedFrame(conn.subs.values().next().value ?? 'btcusdt@trade', conn.combined, i)),
    gap(symbol) {
      if (!market) throw new Error('gap() needs the synthetic market');
      if (!market.injectGap(symbol)) throw new Error(`unknown symbol ${symbol}`);
    },
  };

  return {
    ...server.endpoints(),
    faults,
    book(symbol) {
      if (!market) throw new Error('book() is not available in replay mode');
      return market.book(symbol);
    },
    stats() {
      let subscriptions = 0;
      for (const c of conns) subscriptions += c.subs.size;
      return { ...server.stats(), subscriptions };
    },
    close: () => server.close(),
  };
}
