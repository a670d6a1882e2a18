/**
 * OKX v5 public-API simulator (uWebSockets.js): `/ws/v5/public` and `/ws/v5/business` on one port.
 * Speaks `{"op":"subscribe"|"unsubscribe","args":[{channel,instId}]}` with `event` acks carrying a
 * `connId`, answers text `ping` with text `pong`, and serves `books` (snapshot + updates with
 * seqId/prevSeqId and real checksums over the simulated book, an idle no-change update when a book
 * has not changed for `idleBookMs`), `trades`, `tickers`, `bbo-tbt`, `funding-rate` and
 * `mark-price` (swaps) on the public path and `candle*` on the business path. Channels on the
 * wrong path are refused with error 60018, as OKX does.
 *
 * Or it replays a cryptofeed OKX capture (`replay.ws`): recorded data frames are delivered, at
 * recorded pace or faster, to connections subscribed to their `{channel, instId}`.
 *
 * Faults: the common ones (see `kit/venue-server.ts`), plus `skipSequence(sym)`
 * (the next `books` update of that instrument is not sent, so the following one's prevSeqId does
 * not match) and `corruptChecksum(sym)` (the next update carries a wrong checksum).
 */
import { OKX_CANDLE_INTERVALS, okxCandleSec, okxInstId, okxPathOf } from '../../venues/okx/channels.js';
import { readClientRequest } from '../kit/client-request.js';
import { loadReplay, ReplayCursor, type ReplayOptions, type ReplaySource } from '../kit/replay.js';
import { expSample } from '../kit/rng.js';
import { type CommonFaults, type CommonSimulatorOptions, commonOptions, type Peer, reply, type SimulatorStats, VenueServer } from '../kit/venue-server.js';
import { type OkxBookView, OkxInstrument } from './market.js';

export interface OkxSimulatorOptions extends CommonSimulatorOptions {
  seed?: number;
  /**
   * Instruments that exist from the start (default: spot, swaps, the futures `BTC-USD-261225` and
   * `BTC-USDT-261225` and the option `BTC-USD-261225-100000-C`); other spot and swap ids matching
   * `BASE-QUOTE[-SWAP]` are created on demand. A future or option exists only when listed here.
   */
  instruments?: string[];
  /** Book-change events per second per instrument (default 20); taker orders at half that rate. */
  ratePerInstrument?: number;
  /** `books` update cadence (default 100 ms, as OKX). */
  booksIntervalMs?: number;
  /** A no-change `books` update is sent after this long without changes (default 2000). */
  idleBookMs?: number;
  /** Ticker, candle, funding-rate and mark-price cadence (default 1000 ms). */
  slowIntervalMs?: number;
  depthLevels?: number;
  tickMs?: number;
  /** Replay a cryptofeed OKX capture instead of the synthetic market. */
  replay?: ReplayOptions;
}

export interface OkxSimulatorFaults extends CommonFaults {
  /** The next `books` update of `symbol` (instId or normalized) is not sent. */
  skipSequence(symbol: string): void;
  /** The next `books` update of `symbol` carries a wrong checksum. */
  corruptChecksum(symbol: string): void;
}

export interface OkxSimulatorStats extends SimulatorStats {
  pings: number;
}

export interface OkxSimulator {
  readonly port: number;
  /** Base URL (`ws://127.0.0.1:<port>`); clients append `/ws/v5/public` or `/ws/v5/business`. */
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly faults: OkxSimulatorFaults;
  /** Book of an instrument as of its last published seqId (bids desc, asks asc). */
  book(symbol: string): OkxBookView;
  stats(): OkxSimulatorStats;
  close(): Promise<void>;
}

interface OkxConn {
  connId: string;
  path: string;
  subs: Set<string>;
  replay: ReplayCursor | undefined;
}

type Conn = Peer<OkxConn>;

