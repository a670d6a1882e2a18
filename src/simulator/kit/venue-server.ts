/**
 * The venue-server base every uWS simulator runs on: the app on one host:port, the connection
 * registry, the write path, the stall fault, the faults every venue has, the counters, the
 * server-side ping/pong/age timers and shutdown. A venue file adds only its grammar: URL paths,
 * the subscribe/ack protocol, its frames, its REST routes and its own faults.
 *
 * Invariants:
 * - The port is listened on exclusively: a second server on a taken port fails with an Error
 *   naming host:port (it never shares the port through SO_REUSEPORT).
 * - A peer is in `peers` exactly while it is `alive`: from the socket's open until the server
 *   ends it (`end`, `terminateAll`, backlog cap, timers) or the client closes it. `onDrop` runs
 *   once per peer, when it leaves `peers`; nothing is written to a peer after that.
 * - Data frames (`sendData`) obey the stall fault: buffered per peer and written in one burst when
 *   the stall ends (`buffer`), or counted as dropped (`drop`). Control frames (`sendControl`),
 *   `write` and `raw` bypass it.
 * - `write` sends a peer's frames in corked groups of 1..`maxFramesPerWrite` frames (one group
 *   when that is `Infinity`), so a client sees a few messages per socket read; a peer whose unsent
 *   backlog then exceeds `maxBufferedBytes` is closed with 1008.
 * - Every frame written by `write` and `raw` counts once: in `framesSent`/`bytesSent`, or in
 *   `framesDropped` when uWS refuses it. `sendControl` frames are not counted.
 * - `close()` is idempotent: it stops the tick, closes the listen socket, sends every peer a close
 *   frame (1001), waits up to 500 ms for the handshakes, then cuts what is left.
 */
import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from '@trufflesuite/uws-js-unofficial';
import uWS from '@trufflesuite/uws-js-unofficial';
import { type RawFrame, type RawFrameOptions, sendRawFrames } from './raw-frames.js';
import { mulberry32, randInt } from './rng.js';

export interface StallOptions {
  /** `buffer` (default): frames produced during the stall are delivered in one burst afterwards; `drop`: they are lost. */
  mode?: 'buffer' | 'drop';
}

/** The faults every venue simulator has. */
export interface CommonFaults {
  /** Close every client connection with a close frame (default code 1001). */
  closeAll(code?: number, reason?: string): void;
  /** Drop every client connection abruptly (no close frame). */
  terminateAll(): void;
  /** Stop sending data frames for `ms` (sockets, acks and ping/pong keep working); `stall(0)` ends it. */
  stall(ms: number, opts?: StallOptions): void;
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

/** The counters every venue simulator reports. */
export interface BaseStats {
  connections: number;
  framesSent: number;
  bytesSent: number;
  framesDropped: number;
  upgradesRejected: number;
  /** Connections closed for sending more than `maxClientMessagesPerSec`. */
  closedForMessageRate: number;
}

export interface SimulatorStats extends BaseStats {
  subscriptions: number;
}

/** What the base keeps per connection; a venue's own per-connection state is merged in (`Peer<V>`). */
export interface PeerBase<V> {
  readonly id: number;
  ws: WebSocket<{ peer: Peer<V> }> | undefined;
  alive: boolean;
  stallQueue: string[];
  openedAt: number;
  nextPingAt: number;
  awaitingPongSince: number;
  /** Start of the current one-second window of client messages, and the messages in it. */
  msgWindowAt: number;
  msgsInWindow: number;
}

export type Peer<V> = PeerBase<V> & V;

/** An upgrade the venue refuses, with its HTTP answer. */
export class Refusal {
  constructor(
    readonly status: string,
    readonly body: string,
  ) {}
}

/** One WebSocket path of a venue. */
export interface VenueRoute<V> {
  /** The venue's state of a new connection, or a refusal (read `req` here: it is gone afterwards). */
  accept(req: HttpRequest, id: number): V | Refusal;
  open?(peer: Peer<V>): void;
  /** A text message of a live peer. */
  message(peer: Peer<V>, text: string): void;
  drain?(peer: Peer<V>): void;
}

/** The options every venue simulator takes (its own options extend these). */
export interface CommonSimulatorOptions {
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Port (0 = ephemeral, the default); a taken port is refused. */
  port?: number;
  /** Upper bound of frames per corked write (default 5; each write gets 1..max frames). */
  maxFramesPerWrite?: number;
  /** A connection whose unsent backlog exceeds this is closed with 1008 (default 16 MiB). */
  maxBufferedBytes?: number;
  log?: (msg: string, fields?: object) => void;
}

/** The base's share of a venue simulator's options. */
export function commonOptions(o: CommonSimulatorOptions): CommonSimulatorOptions {
  return { host: o.host, port: o.port, maxFramesPerWrite: o.maxFramesPerWrite, maxBufferedBytes: o.maxBufferedBytes, log: o.log };
}

export interface VenueServerOptions<V> extends CommonSimulatorOptions {
  /** Names the server in errors and logs (`okx simulator`). */
  name: string;
  /** Seed of the write-group sizes. */
  writeSeed: number;
  /** Server ping interval (default 0 = none). */
  pingIntervalMs?: number;
  /** Close a connection that has not answered a ping for this long with 1008 (default 0 = never). */
  pongTimeoutMs?: number;
  /** Close connections older than this with 1001 (default 0 = never). */
  maxConnectionAgeMs?: number;
  /**
   * Close a connection that sends more than this many messages (text and ping frames) within one
   * second, with 1008 "Too many requests", as Binance does (default 0 = no limit).
   */
  maxClientMessagesPerSec?: number;
  /** Body of the HTTP 503 answered while `rejectConnections(true)`. */
  unavailableBody: string;
  /** The venue's cleanup when a peer leaves the registry (subscriptions, pending frames). */
  onDrop?(peer: Peer<V>): void;
}

const LISTEN_EXCLUSIVE_PORT: number = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT?: number }).LIBUS_LISTEN_EXCLUSIVE_PORT ?? 1;
type ListenWithOptions = (host: string, port: number, options: number, cb: (s: us_listen_socket | false) => void) => void;
const HOUSEKEEPING_MS = 20;

