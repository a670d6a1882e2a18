/**
 * An OpenD stand-in: OpenD's TCP API (the 44-byte `FT` header with the body's SHA-1, protobuf
 * bodies) on `host:port`, and OpenD's WebSocket port framing on `wsPort` (what the `futu-api` npm
 * client speaks), both over one synthetic market.
 *
 * - InitConnect (1001) answers connID and `keepAliveIntervalSec`; a connection that sends no
 *   KeepAlive (1004) for `keepAliveTimeoutMs` is dropped, as OpenD drops it. Requests before
 *   InitConnect are refused.
 * - A packet whose SHA-1 does not match its body is answered with retType -500 and not executed.
 * - GetGlobalState (1002): market states, open or closed (`faults.setMarketOpen`); a closed
 *   market pushes nothing.
 * - Qot_Sub (3001): quota counted per security and subscription type over every connection
 *   (`quota`); an unknown security (codes starting `99` or `ZZ`), a market without quote right
 *   (`noQuoteRight`) or an exhausted quota refuse the whole request (retType -1, retMsg naming
 *   why); unsubscribing a type within `minSubscribedMs` of subscribing it is refused.
 * - Qot_RegQotPush (3002) or Qot_Sub's isRegOrUnRegPush registers pushes: 3011 tickers, 3013 the
 *   top `depth` levels, 3005 basic quotes, 3007 K-lines; Qot_GetTicker (3010) serves the last 1000.
 * - Faults: `dropTickers` (a gap: tickers kept in the history, not pushed), `exhaustQuota`,
 *   `setMarketOpen`, `closeAll`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { encodePacket, FUTU_HEADER_BYTES, futuFraming, packetBody, readHeader } from '../../venues/futu/codec.js';
import { encode, FutuMessages as M } from '../../venues/futu/messages.js';
import { FUTU_CANDLE_INTERVALS, FUTU_MARKETS, futuSymbolOf, ProtoId, parseFutuSymbol } from '../../venues/futu/protocol.js';
import { FutuSecurityMarket } from './market.js';

export interface FutuSimulatorOptions {
  readonly host?: string;
  /** TCP API port (0 = a free one). */
  readonly port?: number;
  /** WebSocket port (0 = a free one; negative = none). */
  readonly wsPort?: number;
  readonly seed?: number;
  /** Market events (book changes and trades) per second per security. Default 20. */
  readonly ratePerSecurity?: number;
  /** Levels per side in order book pushes. Default 10. */
  readonly depth?: number;
  /** Subscriptions (security × type) the account may hold. Default 100. */
  readonly quota?: number;
  /** Market prefixes (`SH`, …) this account has no quote right for. */
  readonly noQuoteRight?: readonly string[];
  /** Returned by InitConnect (s). Default 10. */
  readonly keepAliveIntervalSec?: number;
  /** A connection silent (no KeepAlive) this long is dropped (ms). Default 3 × the interval. */
  readonly keepAliveTimeoutMs?: number;
  /** Minimum time between subscribing a type and unsubscribing it (ms). Default 60 000. */
  readonly minSubscribedMs?: number;
  /** Push cadence (ms). Default 50. */
  readonly pushIntervalMs?: number;
  readonly marketOpen?: boolean;
}

export interface FutuSimulatorStats {
  connections: number;
  packetsIn: number;
  packetsOut: number;
  badSha1: number;
  subscriptions: number;
  refusedSubs: number;
  refusedUnsubs: number;
  keepAlives: number;
  droppedSilent: number;
  getTicker: number;
}

export interface FutuSimulator {
  /** `tcp://host:port`, the engine's `venues.futu.wsUrl`. */
  readonly wsUrl: string;
  /** Unused by OpenD clients (there is no REST side); the TCP origin. */
  readonly restUrl: string;
  readonly port: number;
  /** The WebSocket port (`futu-api`), -1 when none. */
  readonly wsPort: number;
  readonly faults: {
    dropTickers(symbol: string, count?: number): void;
    exhaustQuota(): void;
    setMarketOpen(open: boolean): void;
    /** Closes every client connection. */
    closeAll(): void;
  };
  /** The simulator's current top of book for `symbol`: `[price, volume][]` per side. */
  book(symbol: string, depth?: number): { bids: [number, number][]; asks: [number, number][] } | undefined;
  stats(): FutuSimulatorStats;
  close(): Promise<void>;
}