/** Instruments created on demand: a base against a quote OKX trades in (FOO-BAR is refused with 60018). */
const INST_RE = /^[A-Z0-9]{2,}-(USDT|USDC|USD|EUR|DAI|BTC|ETH)(-SWAP)?$/;
const PUBLIC_CHANNELS = new Set(['trades', 'tickers', 'bbo-tbt', 'books', 'books5', 'funding-rate', 'mark-price', 'index-tickers']);
const DEFAULT_INSTRUMENTS = [
  'BTC-USDT',
  'ETH-USDT',
  'BTC-USDT-SWAP',
  'ETH-USDT-SWAP',
  'BTC-USD-SWAP',
  'BTC-USD-261225',
  'BTC-USDT-261225',
  'BTC-USD-261225-100000-C',
];
/** The ids `instruments` may list besides INST_RE's: futures and options (as OKX spells them). */
const DATED_RE = /^[A-Z0-9]{2,}-(USDT|USDC|USD)-\d{6}(-[1-9]\d*(\.\d+)?-[CP])?$/;

function toInstId(symbol: string): string {
  return symbol.includes('/') ? okxInstId(symbol) : symbol;
}

/** Capture adapter: data frames are addressed by `channel:instId`; recorded acks are not replayed. */
const okxCaptureAdapter = {
  streamOf(payload: string): string | undefined {
    try {
      const m = JSON.parse(payload) as { event?: unknown; arg?: { channel?: unknown; instId?: unknown } };
      if (m.event !== undefined) return '#event';
      if (typeof m.arg?.channel === 'string' && typeof m.arg.instId === 'string') return `${m.arg.channel}:${m.arg.instId}`;
    } catch {
      // not JSON: sent to everyone
    }
    return undefined;
  },
  unwrap: (payload: string) => payload,
  restKey: () => undefined,
};