export class VenueServer<V> {
  readonly app: TemplatedApp = uWS.App();
  /** Live connections, in open order. */
  readonly peers = new Set<Peer<V>>();
  readonly counters = { framesSent: 0, bytesSent: 0, framesDropped: 0, upgradesRejected: 0, closedForMessageRate: 0 };
  readonly log: (msg: string, fields?: object) => void;
  readonly host: string;
  port = 0;
  /** Every socket between open and close handler (including ones already told to end). */
  private readonly sockets = new Set<WebSocket<{ peer: Peer<V> }>>();
  private readonly writeRng;
  private readonly maxPerWrite: number;
  private readonly maxBuffered: number;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly t0 = performance.now();
  private nextId = 1;
  private stallUntil = 0;
  private stallMode: 'buffer' | 'drop' = 'buffer';
  private rejecting = false;
  private listenSocket: us_listen_socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastHousekeeping = 0;
  private closed: Promise<void> | undefined;

  constructor(private readonly opts: VenueServerOptions<V>) {
    this.host = opts.host ?? '127.0.0.1';
    this.log = opts.log ?? (() => {});
    this.writeRng = mulberry32(opts.writeSeed >>> 0);
    this.maxPerWrite = Math.max(1, opts.maxFramesPerWrite ?? 5);
    this.maxBuffered = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.pingIntervalMs = opts.pingIntervalMs ?? 0;
    this.pongTimeoutMs = opts.pongTimeoutMs ?? 0;
    this.maxAgeMs = opts.maxConnectionAgeMs ?? 0;
  }

  /** Milliseconds since the server was created (the clock of the stall and the timers). */
  now(): number {
    return performance.now() - this.t0;
  }

  get stalled(): boolean {
    return this.stallUntil > 0;
  }

  // ---- routes ----------------------------------------------------------------------------------

