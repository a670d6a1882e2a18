/**
 * Coinbase Exchange feed simulator (uWebSockets.js): `subscribe`/`unsubscribe` with
 * `subscriptions` acks, `heartbeat` per product every second, `level2_batch` (50 ms batches) and
 * `level2` (every change; needs a signed subscribe as on the venue) with a `snapshot` first,
 * `matches` (with `last_match` on subscribe) and `ticker`, from seeded synthetic products.
 * Faults: the common ones (see `kit/venue-server.ts`) and skipSequence (a lost match).
 * Recorded-capture replay is not implemented for this venue.
 */
import { subscribeSignature } from '../../venues/coinbase/protocol.js';
import { readClientRequest } from '../kit/client-request.js';
import { type CommonFaults, type CommonSimulatorOptions, commonOptions, type Peer, reply, type SimulatorStats, VenueServer } from '../kit/venue-server.js';
import { PRODUCT_PATTERN, type ProductSink, type ProductView, SyntheticProduct } from './market.js';

export interface CoinbaseSimulatorOptions extends CommonSimulatorOptions {
  seed?: number;
  /** Products that exist from the start (default BTC-USD, ETH-USD, SOL-USD); others matching `BASE-QUOTE` are created on demand. */
  products?: string[];
  /** Book changes + matches per second per product (default 30). */
  ratePerProduct?: number;
  /** Share of events that are matches (default 0.25). */
  tradeShare?: number;
  /** Book levels per side (default 50). */
  depthLevels?: number;
  /** `level2_batch` interval (default 50 ms, as the venue). */
  batchMs?: number;
  /** Heartbeat interval (default 1000 ms). */
  heartbeatMs?: number;
  tickMs?: number;
  /** When set, a `level2` subscribe must carry a valid signature for these credentials; otherwise any signature fields are accepted. */
  auth?: { apiKey: string; secret: string; passphrase?: string };
}

export interface CoinbaseSimulatorFaults extends CommonFaults {
  /** Drop the next `match` of `product` from every connection (its trade id and sequence still advance). */
  skipSequence(product: string): void;
}

export interface CoinbaseSimulator {
  readonly port: number;
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly faults: CoinbaseSimulatorFaults;
  /** The product's book as `level2_batch` subscribers have it (bids desc / asks asc). */
  book(product: string): ProductView;
  stats(): SimulatorStats;
  close(): Promise<void>;
}

const CHANNELS = new Set(['heartbeat', 'ticker', 'matches', 'level2', 'level2_batch']);

interface CoinbaseConn {
  /** channel → products */
  subs: Map<string, Set<string>>;
  out: string[];
}

type Conn = Peer<CoinbaseConn>;

type Obj = Record<string, unknown>;

function productId(symbol: string): string {
  return symbol.replace('/', '-').toUpperCase();
}