const OPEN_STATE: Readonly<Record<number, number>> = { 1: 5, 11: 5, 21: 3, 22: 3 };
const CLOSED_STATE = 6;
const UNKNOWN_CODE = /^(99|ZZ)/;

interface Client {
  readonly id: number;
  readonly send: (protoId: number, serial: number, body: Uint8Array) => void;
  readonly close: () => void;
  initialized: boolean;
  lastKeepAlive: number;
  /** `native|subType` → subscribed at. */
  readonly subs: Map<string, number>;
  /** `native|subType` registered for pushes. */
  readonly pushes: Set<string>;
}

export async function startFutuSimulator(options: FutuSimulatorOptions = {}): Promise<FutuSimulator> {
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? 1;
  const rate = options.ratePerSecurity ?? 20;
  const depth = options.depth ?? 10;
  const keepAliveSec = options.keepAliveIntervalSec ?? 10;
  const keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 3 * keepAliveSec * 1000;
  const minSubscribedMs = options.minSubscribedMs ?? 60_000;
  const noRight = new Set((options.noQuoteRight ?? []).map((p) => FUTU_MARKETS[p]?.market));
  let quota = options.quota ?? 100;
  let marketOpen = options.marketOpen ?? true;
  const markets = new Map<string, FutuSecurityMarket>();
  const clients = new Set<Client>();
  const sockets = new Set<Socket>();
  let nextConnId = 1;
  const stats: FutuSimulatorStats = {
    connections: 0,
    packetsIn: 0,
    packetsOut: 0,
    badSha1: 0,
    subscriptions: 0,
    refusedSubs: 0,
    refusedUnsubs: 0,
    keepAlives: 0,
    droppedSilent: 0,
    getTicker: 0,
  };

  const market = (native: string): FutuSecurityMarket => {
    let m = markets.get(native);
    if (m === undefined) {
      m = new FutuSecurityMarket(native, seed, rate, Date.now());
      markets.set(native, m);
    }
    return m;
  };
  /** Distinct security × type subscriptions over every connection (OpenD's quota is the account's). */
  const used = (): number => {
    const all = new Set<string>();
    for (const c of clients) for (const k of c.subs.keys()) all.add(k);
    return all.size;
  };
  const reply = (c: Client, protoId: number, serial: number, type: typeof M.QotSubResponse, value: Record<string, unknown>): void =>
    c.send(protoId, serial, encode(type, value));
  const fail = (c: Client, protoId: number, serial: number, retType: number, retMsg: string): void =>
    reply(c, protoId, serial, M.QotSubResponse, { retType, retMsg });

  function handle(c: Client, protoId: number, serial: number, body: Buffer): void {
    stats.packetsIn++;
    if (protoId !== ProtoId.InitConnect && !c.initialized) {
      fail(c, protoId, serial, -1, 'InitConnect first');
      return;
    }
    switch (protoId) {
      case ProtoId.InitConnect:
        M.InitConnectRequest.decode(body);
        c.initialized = true;
        c.lastKeepAlive = Date.now();
        reply(c, protoId, serial, M.InitConnectResponse, {
          retType: 0,
          s2c: { serverVer: 900, loginUserID: 12345, connID: c.id, connAESKey: '0123456789abcdef', keepAliveInterval: keepAliveSec },
        });
        return;
      case ProtoId.KeepAlive:
        stats.keepAlives++;
        c.lastKeepAlive = Date.now();
        reply(c, protoId, serial, M.KeepAliveResponse, { retType: 0, s2c: { time: Math.floor(Date.now() / 1000) } });
        return;
      case ProtoId.GetGlobalState: {
        const state = (market: number) => (marketOpen ? OPEN_STATE[market]! : CLOSED_STATE);
        reply(c, protoId, serial, M.GetGlobalStateResponse, {
          retType: 0,
          s2c: {
            marketHK: state(1),
            marketUS: state(11),
            marketSH: state(21),
            marketSZ: state(22),
            marketHKFuture: state(1),
            qotLogined: true,
            trdLogined: false,
            serverVer: 900,
            serverBuildNo: 1,
            time: Math.floor(Date.now() / 1000),
            connID: c.id,
          },
        });
        return;
      }
      case ProtoId.QotSub:
        sub(c, serial, M.QotSubRequest.decode(body) as unknown as SubRequest);
        return;
      case ProtoId.QotRegQotPush: {
        const req = (M.QotRegQotPushRequest.decode(body) as unknown as { c2s: RegC2S }).c2s;
        for (const s of req.securityList) {
          const native = futuSymbolOf(s.market, s.code) ?? '';
          for (const t of req.subTypeList) {
            const key = `${native}|${t}`;
            if (req.isRegOrUnReg && c.subs.has(key)) c.pushes.add(key);
            else c.pushes.delete(key);
          }
        }
        reply(c, protoId, serial, M.QotRegQotPushResponse, { retType: 0, s2c: {} });
        // isFirstPush (default true): OpenD pushes what it has at once; here the order book.
        if (req.isRegOrUnReg && req.isFirstPush !== false) {
          for (const s of req.securityList) {
            const native = futuSymbolOf(s.market, s.code) ?? '';
            const m = markets.get(native);
            if (m !== undefined && req.subTypeList.includes(2) && c.pushes.has(`${native}|2`)) pushBook(c, s, m, Date.now());
          }
        }
        return;
      }
      case ProtoId.QotGetTicker: {
        stats.getTicker++;
        const req = (M.QotGetTickerRequest.decode(body) as unknown as { c2s: { security: Sec; maxRetNum: number } }).c2s;
        const native = futuSymbolOf(req.security.market, req.security.code);
        const m = native === undefined ? undefined : markets.get(native);
        if (m === undefined) {
          fail(c, protoId, serial, -1, 'Unknown stock: not subscribed');
          return;
        }
        const list = m.history.slice(-Math.max(0, Math.min(1000, req.maxRetNum)));
        reply(c, protoId, serial, M.QotGetTickerResponse, { retType: 0, s2c: { security: req.security, tickerList: list.map(tickerObject) } });
        return;
      }
      default:
        fail(c, protoId, serial, -1, `unknown protocol ${protoId}`);
    }
  }

  function sub(c: Client, serial: number, req: SubRequest): void {
    const { securityList, subTypeList, isSubOrUnSub } = req.c2s;
    const natives: string[] = [];
    for (const s of securityList) {
      const native = futuSymbolOf(s.market, s.code);
      let valid = native !== undefined;
      try {
        if (native !== undefined) parseFutuSymbol(native);
      } catch {
        valid = false;
      }
      if (!valid || UNKNOWN_CODE.test(s.code)) {
        stats.refusedSubs++;
        fail(c, ProtoId.QotSub, serial, -1, `Unknown stock ${native ?? `${s.market}.${s.code}`}`);
        return;
      }
      if (noRight.has(s.market)) {
        stats.refusedSubs++;
        fail(c, ProtoId.QotSub, serial, -1, `No quote right for ${native}: the account has no market data permission for this market`);
        return;
      }
      natives.push(native!);
    }
    const keys = natives.flatMap((n) => subTypeList.map((t) => `${n}|${t}`));
    if (isSubOrUnSub) {
      const all = new Set<string>();
      for (const other of clients) for (const k of other.subs.keys()) all.add(k);
      const added = keys.filter((k) => !all.has(k)).length;
      if (all.size + added > quota) {
        stats.refusedSubs++;
        fail(c, ProtoId.QotSub, serial, -1, `Subscription quota exhausted: ${all.size} of ${quota} used, ${added} more asked`);
        return;
      }
      const now = Date.now();
      for (const k of keys) if (!c.subs.has(k)) c.subs.set(k, now);
      for (const n of natives) market(n);
      if (req.c2s.isRegOrUnRegPush) for (const k of keys) c.pushes.add(k);
      stats.subscriptions = used();
    } else {
      const young = keys.filter((k) => Date.now() - (c.subs.get(k) ?? 0) < minSubscribedMs);
      if (young.length > 0) {
        stats.refusedUnsubs++;
        fail(c, ProtoId.QotSub, serial, -1, `Unsubscribe not allowed within one minute of subscribing (${young.join(', ')})`);
        return;
      }
      for (const k of keys) {
        c.subs.delete(k);
        c.pushes.delete(k);
      }
      stats.subscriptions = used();
    }
    reply(c, ProtoId.QotSub, serial, M.QotSubResponse, { retType: 0, s2c: {} });
  }

  // ---------------------------------------------------------------- pushes

  function push(now: number): void {
    for (const c of clients) {
      if (c.initialized && now - c.lastKeepAlive > keepAliveTimeoutMs) {
        stats.droppedSilent++;
        c.close();
      }
    }
    if (!marketOpen) return;
    for (const [native, m] of markets) {
      const listeners = [...clients].filter((c) => [...c.pushes].some((k) => k.startsWith(`${native}|`)));
      if (listeners.length === 0) continue;
      m.advance(now);
      const security = parseFutuSymbol(native);
      const tickers = m.takeTickers();
      const bookChanged = m.bookChanged;
      m.bookChanged = false;
      for (const c of listeners) {
        const has = (t: number) => c.pushes.has(`${native}|${t}`);
        if (tickers.length > 0 && has(4)) {
          pushTo(c, ProtoId.QotUpdateTicker, M.QotUpdateTicker, { security, tickerList: tickers.map(tickerObject) });
        }
        if (bookChanged && has(2)) pushBook(c, security, m, now);
        if (tickers.length > 0 && has(1)) {
          const d = m.day;
          pushTo(c, ProtoId.QotUpdateBasicQot, M.QotUpdateBasicQot, {
            basicQotList: [
              {
                security,
                isSuspended: false,
                listTime: '2004-06-16',
                priceSpread: m.tick,
                updateTime: new Date(m.updateTimestamp * 1000).toISOString(),
                highPrice: d.high,
                openPrice: d.open,
                lowPrice: d.low,
                curPrice: d.last,
                lastClosePrice: d.open,
                volume: d.volume,
                turnover: d.turnover,
                turnoverRate: 0,
                amplitude: 0,
                updateTimestamp: m.updateTimestamp,
              },
            ],
          });
        }
        if (tickers.length > 0) {
          for (const kl of Object.values(FUTU_CANDLE_INTERVALS)) {
            if (!has(kl.subType)) continue;
            const bar = m.bar(kl.sec, now);
            // OpenD stamps intraday bars with their end, day and longer bars with their start.
            const stampMs = kl.sec < 86_400 ? bar.startMs + kl.sec * 1000 : bar.startMs;
            pushTo(c, ProtoId.QotUpdateKL, M.QotUpdateKL, {
              rehabType: 1,
              klType: kl.klType,
              security,
              klList: [
                {
                  time: new Date(stampMs).toISOString(),
                  isBlank: false,
                  highPrice: bar.high,
                  openPrice: bar.open,
                  lowPrice: bar.low,
                  closePrice: bar.close,
                  volume: bar.volume,
                  turnover: bar.turnover,
                  timestamp: stampMs / 1000,
                },
              ],
            });
          }
        }
      }
    }
  }

  /** The security's top `depth` levels (OpenD pushes the whole top each time). */
  function pushBook(c: Client, security: Sec, m: FutuSecurityMarket, now: number): void {
    const level = (p: number, q: number) => ({ price: m.price(p), volume: q, orederCount: 1 });
    pushTo(c, ProtoId.QotUpdateOrderBook, M.QotUpdateOrderBook, {
      security,
      orderBookBidList: m.bids.px.slice(0, depth).map((p, i) => level(p, m.bids.qty[i]!)),
      orderBookAskList: m.asks.px.slice(0, depth).map((p, i) => level(p, m.asks.qty[i]!)),
      svrRecvTimeBidTimestamp: now / 1000,
      svrRecvTimeAskTimestamp: now / 1000,
    });
  }

  function pushTo(c: Client, protoId: number, type: typeof M.QotUpdateTicker, s2c: Record<string, unknown>): void {
    c.send(protoId, 0, encode(type, { retType: 0, s2c }));
  }

  function newClient(send: Client['send'], close: () => void): Client {
    const c: Client = { id: nextConnId++, send, close, initialized: false, lastKeepAlive: Date.now(), subs: new Map(), pushes: new Set() };
    clients.add(c);
    stats.connections++;
    return c;
  }

  // ---------------------------------------------------------------- TCP port

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const c = newClient(
      (protoId, serial, body) => {
        stats.packetsOut++;
        socket.write(encodePacket(protoId, serial, body));
      },
      () => socket.destroy(),
    );
    const decoder = futuFraming.decoder(16 << 20);
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => {
          const header = readHeader(frame);
          let body: Buffer;
          try {
            body = packetBody(frame, header);
          } catch (err) {
            stats.badSha1++;
            fail(c, header.protoId, header.serial, -500, (err as Error).message);
            return;
          }
          handle(c, header.protoId, header.serial, Buffer.from(body));
        });
      } catch {
        socket.destroy(); // framing lost (no "FT"), as OpenD closes such a connection
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      clients.delete(c);
      stats.subscriptions = used();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;

  // ---------------------------------------------------------------- WebSocket port

  let wss: WebSocketServer | undefined;
  let wsPort = -1;
  if ((options.wsPort ?? 0) >= 0) {
    const ws = new WebSocketServer({ host, port: options.wsPort ?? 0 });
    wss = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('listening', () => {
        ws.off('error', reject);
        resolve();
      });
    });
    wsPort = (ws.address() as { port: number }).port;
    ws.on('connection', (socket: WebSocket) => {
      const c = newClient(
        (protoId, serial, body) => {
          stats.packetsOut++;
          socket.send(wsPacket(protoId, serial, 0, body));
        },
        () => socket.terminate(),
      );
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary || data.length < WS_REQUEST_HEADER) return;
        if (data.toString('latin1', 0, 7) !== WS_SIGN) return;
        const cmd = data.readUInt32BE(8);
        const section = Number(data.readBigUInt64BE(12));
        const body = data.subarray(WS_REQUEST_HEADER);
        if (cmd === WS_INIT) {
          // The WebSocket port's own login; OpenD's InitConnect is implied by it.
          stats.packetsIn++;
          c.initialized = true;
          stats.packetsOut++;
          socket.send(
            wsPacket(cmd, section, 0, encode(M.InitWebSocketResponse, { retType: 0, s2c: { connID: c.id, serverTime: Math.floor(Date.now() / 1000) } })),
          );
          return;
        }
        c.lastKeepAlive = Date.now(); // the WebSocket keeps the OpenD side alive
        handle(c, cmd, section, Buffer.from(body));
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clients.delete(c);
        stats.subscriptions = used();
      });
    });
  }

  const pushTimer = setInterval(() => push(Date.now()), options.pushIntervalMs ?? 50);

  return {
    wsUrl: `tcp://${host}:${port}`,
    restUrl: `http://${host}:${port}`,
    port,
    wsPort,
    faults: {
      dropTickers(symbol, count = 1) {
        market(symbol).withhold(Date.now(), count);
      },
      exhaustQuota() {
        quota = used();
      },
      setMarketOpen(open) {
        marketOpen = open;
      },
      closeAll() {
        for (const c of [...clients]) c.close();
      },
    },
    book(symbol, n = depth) {
      const m = markets.get(symbol);
      if (m === undefined) return undefined;
      const side = (s: typeof m.bids) => s.px.slice(0, n).map((p, i) => [m.price(p), s.qty[i]!] as [number, number]);
      return { bids: side(m.bids), asks: side(m.asks) };
    },
    stats: () => ({ ...stats }),
    async close() {
      clearInterval(pushTimer);
      for (const c of [...clients]) c.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      if (wss !== undefined) {
        for (const s of wss.clients) s.terminate();
        await new Promise<void>((r) => wss!.close(() => r()));
      }
    },
  };
}