  ws(path: string, route: VenueRoute<V>): void {
    this.app.ws<{ peer: Peer<V> }>(path, {
      compression: uWS.DISABLED,
      maxPayloadLength: 64 * 1024,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      maxBackpressure: this.maxBuffered + 4 * 1024 * 1024,
      upgrade: (res, req, context) => {
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        if (this.rejecting) {
          this.counters.upgradesRejected++;
          reply(res, '503 Service Unavailable', this.opts.unavailableBody);
          return;
        }
        const id = this.nextId;
        const state = route.accept(req, id);
        if (state instanceof Refusal) {
          reply(res, state.status, state.body);
          return;
        }
        this.nextId++;
        const base: PeerBase<V> = {
          id,
          ws: undefined,
          alive: false,
          stallQueue: [],
          openedAt: 0,
          nextPingAt: 0,
          awaitingPongSince: 0,
          msgWindowAt: 0,
          msgsInWindow: 0,
        };
        const peer = Object.assign(base, state) as Peer<V>;
        res.upgrade({ peer }, key, protocol, extensions, context);
      },
      open: (ws) => {
        const peer = ws.getUserData().peer;
        peer.ws = ws;
        peer.alive = true;
        peer.openedAt = this.now();
        peer.nextPingAt = peer.openedAt + this.pingIntervalMs;
        this.sockets.add(ws);
        this.peers.add(peer);
        this.log(`${this.opts.name}: connection opened`, { conn: peer.id, path });
        route.open?.(peer);
      },
      message: (ws, message) => {
        const peer = ws.getUserData().peer;
        if (peer.alive && this.withinMessageRate(peer)) route.message(peer, Buffer.from(message).toString('utf8'));
      },
      ping: (ws) => {
        const peer = ws.getUserData().peer;
        if (peer.alive) this.withinMessageRate(peer);
      },
      drain: (ws) => {
        const peer = ws.getUserData().peer;
        if (peer.alive) route.drain?.(peer);
      },
      pong: (ws) => {
        ws.getUserData().peer.awaitingPongSince = 0;
      },
      close: (ws, code) => {
        this.sockets.delete(ws);
        const peer = ws.getUserData().peer;
        if (peer.alive) this.log(`${this.opts.name}: connection closed`, { conn: peer.id, code });
        this.drop(peer);
        peer.ws = undefined;
      },
    });
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Writes frames now (no stall) in corked groups; closes the peer with 1008 over the backlog cap. */
  write(peer: Peer<V>, frames: readonly string[]): void {
    const ws = peer.ws;
    if (!ws || !peer.alive || frames.length === 0) return;
    let i = 0;
    while (i < frames.length && peer.alive) {
      const rest = frames.length - i;
      const n = this.maxPerWrite === Number.POSITIVE_INFINITY ? rest : Math.min(rest, randInt(this.writeRng, 1, this.maxPerWrite));
      const start = i;
      i += n;
      ws.cork(() => {
        for (let k = start; k < start + n; k++) {
          const f = frames[k]!;
          if (ws.send(f, false, false) === 2) this.counters.framesDropped++;
          else {
            this.counters.framesSent++;
            this.counters.bytesSent += f.length;
          }
        }
      });
    }
    if (peer.alive && ws.getBufferedAmount() > this.maxBuffered) {
      this.log(`${this.opts.name}: closing slow consumer`, { conn: peer.id, buffered: ws.getBufferedAmount() });
      this.end(peer, 1008, 'slow consumer');
    }
  }

  /** Data frames go through here so that the stall fault applies. */
  sendData(peer: Peer<V>, frames: readonly string[]): void {
    if (frames.length === 0 || !peer.alive) return;
    if (this.stallUntil > 0) {
      if (this.stallMode === 'buffer') for (const f of frames) peer.stallQueue.push(f);
      else this.counters.framesDropped += frames.length;
      return;
    }
    this.write(peer, frames);
  }

  /** An ack, pong or error: sent at once, uncounted, stall or not. */
  sendControl(peer: Peer<V>, text: string): void {
    if (peer.alive && peer.ws) peer.ws.send(text, false, false);
  }

  /** Ends a peer with a close frame. */
  /** Counts a client message; false (and the connection closed) when it is one too many this second. */
  private withinMessageRate(peer: Peer<V>): boolean {
    const limit = this.opts.maxClientMessagesPerSec ?? 0;
    if (limit <= 0) return true;
    const now = this.now();
    if (now - peer.msgWindowAt >= 1000) {
      peer.msgWindowAt = now;
      peer.msgsInWindow = 0;
    }
    if (++peer.msgsInWindow <= limit) return true;
    this.counters.closedForMessageRate++;
    this.log(`${this.opts.name}: too many messages from a client`, { conn: peer.id, limit });
    this.end(peer, 1008, 'Too many requests');
    return false;
  }

  end(peer: Peer<V>, code: number, reason: string): void {
    const ws = peer.ws;
    if (!peer.alive || !ws) return;
    this.drop(peer);
    try {
      ws.end(code, reason);
    } catch {
      // already closed
    }
  }

  private drop(peer: Peer<V>): void {
    if (!peer.alive) return;
    peer.alive = false;
    this.peers.delete(peer);
    peer.stallQueue = [];
    this.opts.onDrop?.(peer);
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** The common faults; `malformedFrame` is the venue's truncated frame number `i` for a peer. */
  faults(malformedFrame: (peer: Peer<V>, i: number) => string): CommonFaults {
    return {
      closeAll: (code = 1001, reason = 'simulated close') => {
        for (const peer of [...this.peers]) this.end(peer, code, reason);
      },
      terminateAll: () => {
        for (const peer of [...this.peers]) {
          const ws = peer.ws;
          this.drop(peer);
          try {
            ws?.close();
          } catch {
            // already closed
          }
        }
      },
      stall: (ms, stallOpts = {}) => {
        if (ms <= 0) {
          if (this.stallUntil > 0) this.endStall();
          return;
        }
        this.stallMode = stallOpts.mode ?? 'buffer';
        this.stallUntil = this.now() + ms;
      },
      malformed: (count = 1) => {
        for (const peer of [...this.peers]) {
          const frames: string[] = [];
          for (let i = 0; i < count; i++) frames.push(malformedFrame(peer, i));
          this.write(peer, frames);
        }
      },
      rejectConnections: (reject) => {
        this.rejecting = reject;
      },
      raw: (frames, rawOpts) => {
        for (const peer of this.peers) {
          if (!peer.ws) continue;
          const sent = sendRawFrames(peer.ws, frames, rawOpts);
          this.counters.framesSent += sent.frames;
          this.counters.bytesSent += sent.bytes;
          this.counters.framesDropped += sent.dropped;
        }
      },
    };
  }

  private endStall(): void {
    this.stallUntil = 0;
    for (const peer of [...this.peers]) {
      const q = peer.stallQueue;
      peer.stallQueue = [];
      this.write(peer, q);
    }
  }

  stats(): BaseStats {
    return { connections: this.peers.size, ...this.counters };
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Listens exclusively on host:port; rejects with an Error naming host:port when it cannot. */
  async listen(): Promise<number> {
    const host = this.host;
    const port = this.opts.port ?? 0;
    this.listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
      (this.app.listen as unknown as ListenWithOptions).call(this.app, host, port, LISTEN_EXCLUSIVE_PORT, (s) => {
        if (s) resolve(s);
        else reject(new Error(`${this.opts.name}: cannot listen on ${host}:${port}`));
      });
    });
    this.port = uWS.us_socket_local_port(this.listenSocket as unknown as uWS.us_socket);
    this.log(`${this.opts.name} listening`, { host, port: this.port });
    return this.port;
  }

  /** Where clients connect: the port, `ws://host:port<wsPath>` and `http://host:port`. */
  endpoints(wsPath = ''): { port: number; wsUrl: string; restUrl: string } {
    return { port: this.port, wsUrl: `${this.url('ws')}${wsPath}`, restUrl: this.url('http') };
  }

  /** `scheme://host:port` with an IPv6 host in brackets. */
  url(scheme: 'ws' | 'http'): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${scheme}://${h}:${this.port}`;
  }

