/**
 * Simulator integration tests: a real uWebSockets.js server on an ephemeral loopback port, `ws` clients.
 * No fixed sleeps: every wait is a condition with a deadline.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseCapture, type Simulator, SyntheticMarket, startSimulator } from '../src/simulator/index.js';

const FIXTURES = '/work/shared/fixtures/cryptofeed';

interface Received {
  text: string;
  at: number;
}

class TestClient {
  readonly frames: Received[] = [];
  readonly pings: number[] = [];
  pongs = 0;
  closeCode: number | undefined;
  closeReason = '';
  closedAt = 0;
  openedAt = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('open', () => {
      this.openedAt = Date.now();
      this.wake();
    });
    ws.on('message', (d) => {
      this.frames.push({ text: d.toString(), at: Date.now() });
      this.wake();
    });
    ws.on('ping', () => {
      this.pings.push(Date.now());
      this.wake();
    });
    ws.on('pong', () => {
      this.pongs++;
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.closedAt = Date.now();
      this.wake();
    });
    ws.on('error', () => this.wake());
  }

  static async connect(url: string): Promise<TestClient> {
    const c = new TestClient(new WebSocket(url));
    await c.until(() => c.ws.readyState === WebSocket.OPEN, 5000, `open ${url}`);
    return c;
  }

  /** Parsed JSON frames (malformed ones skipped). */
  json(): { stream?: string; data?: Record<string, unknown>; [k: string]: unknown }[] {
    const out = [];
    for (const f of this.frames) {
      try {
        out.push(JSON.parse(f.text));
      } catch {
        // malformed
      }
    }
    return out;
  }

  /** Data objects of one stream (combined frames). */
  data(stream: string): Record<string, unknown>[] {
    return this.json()
      .filter((m) => m.stream === stream)
      .map((m) => m.data as Record<string, unknown>);
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Resolve when `cond()` holds; reject after `ms`. Re-checked on every socket event and every 10 ms. */
  until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + ms;
      const check = (): void => {
        let ok = false;
        try {
          ok = cond();
        } catch (e) {
          clearInterval(iv);
          reject(e);
          return;
        }
        if (ok) {
          clearInterval(iv);
          resolve();
        } else if (Date.now() > deadline) {
          clearInterval(iv);
          reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
        }
      };
      const iv = setInterval(check, 10);
      this.waiters.push(check);
      check();
    });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Poll a condition that does not depend on a socket. */
async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- order-book sync helper (Binance spot rule) ------------------------------------------------

interface Diff {
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

class BookSync {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  lastU = 0;
  synced = false;
  applied = 0;

  constructor(snapshot: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] }) {
    this.lastU = snapshot.lastUpdateId;
    for (const [p, q] of snapshot.bids) this.bids.set(Number(p), Number(q));
    for (const [p, q] of snapshot.asks) this.asks.set(Number(p), Number(q));
  }

  /** Apply one diff following Binance's rule; throws on a sequence violation. */
  apply(d: Diff): void {
    if (!this.synced) {
      if (d.u <= this.lastU) return;
      if (!(d.U <= this.lastU + 1 && this.lastU + 1 <= d.u)) {
        throw new Error(`first diff ${d.U}..${d.u} does not straddle ${this.lastU + 1}`);
      }
      this.synced = true;
    } else if (d.U !== this.lastU + 1) {
      throw new Error(`gap: expected U=${this.lastU + 1}, got ${d.U}`);
    }
    for (const [p, q] of d.b) this.set(this.bids, p, q);
    for (const [p, q] of d.a) this.set(this.asks, p, q);
    this.lastU = d.u;
    this.applied++;
  }

  view(): { bids: [number, number][]; asks: [number, number][] } {
    return {
      bids: [...this.bids.entries()].sort((x, y) => y[0] - x[0]),
      asks: [...this.asks.entries()].sort((x, y) => x[0] - y[0]),
    };
  }

  private set(m: Map<number, number>, p: string, q: string): void {
    const qty = Number(q);
    if (qty === 0) m.delete(Number(p));
    else m.set(Number(p), qty);
  }
}