export async function startOkxSimulator(opts: OkxSimulatorOptions = {}): Promise<OkxSimulator> {
  const seed = opts.seed ?? 1;
  const rate = opts.ratePerInstrument ?? 20;
  const booksIntervalMs = opts.booksIntervalMs ?? 100;
  const idleBookMs = opts.idleBookMs ?? 2000;
  const slowMs = opts.slowIntervalMs ?? 1000;
  const depthLevels = opts.depthLevels ?? 50;
  const tickMs = opts.tickMs ?? 5;
  const replay: ReplaySource | undefined = opts.replay ? loadReplay(opts.replay, okxCaptureAdapter) : undefined;

  const instruments = new Map<string, OkxInstrument>();
  const nextEventAt = new Map<string, number>();
  const nextTakerAt = new Map<string, number>();
  const subscribers = new Map<string, number>();
  let pings = 0;
  const server: VenueServer<OkxConn> = new VenueServer<OkxConn>({
    name: 'okx simulator',
    ...commonOptions(opts),
    writeSeed: seed ^ 0x3c6ef372,
    unavailableBody: '{"msg":"Service unavailable (simulated)","code":"50001"}',
    onDrop: (conn) => {
      for (const s of conn.subs) removeSub(conn, s);
    },
  });
  const conns = server.peers;
  let outbox: Array<{ key: string; frame: string }> = [];
  let lastBooksAt = Date.now();
  let lastSlowAt = Date.now();

  function instrument(instId: string, listing = false): OkxInstrument | undefined {
    let inst = instruments.get(instId);
    if (inst === undefined && (INST_RE.test(instId) || (listing && DATED_RE.test(instId))) && !replay) {
      inst = new OkxInstrument(instId, seed, depthLevels);
      instruments.set(instId, inst);
      const now = Date.now();
      nextEventAt.set(instId, now + expSample(inst.rng, rate / 1000));
      nextTakerAt.set(instId, now + expSample(inst.rng, rate / 2000));
    }
    return inst;
  }
  for (const id of opts.instruments ?? DEFAULT_INSTRUMENTS) {
    if (instrument(id, true) === undefined && !replay) throw new Error(`okx simulator: instrument ${JSON.stringify(id)} is not an OKX instId`);
  }

  const wants = (key: string): boolean => (subscribers.get(key) ?? 0) > 0;
  const emit = (channel: string, instId: string, data: unknown[], action?: string): void => {
    const key = `${channel}:${instId}`;
    if (!wants(key)) return;
    const frame = JSON.stringify(action === undefined ? { arg: { channel, instId }, data } : { arg: { channel, instId }, action, data });
    outbox.push({ key, frame });
  };

  // ---- sending -------------------------------------------------------------------------------

  const sendData = (conn: Conn, frames: string[]): void => server.sendData(conn, frames);
  const sendControl = (conn: Conn, text: string): void => server.sendControl(conn, text);

  function deliverOutbox(): void {
    if (outbox.length === 0) return;
    const entries = outbox;
    outbox = [];
    for (const conn of conns) {
      if (conn.subs.size === 0) continue;
      const frames: string[] = [];
      for (const e of entries) if (conn.subs.has(e.key)) frames.push(e.frame);
      sendData(conn, frames);
    }
  }

  // ---- market --------------------------------------------------------------------------------

  function publishBooks(inst: OkxInstrument, now: number, idle: boolean): void {
    const data = inst.publish(now, idle);
    if (data !== undefined) emit('books', inst.instId, [data], 'update');
  }

  function tick(): void {
    const now = Date.now();
    if (replay) {
      for (const conn of conns) pumpReplay(conn, now);
      return;
    }
    for (const inst of instruments.values()) {
      const id = inst.instId;
      const bboKey = `bbo-tbt:${id}`;
      let ev = nextEventAt.get(id)!;
      let tk = nextTakerAt.get(id)!;
      while (ev <= now || tk <= now) {
        let trade: Record<string, unknown> | undefined;
        if (ev <= tk) {
          inst.bookEvent();
          ev += expSample(inst.rng, rate / 1000);
        } else {
          trade = inst.takerEvent(Math.round(tk));
          tk += expSample(inst.rng, rate / 2000);
        }
        if (trade !== undefined) emit('trades', id, [trade]);
        if (wants(bboKey)) emit('bbo-tbt', id, [inst.bbo(now)]);
      }
      nextEventAt.set(id, ev);
      nextTakerAt.set(id, tk);
    }
    if (now - lastBooksAt >= booksIntervalMs) {
      lastBooksAt = now;
      for (const inst of instruments.values()) {
        if (inst.hasPending) publishBooks(inst, now, false);
        else if (now - inst.lastPublishAt >= idleBookMs) publishBooks(inst, now, true);
      }
    }
    if (now - lastSlowAt >= slowMs) {
      lastSlowAt = now;
      for (const inst of instruments.values()) slowFrames(inst, now);
    }
    deliverOutbox();
  }

  function slowFrames(inst: OkxInstrument, now: number): void {
    const id = inst.instId;
    emit('tickers', id, [inst.tickerData(now)]);
    if (id.endsWith('-SWAP')) {
      emit('mark-price', id, [{ instType: 'SWAP', instId: id, markPx: String(inst.day.close), ts: String(now) }]);
      const index = id.replace(/-SWAP$/, '');
      const px = String(inst.day.close);
      emit('index-tickers', index, [{ instId: index, idxPx: px, high24h: px, low24h: px, open24h: px, sodUtc0: px, sodUtc8: px, ts: String(now) }]);
      const hour = 8 * 3600_000;
      const fundingTime = Math.ceil(now / hour) * hour;
      emit('funding-rate', id, [
        {
          instType: 'SWAP',
          instId: id,
          fundingRate: '0.0001',
          nextFundingRate: '',
          fundingTime: String(fundingTime),
          nextFundingTime: String(fundingTime + hour),
          ts: String(now),
        },
      ]);
    }
    for (const { channel, sec } of Object.values(OKX_CANDLE_INTERVALS)) {
      if (!wants(`${channel}:${id}`)) continue;
      const openTs = Math.floor(now / (sec * 1000)) * sec * 1000;
      const p = String(inst.day.close);
      const vol = inst.day.volume.toFixed(8);
      emit(channel, id, [[String(openTs), p, p, p, p, vol, vol, vol, '0']]);
    }
  }

  function pumpReplay(conn: Conn, now: number): void {
    const cur = conn.replay;
    if (!cur || cur.done || !conn.alive || server.stalled) return;
    const batch: string[] = [];
    for (;;) {
      const f = cur.next(now);
      if (!f) break;
      if (f.stream === '#event') continue;
      if (f.stream !== undefined && !conn.subs.has(f.stream)) continue;
      batch.push(f.data);
    }
    server.write(conn, batch);
  }

  // ---- subscriptions -------------------------------------------------------------------------

  function addSub(conn: Conn, key: string): void {
    if (conn.subs.has(key)) return;
    conn.subs.add(key);
    subscribers.set(key, (subscribers.get(key) ?? 0) + 1);
  }

  function removeSub(conn: Conn, key: string): void {
    if (!conn.subs.delete(key)) return;
    const n = (subscribers.get(key) ?? 1) - 1;
    if (n <= 0) subscribers.delete(key);
    else subscribers.set(key, n);
  }

  function errorFrame(conn: Conn, code: string, msg: string): string {
    return JSON.stringify({ event: 'error', msg, code, connId: conn.connId });
  }

  function onClientText(conn: Conn, text: string): void {
    if (text === 'ping') {
      pings++;
      sendControl(conn, 'pong');
      return;
    }
    const parsed = readClientRequest(text);
    const req = parsed.ok ? parsed.body : {};
    if ((req.op !== 'subscribe' && req.op !== 'unsubscribe') || !Array.isArray(req.args)) {
      sendControl(conn, errorFrame(conn, '60012', `Invalid request: ${text.slice(0, 100)}`));
      return;
    }
    for (const a of req.args as Array<{ channel?: unknown; instId?: unknown }>) {
      const channel = typeof a?.channel === 'string' ? a.channel : '';
      const instId = typeof a?.instId === 'string' ? a.instId : '';
      const arg = { channel, instId };
      const known = PUBLIC_CHANNELS.has(channel) || okxCandleSec(channel) !== undefined;
      const onPath = known && okxPathOf(channel) === conn.path;
      const inst = replay ? undefined : instrument(instId);
      const exists = replay ? INST_RE.test(instId) || /^[A-Z0-9]+-[A-Z0-9]+-\d{6}$/.test(instId) : inst !== undefined;
      if (!onPath || !exists) {
        sendControl(
          conn,
          errorFrame(conn, '60018', `Wrong URL or channel:${channel},instId:${instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`),
        );
        continue;
      }
      const key = `${channel}:${instId}`;
      if (req.op === 'unsubscribe') {
        removeSub(conn, key);
        sendControl(conn, JSON.stringify({ event: 'unsubscribe', arg, connId: conn.connId }));
        continue;
      }
      const fresh = !conn.subs.has(key);
      addSub(conn, key);
      sendControl(conn, JSON.stringify({ event: 'subscribe', arg, connId: conn.connId }));
      if (replay) {
        if (!conn.replay) conn.replay = new ReplayCursor(replay, Date.now());
        continue;
      }
      if (fresh && channel === 'books' && inst) {
        const now = Date.now();
        // Publish pending changes first so the snapshot is exactly the book at its seqId.
        if (inst.hasPending) {
          publishBooks(inst, now, false);
          deliverOutbox();
        }
        const frame = JSON.stringify({ arg, action: 'snapshot', data: [inst.snapshotData(now)] });
        sendData(conn, [frame]);
      }
    }
  }

  // ---- HTTP / WS -----------------------------------------------------------------------------

  for (const path of ['/ws/v5/public', '/ws/v5/business']) {
    server.ws(path, {
      accept: (_req, id) => ({ connId: (0x10000000 + id * 7919).toString(16).slice(-8), path, subs: new Set(), replay: undefined }),
      message: onClientText,
    });
  }
  server.app.any('/*', (res) => reply(res, '404 Not Found', '{"msg":"Not Found","code":"404"}'));

  await server.listen();
  server.run(tickMs, tick);

  function known(symbol: string): OkxInstrument {
    if (replay) throw new Error('okx simulator: not available in replay mode');
    const inst = instruments.get(toInstId(symbol));
    if (!inst) throw new Error(`okx simulator: unknown instrument ${symbol}`);
    return inst;
  }

  const faults: OkxSimulatorFaults = {
    ...server.faults(
      (_conn, i) => `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"${i}`,
    ),
    skipSequence(symbol) {
      known(symbol).skipNext = true;
    },
    corruptChecksum(symbol) {
      known(symbol).corruptNext = true;
    },
  };

  return {
    ...server.endpoints(),
    faults,
    book(symbol) {
      return known(symbol).view();
    },
    stats() {
      let subscriptions = 0;
      for (const c of conns) subscriptions += c.subs.size;
      return { ...server.stats(), subscriptions, pings };
    },
    close: () => server.close(),
  };
}