  /** Runs `tick` every `tickMs`, after ending a stall that is due and before the connection timers. */
  run(tickMs: number, tick: () => void): void {
    this.timer = setInterval(() => {
      const t = this.now();
      if (this.stallUntil > 0 && t >= this.stallUntil) this.endStall();
      tick();
      if (t - this.lastHousekeeping >= HOUSEKEEPING_MS) {
        this.lastHousekeeping = t;
        this.housekeeping(t);
      }
    }, tickMs);
  }

  private housekeeping(t: number): void {
    if (this.maxAgeMs <= 0 && this.pongTimeoutMs <= 0 && this.pingIntervalMs <= 0) return;
    for (const peer of [...this.peers]) {
      const ws = peer.ws;
      if (!ws || !peer.alive) continue;
      if (this.maxAgeMs > 0 && t - peer.openedAt >= this.maxAgeMs) {
        this.log(`${this.opts.name}: closing connection at max age`, { conn: peer.id });
        this.end(peer, 1001, 'max connection age');
        continue;
      }
      if (this.pongTimeoutMs > 0 && peer.awaitingPongSince > 0 && t - peer.awaitingPongSince >= this.pongTimeoutMs) {
        this.log(`${this.opts.name}: closing connection: pong timeout`, { conn: peer.id });
        this.end(peer, 1008, 'pong timeout');
        continue;
      }
      if (this.pingIntervalMs > 0 && t >= peer.nextPingAt) {
        peer.nextPingAt = t + this.pingIntervalMs;
        if (peer.awaitingPongSince === 0) peer.awaitingPongSince = t;
        ws.ping();
      }
    }
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
      for (const peer of [...this.peers]) this.end(peer, 1001, 'simulator shutting down');
      // Give clients a moment to answer the close handshake, then cut what is left.
      const deadline = Date.now() + 500;
      while (Date.now() < deadline && this.sockets.size > 0) await new Promise((r) => setTimeout(r, 10));
      for (const ws of [...this.sockets]) {
        try {
          ws.close();
        } catch {
          // already closed
        }
      }
      this.log(`${this.opts.name} closed`, { port: this.port });
    })();
    return this.closed;
  }
}

/** A JSON answer. */
export function reply(res: HttpResponse, status: string, body: string, contentType = 'application/json'): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', contentType).end(body);
  });
}