// OpenD's WebSocket framing: "ft-v1.0\0", cmd (u32 BE), section (u64 BE), then for answers
// error (i32 BE) and a 20-byte error message; the protobuf body follows.
const WS_SIGN = 'ft-v1.0';
const WS_INIT = 1;
const WS_REQUEST_HEADER = 20;

function wsPacket(cmd: number, section: number, error: number, body: Uint8Array): Buffer {
  const out = Buffer.alloc(FUTU_HEADER_BYTES + body.length);
  out.write(WS_SIGN, 0, 'latin1');
  out.writeUInt32BE(cmd, 8);
  out.writeBigUInt64BE(BigInt(section), 12);
  out.writeInt32BE(error, 20);
  out.set(body, FUTU_HEADER_BYTES);
  return out;
}

function tickerObject(t: { sequence: number; timestamp: number; dir: number; price: number; volume: number }) {
  return {
    time: new Date(t.timestamp * 1000).toISOString(),
    sequence: t.sequence,
    dir: t.dir,
    price: t.price,
    volume: t.volume,
    turnover: t.price * t.volume,
    timestamp: t.timestamp,
  };
}

interface Sec {
  market: number;
  code: string;
}
interface SubRequest {
  c2s: { securityList: Sec[]; subTypeList: number[]; isSubOrUnSub: boolean; isRegOrUnRegPush?: boolean };
}
interface RegC2S {
  securityList: Sec[];
  subTypeList: number[];
  isRegOrUnReg: boolean;
  isFirstPush?: boolean;
}