async function snapshot(sim: Simulator, symbol: string, limit = 5000) {
  const r = await fetch(`${sim.restUrl}/api/v3/depth?symbol=${symbol}&limit=${limit}`);
  expect(r.status).toBe(200);
  return (await r.json()) as { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
}

/**
 * Sync a local book from REST + the client's buffered diffs and keep applying; resolves after
 * `matches` moments where the simulator's book is at the same update id and equal to ours.
 */
async function syncAndCompare(sim: Simulator, c: TestClient, stream: string, symbol: string, matches: number) {
  await c.until(() => c.data(stream).length > 0, 5000, `first ${stream} diff`);
  const book = new BookSync(await snapshot(sim, symbol));
  let idx = 0;
  let seen = 0;
  await c.until(
    () => {
      const diffs = c.data(stream) as unknown as Diff[];
      for (; idx < diffs.length; idx++) book.apply(diffs[idx]);
      if (book.synced) {
        const truth = sim.book(symbol);
        if (truth.lastUpdateId === book.lastU) {
          expect(book.view()).toEqual({ bids: truth.bids, asks: truth.asks });
          seen++;
        }
      }
      return seen >= matches;
    },
    8000,
    'book equal to simulator book',
  );
  return book;
}

// ---- tests -------------------------------------------------------------------------------------

const clients: TestClient[] = [];
async function connect(url: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('simulator: synthetic Binance spot market', () => {
  let sim: Simulator;
  beforeAll(async () => {
    // The protocol cases below send faster than Binance's 5 messages a second (test/pacing.test.ts covers that limit).
    sim = await startSimulator({ seed: 42, depthLevels: 60, rates: { kline: 10, ticker: 5 }, pingIntervalMs: 100, maxClientMessagesPerSec: 0 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('serves combined streams with Binance message shapes', async () => {
    const streams = [
      'btcusdt@trade',
      'btcusdt@aggTrade',
      'btcusdt@bookTicker',
      'btcusdt@depth@100ms',
      'btcusdt@kline_1m',
      'ethusdt@ticker',
      'btcusdt@depth5@100ms',
    ];
    const c = await connect(`${sim.wsUrl}/stream?streams=${streams.join('/')}`);
    await c.until(() => streams.every((s) => c.data(s).length >= 2), 5000, 'data on every stream');
    const trade = c.data('btcusdt@trade')[0];
    expect(trade).toMatchObject({ e: 'trade', s: 'BTCUSDT', M: true });
    expect(trade.p).toMatch(/^\d+\.\d{8}$/);
    expect(typeof trade.t).toBe('number');
    expect(typeof trade.m).toBe('boolean');
    const agg = c.data('btcusdt@aggTrade')[0];
    expect(agg).toMatchObject({ e: 'aggTrade', s: 'BTCUSDT' });
    expect(agg.l as number).toBeGreaterThanOrEqual(agg.f as number);
    const bt = c.data('btcusdt@bookTicker')[0];
    expect(Object.keys(bt).sort()).toEqual(['A', 'B', 'a', 'b', 's', 'u']);
    expect(Number(bt.b)).toBeLessThan(Number(bt.a));
    const depth = c.data('btcusdt@depth@100ms') as unknown as Diff[];
    for (let i = 1; i < depth.length; i++) expect(depth[i].U).toBe(depth[i - 1].u + 1);
    const k = c.data('btcusdt@kline_1m')[0] as { e: string; k: Record<string, unknown> };
    expect(k.e).toBe('kline');
    expect(k.k).toMatchObject({ i: '1m', s: 'BTCUSDT', B: '0' });
    expect((k.k.T as number) - (k.k.t as number)).toBe(59_999);
    const t = c.data('ethusdt@ticker')[0];
    expect(t).toMatchObject({ e: '24hrTicker', s: 'ETHUSDT' });
    for (const f of ['p', 'P', 'w', 'x', 'c', 'Q', 'b', 'B', 'a', 'A', 'o', 'h', 'l', 'v', 'q', 'O', 'C', 'F', 'L', 'n']) {
      expect(t).toHaveProperty(f);
    }
    const partial = c.data('btcusdt@depth5@100ms')[0] as { bids: unknown[]; asks: unknown[] };
    expect(partial.bids).toHaveLength(5);
    // Trade ids and book-ticker update ids only go up.
    const ids = c.data('btcusdt@trade').map((x) => x.t as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(sim.stats().connections).toBeGreaterThanOrEqual(1);
  });

  it('acks SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS and reports errors', async () => {
    const c = await connect(`${sim.wsUrl}/ws`);
    c.send({ method: 'SUBSCRIBE', params: ['solusdt@trade', 'solusdt@bookTicker'], id: 1 });
    await c.until(() => c.json().some((m) => m.id === 1), 3000, 'subscribe ack');
    expect(c.json().find((m) => m.id === 1)).toEqual({ result: null, id: 1 });
    // Raw endpoint: data objects without the combined wrapper.
    await c.until(() => c.json().some((m) => m.e === 'trade'), 3000, 'raw trade');
    expect(c.json().find((m) => m.e === 'trade')).not.toHaveProperty('stream');
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
    await c.until(() => c.json().some((m) => m.id === 2), 3000, 'list');
    expect((c.json().find((m) => m.id === 2)!.result as string[]).sort()).toEqual(['solusdt@bookTicker', 'solusdt@trade']);
    c.send({ method: 'UNSUBSCRIBE', params: ['solusdt@trade'], id: 3 });
    await c.until(() => c.json().some((m) => m.id === 3), 3000, 'unsubscribe ack');
    expect(c.json().find((m) => m.id === 3)).toEqual({ result: null, id: 3 });
    const after = c.frames.length;
    await c.until(() => c.json().slice(after).filter((m) => m.u !== undefined).length >= 5, 3000, 'bookTicker after unsubscribe');
    expect(c.json().slice(after).some((m) => m.e === 'trade')).toBe(false);
    c.send('this is not json');
    c.send({ method: 'FLY', params: [], id: 9 });
    c.send({ method: 'SUBSCRIBE', params: ['nosuchpair@trade'], id: 10 });
    await c.until(() => c.json().filter((m) => m.error !== undefined).length >= 3, 3000, 'three errors');
    const errors = c.json().filter((m) => m.error !== undefined);
    expect(errors[0]).toMatchObject({ error: { code: 3 }, id: null });
    expect(errors[1]).toMatchObject({ error: { code: 2 }, id: 9 });
    expect(errors[2]).toMatchObject({ error: { code: 2 }, id: 10 });
  });

  it('creates pattern-matching symbols on demand (WS and REST); rejects others', async () => {
    const c = await connect(`${sim.wsUrl}/ws/dogeusdt@trade`);
    await c.until(() => c.json().some((m) => m.s === 'DOGEUSDT'), 5000, 'DOGEUSDT trade');
    const ok = await fetch(`${sim.restUrl}/api/v3/depth?symbol=PEPEBTC&limit=5`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { bids: unknown[] }).bids).toHaveLength(5);
    const bad = await fetch(`${sim.restUrl}/api/v3/depth?symbol=NOPE`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: -1121, msg: 'Invalid symbol.' });
    const ping = await fetch(`${sim.restUrl}/api/v3/ping`);
    expect(await ping.json()).toEqual({});
  });

  it('REST snapshot + diff stream follow the Binance sync rule and rebuild the simulator book', async () => {
    const c = await connect(`${sim.wsUrl}/stream?streams=btcusdt@depth@100ms`);
    const book = await syncAndCompare(sim, c, 'btcusdt@depth@100ms', 'BTCUSDT', 3);
    expect(book.applied).toBeGreaterThan(0);
    // The 1000 ms stream shares the id space and must rebuild the same book.
    const slow = await connect(`${sim.wsUrl}/stream?streams=ethusdt@depth`);
    await syncAndCompare(sim, slow, 'ethusdt@depth', 'ETHUSDT', 1);
  });

  it('delivers identical frames to overlapping connections', async () => {
    const a = await connect(`${sim.wsUrl}/stream?streams=xrpusdt@trade/xrpusdt@depth@100ms`);
    const b = await connect(`${sim.wsUrl}/stream?streams=xrpusdt@trade/xrpusdt@depth@100ms`);
    await b.until(() => b.frames.length >= 20 && a.frames.length >= 40, 5000, 'frames on both');
    const start = a.frames.findIndex((f) => f.text === b.frames[0].text);
    expect(start).toBeGreaterThanOrEqual(0);
    const n = Math.min(a.frames.length - start, b.frames.length);
    expect(a.frames.slice(start, start + n).map((f) => f.text)).toEqual(b.frames.slice(0, n).map((f) => f.text));
  });

  it('sends server pings and answers client pings', async () => {
    const c = await connect(`${sim.wsUrl}/ws`);
    await c.until(() => c.pings.length >= 2, 3000, 'two server pings');
    c.ws.ping();
    await c.until(() => c.pongs >= 1, 3000, 'pong');
  });

  it('fault: gap() makes U jump while REST stays consistent with the true book', async () => {
    const c = await connect(`${sim.wsUrl}/stream?streams=bnbusdt@depth@100ms`);
    await c.until(() => c.data('bnbusdt@depth@100ms').length >= 2, 5000, 'diffs');
    sim.faults.gap('BNBUSDT');
    const gapped = () => {
      const d = c.data('bnbusdt@depth@100ms') as unknown as Diff[];
      return d.findIndex((x, i) => i > 0 && x.U !== d[i - 1].u + 1);
    };
    await c.until(() => gapped() > 0, 5000, 'a gap');
    const d = c.data('bnbusdt@depth@100ms') as unknown as Diff[];
    expect(d[gapped()].U).toBeGreaterThan(d[gapped() - 1].u + 1);
    // A fresh resync from REST + later diffs converges on the real book again.
    const c2 = await connect(`${sim.wsUrl}/stream?streams=bnbusdt@depth@100ms`);
    await syncAndCompare(sim, c2, 'bnbusdt@depth@100ms', 'BNBUSDT', 1);
  });

  it('fault: stall() pauses data (pings still answered) and delivers the backlog after', async () => {
    const c = await connect(`${sim.wsUrl}/stream?streams=btcusdt@trade`);
    await c.until(() => c.data('btcusdt@trade').length >= 3, 5000, 'trades');
    sim.faults.stall(60_000);
    const sentAtStall = sim.stats().framesSent;
    const id0 = sim.book('BTCUSDT').lastUpdateId;
    // Let the market move on noticeably while stalled.
    await waitFor(() => sim.book('BTCUSDT').lastUpdateId > id0 + 20, 5000, 'market moves during stall');
    c.ws.ping();
    await c.until(() => c.pongs >= 1, 3000, 'pong during stall');
    expect(sim.stats().framesSent).toBe(sentAtStall);
    const before = c.data('btcusdt@trade').length;
    sim.faults.stall(0);
    await c.until(() => c.data('btcusdt@trade').length > before + 3, 5000, 'trades after stall');
    // Buffer mode: no trade lost across the stall.
    const ids = c.data('btcusdt@trade').map((t) => t.t as number);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1] + 1);
  });

  it('fault: malformed() sends truncated JSON', async () => {
    const c = await connect(`${sim.wsUrl}/stream?streams=adausdt@trade`);
    sim.faults.malformed(3);
    await c.until(() => c.frames.filter((f) => !isJson(f.text)).length >= 3, 3000, 'malformed frames');
    expect(c.frames.find((f) => !isJson(f.text))!.text).toMatch(/^\{"stream":"adausdt@trade","data":\{"e":"trade"/);
  });

  it('fault: rejectConnections() answers upgrades with 503', async () => {
    sim.faults.rejectConnections(true);
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${sim.wsUrl}/ws`);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('connected while rejecting')));
      ws.on('error', () => {});
    });
    expect(status).toBe(503);
    expect(sim.stats().upgradesRejected).toBeGreaterThanOrEqual(1);
    sim.faults.rejectConnections(false);
    await connect(`${sim.wsUrl}/ws`);
  });

  it('rejects upgrades naming an invalid stream with HTTP 400', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${sim.wsUrl}/ws/nonsense`);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => {});
    });
    expect(status).toBe(400);
  });

  it('fault: closeAll() sends a close frame, terminateAll() does not', async () => {
    const a = await connect(`${sim.wsUrl}/ws/btcusdt@trade`);
    sim.faults.closeAll(4001);
    await a.until(() => a.closeCode !== undefined, 3000, 'close');
    expect(a.closeCode).toBe(4001);
    const b = await connect(`${sim.wsUrl}/ws/btcusdt@trade`);
    sim.faults.closeAll();
    await b.until(() => b.closeCode !== undefined, 3000, 'close');
    expect(b.closeCode).toBe(1001);
    const c = await connect(`${sim.wsUrl}/ws/btcusdt@trade`);
    sim.faults.terminateAll();
    await c.until(() => c.closeCode !== undefined, 3000, 'terminate');
    expect(c.closeCode).toBe(1006);
    await waitFor(() => sim.stats().connections === 0, 2000, 'no connections');
  });
});

describe('simulator: market model (no sockets)', () => {
  it('stays uncrossed, keeps its depth and emits gap-free diffs that rebuild the book', () => {
    const frames: { stream: string; data: string }[] = [];
    const market = new SyntheticMarket(
      {
        seed: 3,
        symbols: ['BTCUSDT', 'XRPUSDT', 'FOOBTC'],
        ratePerStream: 50,
        rates: {},
        depthLevels: 50,
        depthIntervalMs: 100,
        epochMs: 1_700_000_000_000,
      },
      { wants: () => true, emit: (_t, stream, data) => frames.push({ stream, data }) },
    );
    const syncs = new Map<string, BookSync>();
    for (const sym of ['BTCUSDT', 'XRPUSDT', 'FOOBTC']) syncs.set(sym, new BookSync(market.snapshot(sym, 5000)));
    let checked = 0;
    for (let t = 0; t <= 60_000; t += 50) {
      market.advance(t);
      for (const f of frames.splice(0)) {
        if (!f.stream.endsWith('@depth@100ms')) continue;
        const d = JSON.parse(f.data) as Diff & { s: string };
        syncs.get(d.s)!.apply(d);
      }
      for (const [sym, sync] of syncs) {
        const truth = market.book(sym);
        expect(truth.bids[0][0]).toBeLessThan(truth.asks[0][0]);
        expect(truth.bids.length).toBe(50);
        expect(truth.asks.length).toBe(50);
        if (truth.lastUpdateId === sync.lastU) {
          expect(sync.view()).toEqual({ bids: truth.bids, asks: truth.asks });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('simulator: lifecycle and determinism', () => {
  it('closes connections older than maxConnectionAgeMs', async () => {
    const sim = await startSimulator({ maxConnectionAgeMs: 300 });
    try {
      const c = await connect(`${sim.wsUrl}/ws/btcusdt@bookTicker`);
      await c.until(() => c.closeCode !== undefined, 3000, 'age close');
      expect([1000, 1001]).toContain(c.closeCode);
      expect(c.closedAt - c.openedAt).toBeGreaterThanOrEqual(250);
    } finally {
      await sim.close();
    }
  });

  it('closes connections that stop answering pings', async () => {
    const sim = await startSimulator({ pingIntervalMs: 50, pongTimeoutMs: 200 });
    try {
      const c = new TestClient(new WebSocket(`${sim.wsUrl}/ws`, { autoPong: false }));
      clients.push(c);
      await c.until(() => c.closeCode !== undefined, 3000, 'pong-timeout close');
      expect(c.closeCode).toBe(1008);
      expect(c.pings.length).toBeGreaterThanOrEqual(1);
    } finally {
      await sim.close();
    }
  });

  it('same seed gives the same trades per trade id', async () => {
    const [s1, s2] = await Promise.all([startSimulator({ seed: 9 }), startSimulator({ seed: 9 })]);
    try {
      const [a, b] = await Promise.all([
        connect(`${s1.wsUrl}/ws/ethusdt@trade`),
        connect(`${s2.wsUrl}/ws/ethusdt@trade`),
      ]);
      const byId = (c: TestClient) => new Map(c.json().map((t) => [t.t as number, `${t.p}/${t.q}/${t.m}`]));
      const common = () => [...byId(a).keys()].filter((id) => byId(b).has(id));
      await waitFor(() => common().length >= 10, 5000, 'common trade ids');
      for (const id of common()) expect(byId(a).get(id)).toBe(byId(b).get(id));
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });

  it('close() stops listening and frees the port', async () => {
    const sim = await startSimulator();
    const port = sim.port;
    const c = await connect(`${sim.wsUrl}/ws/btcusdt@trade`);
    await c.until(() => c.frames.length > 0, 3000, 'a trade');
    // Client-side close first: server-initiated closes leave TIME_WAIT sockets on the port, and
    // uSockets does not set SO_REUSEADDR, so only then can the same port be bound right away.
    c.close();
    await waitFor(() => sim.stats().connections === 0, 2000, 'server saw the close');
    await sim.close();
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
      ws.on('open', () => resolve('open'));
    });
    expect(refused).toBe('ECONNREFUSED');
    const again = await startSimulator({ port });
    expect(again.port).toBe(port);
    await again.close();
  });
});

describe('simulator: replay of BINANCE.ws.1.0 / BINANCE.http.0.0', () => {
  const wsPath = `${FIXTURES}/BINANCE.ws.1.0`;
  const restPath = `${FIXTURES}/BINANCE.http.0.0`;
  const lines = parseCapture(readFileSync(wsPath, 'utf8'));
  const received = lines.filter((l) => l.kind === 'received');

  it('parses the capture format', () => {
    expect(lines[0]).toMatchObject({ kind: 'connect', url: expect.stringContaining('stream.binance.com') });
    expect(received).toHaveLength(265);
    const rest = parseCapture(readFileSync(restPath, 'utf8'));
    expect(rest.filter((l) => l.kind === 'rest')).toHaveLength(4);
    expect(rest[0]).toMatchObject({ kind: 'rest', ts: 1633998512.320639 });
  });

  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ replay: { ws: wsPath, rest: restPath, speed: 'max' } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('delivers the recorded frames of the subscribed streams, verbatim and in order', async () => {
    const streams = ['nknusdt@depth@100ms', 'nknusdt@bookTicker', 'lrcbtc@aggTrade'];
    const expected = received
      .filter((l) => streams.some((s) => l.payload.startsWith(`{"stream":"${s}"`)))
      .map((l) => l.payload);
    expect(expected.length).toBe(225);
    const c = await connect(`${sim.wsUrl}/stream?streams=${streams.join('/')}`);
    await c.until(() => c.frames.length >= expected.length, 5000, 'all replayed frames');
    expect(c.frames.map((f) => f.text)).toEqual(expected);
  });

  it('raw /ws connections get unwrapped data after SUBSCRIBE', async () => {
    const expected = received
      .filter((l) => l.payload.startsWith('{"stream":"lrcbtc@depth@100ms"'))
      .map((l) => JSON.stringify((JSON.parse(l.payload) as { data: unknown }).data));
    const c = await connect(`${sim.wsUrl}/ws`);
    c.send({ method: 'SUBSCRIBE', params: ['lrcbtc@depth@100ms'], id: 1 });
    await c.until(() => c.frames.length >= expected.length + 1, 5000, 'frames');
    expect(c.frames[0].text).toBe('{"result":null,"id":1}');
    expect(c.frames.slice(1).map((f) => JSON.stringify(JSON.parse(f.text)))).toEqual(expected);
  });

  it('answers REST depth from the recorded snapshot', async () => {
    const recorded = parseCapture(readFileSync(restPath, 'utf8')).find(
      (l) => l.kind === 'rest' && l.url.includes('symbol=NKNUSDT'),
    );
    const r = await fetch(`${sim.restUrl}/api/v3/depth?symbol=NKNUSDT&limit=1000`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(recorded && 'payload' in recorded ? recorded.payload : '');
    const small = (await (await fetch(`${sim.restUrl}/api/v3/depth?symbol=NKNUSDT&limit=5`)).json()) as {
      lastUpdateId: number;
      bids: unknown[];
    };
    expect(small.lastUpdateId).toBe(499869752);
    expect(small.bids).toHaveLength(5);
    const bad = await fetch(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT`);
    expect(bad.status).toBe(400);
  });

  it('replays with recorded timing scaled by a speed multiplier', async () => {
    const timed = await startSimulator({ replay: { ws: wsPath, speed: 100 } });
    try {
      const expected = received.filter((l) => l.payload.startsWith('{"stream":"nknusdt@bookTicker"'));
      const c = await connect(`${timed.wsUrl}/stream?streams=nknusdt@bookTicker`);
      await c.until(() => c.frames.length >= expected.length, 5000, 'timed replay');
      const recordedSpanMs = (expected[expected.length - 1].ts - expected[0].ts) * 1000;
      const actualSpan = c.frames[c.frames.length - 1].at - c.frames[0].at;
      expect(actualSpan).toBeGreaterThanOrEqual(recordedSpanMs / 100 - 20);
    } finally {
      await timed.close();
    }
  });
});

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