export async function startCoinbaseSimulator(opts: CoinbaseSimulatorOptions = {}): Promise<CoinbaseSimulator> {
  const seed = opts.seed ?? 1;
  const rate = (opts.ratePerProduct ?? 30) / 1000;
  const tradeShare = opts.tradeShare ?? 0.25;
  const depth = opts.depthLevels ?? 50;
  const batchMs = opts.batchMs ?? 50;
  const heartbeatMs = opts.heartbeatMs ?? 1000;
  const epochMs = Date.now();
  const server = new VenueServer<CoinbaseConn>({
    name: 'coinbase simulator',
    ...commonOptions(opts),
    writeSeed: seed ^ 0x85ebca6b,
    unavailableBody: '{"message":"service unavailable (simulated)"}',
    onDrop: (conn) => {
      conn.out = [];
    },
  });
  const conns = server.peers;
  const now = (): number => server.now();

  const products = new Map<string, SyntheticProduct>();

  function ensure(id: string): SyntheticProduct | undefined {
    let p = products.get(id);
    if (p === undefined && PRODUCT_PATTERN.test(id)) {
      p = new SyntheticProduct(id, seed, depth, rate, tradeShare, epochMs, now());
      products.set(id, p);
    }
    return p;
  }
  for (const id of opts.products ?? ['BTC-USD', 'ETH-USD', 'SOL-USD']) ensure(id);

  const subscribed = (c: Conn, channel: string, product: string): boolean =>
    c.subs.get(channel)?.has(product) === true;

  function fanout(channel: string, product: string, frame: string): void {
    for (const c of conns) if (subscribed(c, channel, product)) c.out.push(frame);
  }

  const sink: ProductSink = {
    wantsL2: (product) => {
      for (const c of conns) if (subscribed(c, 'level2', product)) return true;
      return false;
    },
    l2: (product, frame) => fanout('level2', product, frame),
    match: (product, frame) => fanout('matches', product, frame),
    ticker: (product, frame) => fanout('ticker', product, frame),
  };

  // ---- sending -------------------------------------------------------------------------------

  function flushConn(conn: Conn): void {
    if (conn.out.length === 0) return;
    const frames = conn.out;
    conn.out = [];
    server.sendData(conn, frames);
  }

  const sendControl = (conn: Conn, text: string): void => server.sendControl(conn, text);

  // ---- control messages ----------------------------------------------------------------------

  function error(conn: Conn, message: string, reason: string): void {
    sendControl(conn, JSON.stringify({ type: 'error', message, reason }));
  }

  function subscriptionsJson(conn: Conn): string {
    const channels: Array<{ name: string; product_ids: string[] }> = [];
    for (const [name, set] of conn.subs) if (set.size > 0) channels.push({ name, product_ids: [...set] });
    return JSON.stringify({ type: 'subscriptions', channels });
  }

  function authorized(m: Obj): boolean {
    const { signature, key, timestamp } = m;
    if (typeof signature !== 'string' || typeof key !== 'string' || typeof timestamp !== 'string') return false;
    const auth = opts.auth;
    if (auth === undefined) return true;
    return (
      key === auth.apiKey &&
      (m.passphrase ?? '') === (auth.passphrase ?? '') &&
      signature === subscribeSignature(auth.secret, timestamp)
    );
  }

  /** Channel → products requested by a (un)subscribe message; a string is an error reason. */
  function requested(m: Obj): Map<string, string[]> | string {
    const top = Array.isArray(m.product_ids) ? m.product_ids : [];
    if (!Array.isArray(m.channels)) return 'channels must be an array';
    const out = new Map<string, string[]>();
    for (const ch of m.channels) {
      const name = typeof ch === 'string' ? ch : (ch as Obj | null)?.name;
      const ids = typeof ch === 'string' ? top : (ch as Obj).product_ids;
      if (typeof name !== 'string' || !CHANNELS.has(name)) return `${String(name)} is not a valid channel`;
      if (!Array.isArray(ids) || ids.length === 0) return `no product ids for channel ${name}`;
      for (const id of ids) {
        if (typeof id !== 'string' || ensure(id) === undefined) return `${String(id)} is not a valid product`;
      }
      out.set(name, [...(out.get(name) ?? []), ...(ids as string[])]);
    }
    return out;
  }

  function onControl(conn: Conn, text: string): void {
    const parsed = readClientRequest(text);
    if (!parsed.ok && parsed.notJson) {
      error(conn, 'Failed to parse message', 'invalid JSON');
      return;
    }
    const msg: Obj = parsed.ok ? parsed.body : {};
    if (msg.type !== 'subscribe' && msg.type !== 'unsubscribe') {
      error(conn, 'Failed to subscribe', 'type must be subscribe or unsubscribe');
      return;
    }
    const req = requested(msg);
    if (typeof req === 'string') {
      error(conn, 'Failed to subscribe', req);
      return;
    }
    if (msg.type === 'unsubscribe') {
      for (const [name, ids] of req) for (const id of ids) conn.subs.get(name)?.delete(id);
      sendControl(conn, subscriptionsJson(conn));
      return;
    }
    if (req.has('level2') && !authorized(msg)) {
      error(conn, 'Failed to subscribe', 'level2 channel requires authentication');
      return;
    }
    const added: Array<[string, string]> = [];
    for (const [name, ids] of req) {
      let set = conn.subs.get(name);
      if (set === undefined) {
        set = new Set();
        conn.subs.set(name, set);
      }
      for (const id of ids) {
        if (set.has(id)) continue;
        set.add(id);
        added.push([name, id]);
      }
    }
    sendControl(conn, subscriptionsJson(conn));
    // Initial messages go through the data path (behind anything already queued for this socket).
    const t = now();
    for (const [name, id] of added) {
      const p = products.get(id)!;
      if (name === 'level2' || name === 'level2_batch') conn.out.push(p.snapshotJson(t));
      else if (name === 'matches') {
        const last = p.lastMatchJson();
        if (last !== undefined) conn.out.push(last);
      } else if (name === 'ticker') conn.out.push(p.tickerJson(t));
    }
    flushConn(conn);
  }

  // ---- scheduler -----------------------------------------------------------------------------

  let nextBatch = batchMs;
  let nextHeartbeat = heartbeatMs;
  function tick(): void {
    const t = now();
    for (const p of products.values()) p.advance(t, sink);
    if (t >= nextBatch) {
      nextBatch = t + batchMs;
      for (const p of products.values()) {
        const frame = p.flushBatch(t);
        if (frame !== undefined) fanout('level2_batch', p.id, frame);
      }
    }
    if (t >= nextHeartbeat) {
      nextHeartbeat += heartbeatMs;
      if (nextHeartbeat <= t) nextHeartbeat = t + heartbeatMs;
      for (const p of products.values()) fanout('heartbeat', p.id, p.heartbeatJson(t));
    }
    for (const c of conns) flushConn(c);
  }

  // ---- HTTP / WS -----------------------------------------------------------------------------

  server.ws('/*', { accept: () => ({ subs: new Map(), out: [] }), message: onControl });
  server.app.get('/time', (res) => {
    const ms = Date.now();
    reply(res, '200 OK', JSON.stringify({ iso: new Date(ms).toISOString(), epoch: ms / 1000 }));
  });
  server.app.any('/*', (res) => reply(res, '404 Not Found', '{"message":"NotFound"}'));

  await server.listen();
  server.run(opts.tickMs ?? 5, tick);

  const faults: CoinbaseSimulatorFaults = {
    ...server.faults((_conn, i) => `{"type":"match","product_id":"BTC-USD","trade_id":${i},"pri`),
    skipSequence(product) {
      const p = products.get(productId(product));
      if (p === undefined) throw new Error(`coinbase simulator: unknown product ${product}`);
      p.hideNextMatch = true;
    },
  };

  return {
    ...server.endpoints(),
    faults,
    book(product) {
      const p = products.get(productId(product));
      if (p === undefined) throw new Error(`coinbase simulator: unknown product ${product}`);
      return p.view();
    },
    stats() {
      let subscriptions = 0;
      for (const c of conns) for (const set of c.subs.values()) subscriptions += set.size;
      return { ...server.stats(), subscriptions };
    },
    close: () => server.close(),
  };
}
