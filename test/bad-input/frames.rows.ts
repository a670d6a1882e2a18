/**
 * Bad-input rows, group `frames`: hostile frames from a venue (the simulators' `raw` fault) never
 * hurt the engine. Each row runs against real worker threads connected to a simulator and checks
 * the specific outcome (counter delta, status record, close code) and that the canary streams —
 * trades of two symbols on one connection and of a third on a second connection (another policy,
 * so another socket) — kept delivering afterwards.
 *
 * One Binance rig and one Kraken rig (simulator + engine) are shared by the rows and created on
 * first use; `closeFramesRig()` closes them (the test's afterAll). Rows that need a short stale
 * timeout make their own engine on the rig's simulator and close it.
 */
import { type Logger, pino } from 'pino';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { EngineOptions } from '../../src/engine/options.js';
import type { MarketRecord, StatusName } from '../../src/records/types.js';
import { type StallOptions, startSimulator } from '../../src/simulator/binance/server.js';
import type { RawFrame, RawFrameOptions } from '../../src/simulator/kit/raw-frames.js';
import { type KrakenSimulator, startKrakenSimulator } from '../../src/simulator/kraken/server.js';
import { waitFor } from '../helpers/wait.js';
import type { BadInputRow } from './row.js';

// ─── rigs ─────────────────────────────────────────────────────────────────────────────────────

interface HostileVenue {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly faults: {
    raw(frames: readonly RawFrame[], opts?: RawFrameOptions): void;
    stall(ms: number, opts?: StallOptions): void;
  };
  close(): Promise<void>;
}

interface Canary {
  /** Trades of these symbols must keep arriving, on the `block` connection … */
  readonly main: readonly string[];
  /** … and on the `drop` connection. */
  readonly other: readonly string[];
  /** A book on the `block` connection (rows that concern a book use it). */
  readonly book: string;
}

interface Rig {
  readonly venue: string;
  readonly sim: HostileVenue;
  readonly engine: Engine;
  readonly records: MarketRecord[];
  readonly logs: Array<Record<string, unknown>>;
  readonly canary: Canary;
}

/** Where a row starts: records and per-connection counters at the moment of the hostile input. */
interface Mark {
  readonly at: number;
  readonly bad: { main: number; other: number };
  readonly reconnects: { main: number; other: number };
  readonly frames: { main: number; other: number };
}

const BINANCE_CANARY: Canary = { main: ['BTC/USDT', 'ETH/USDT'], other: ['SOL/USDT'], book: 'BNB/USDT' };
const KRAKEN_CANARY: Canary = { main: ['BTC/USD', 'ETH/USD'], other: ['SOL/USD'], book: 'ETH/USD' };
const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 };

function capture(logs: Array<Record<string, unknown>>): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
}

function startRig(venue: string, sim: HostileVenue, canary: Canary, limits?: EngineOptions['limits']): Rig {
  const logs: Array<Record<string, unknown>> = [];
  const engine = createEngine({
    threads: 2,
    logger: capture(logs),
    venues: { [venue]: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
    backoff: FAST_BACKOFF,
    limits,
  });
  const records: MarketRecord[] = [];
  engine.onRecord((r) => records.push(r));
  engine.subscribe({ exchange: venue, channels: ['trades'], symbols: [...canary.main], policy: 'block' });
  engine.subscribe({ exchange: venue, channels: ['book'], symbols: [canary.book], policy: 'block' });
  engine.subscribe({ exchange: venue, channels: ['trades'], symbols: [...canary.other], policy: 'drop' });
  return { venue, sim, engine, records, logs, canary };
}

async function ready(rig: Rig): Promise<Rig> {
  const m = mark(rig);
  await canaryDelivers(rig, m);
  await bookSynced(rig);
  return rig;
}

let binanceRig: Promise<Rig> | undefined;
let krakenRig: Promise<Rig> | undefined;

function binance(): Promise<Rig> {
  binanceRig ??= (async () => {
    const sim = await startSimulator({ symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT'], rates: { trade: 50 } });
    return ready(startRig('binance', sim, BINANCE_CANARY));
  })();
  return binanceRig;
}

function kraken(): Promise<Rig> {
  krakenRig ??= (async () => {
    const sim: KrakenSimulator = await startKrakenSimulator({ pairs: ['BTC/USD', 'ETH/USD', 'SOL/USD'], ratePerPair: 60 });
    return ready(startRig('kraken', sim, KRAKEN_CANARY));
  })();
  return krakenRig;
}

/** Closes the shared rigs (engines first, then their simulators). */
export async function closeFramesRig(): Promise<void> {
  const rigs = [binanceRig, krakenRig];
  binanceRig = undefined;
  krakenRig = undefined;
  for (const p of rigs) {
    if (!p) continue;
    const rig = await p.catch(() => undefined);
    if (!rig) continue;
    await rig.engine.close();
    await rig.sim.close();
  }
}

// ─── observations ─────────────────────────────────────────────────────────────────────────────

function connections(rig: Rig) {
  const conns = rig.engine.stats().connections;
  const main = conns.find((c) => c.policy === 'block');
  const other = conns.find((c) => c.policy === 'drop');
  if (!main || !other) throw new Error(`expected a block and a drop connection, got ${conns.map((c) => c.policy).join(', ')}`);
  return { main, other };
}

function mark(rig: Rig): Mark {
  const { main, other } = connections(rig);
  return {
    at: rig.records.length,
    bad: { main: main.badMessages, other: other.badMessages },
    reconnects: { main: main.reconnects, other: other.reconnects },
    frames: { main: main.frames, other: other.frames },
  };
}

function since(rig: Rig, m: Mark): MarketRecord[] {
  return rig.records.slice(m.at);
}

function statusesSince(rig: Rig, m: Mark, status: StatusName, symbol = ''): MarketRecord[] {
  return since(rig, m).filter((r) => r.type === 'status' && r.status === status && r.symbol === symbol);
}

/** (c): new trades of every canary symbol after the mark (waits for them). */
async function canaryDelivers(rig: Rig, m: Mark): Promise<void> {
  for (const symbol of [...rig.canary.main, ...rig.canary.other]) {
    await waitFor(
      () => since(rig, m).some((r) => r.type === 'trade' && r.symbol === symbol),
      `a ${symbol} trade after the hostile input`,
      8000,
    );
  }
}

/** Waits for the frames to have reached both sockets (the frames counters moved by `n`). */
async function framesArrived(rig: Rig, m: Mark, n = 1): Promise<void> {
  await waitFor(() => {
    const { main, other } = connections(rig);
    return main.frames >= m.frames.main + n && other.frames >= m.frames.other + n;
  }, `${n} frame(s) on both connections`);
}

/**
 * (a) for skipped frames: exactly `main` / `other` more bad messages on each connection and as
 * many `badMessage` status records, and no reconnect; then (c).
 */
async function expectSkipped(rig: Rig, m: Mark, want: { main: number; other: number }): Promise<void> {
  const total = want.main + want.other;
  await waitFor(() => {
    const { main, other } = connections(rig);
    return main.badMessages >= m.bad.main + want.main && other.badMessages >= m.bad.other + want.other;
  }, `bad messages +${want.main} (block) / +${want.other} (drop)`);
  await waitFor(() => statusesSince(rig, m, 'badMessage').length >= total, `${total} badMessage status records`);
  await canaryDelivers(rig, m);
  const { main, other } = connections(rig);
  const got = { main: main.badMessages - m.bad.main, other: other.badMessages - m.bad.other };
  if (got.main !== want.main || got.other !== want.other) {
    throw new Error(`bad messages +${got.main} / +${got.other}, expected +${want.main} / +${want.other}`);
  }
  const records = statusesSince(rig, m, 'badMessage').length;
  if (records !== total) throw new Error(`${records} badMessage status records, expected ${total}`);
  const reconnected = main.reconnects - m.reconnects.main + other.reconnects - m.reconnects.other;
  if (reconnected !== 0) throw new Error(`a skipped frame must not reconnect; saw ${reconnected} reconnect(s)`);
}

/** (a) for frames that fail the socket: both connections report `code` and reconnect; then (c). */
async function expectFailedWith(rig: Rig, m: Mark, code: number, reason: RegExp): Promise<void> {
  await waitFor(() => {
    const { main, other } = connections(rig);
    return main.reconnects > m.reconnects.main && other.reconnects > m.reconnects.other;
  }, 'both connections reconnected');
  await waitFor(() => statusesSince(rig, m, 'connected').length >= 2, 'two connected status records');
  await canaryDelivers(rig, m);
  const closes = statusesSince(rig, m, 'disconnected').map((r) => (r.type === 'status' ? r.detail : Number.NaN));
  if (closes.length < 2 || closes.some((c) => c !== code)) {
    throw new Error(`disconnected close codes [${closes.join(', ')}], expected ${code} on both connections`);
  }
  const why = rig.logs.filter((l) => l.msg === 'connection reconnecting' && reason.test(String(l.reason)));
  if (why.length < 2) throw new Error(`expected two 'reconnecting' logs matching ${reason}`);
  await bookSynced(rig);
}

function bookSynced(rig: Rig): Promise<void> {
  return waitFor(() => rig.engine.book(rig.venue, rig.canary.book)?.synced === true, `${rig.canary.book} book synced`);
}

function noRecordFor(rig: Rig, m: Mark, symbol: string): void {
  const hit = since(rig, m).find((r) => r.symbol === symbol);
  if (hit) throw new Error(`a ${hit.type} record for ${symbol}, which is not subscribed`);
}

function noTradeWith(rig: Rig, m: Mark, bad: (r: { price: number; amount: number; seq: number }) => boolean): void {
  const hit = since(rig, m).find((r) => r.type === 'trade' && bad(r));
  if (hit) throw new Error(`a hostile trade was emitted: ${JSON.stringify(hit)}`);
}

// ─── Binance frames ───────────────────────────────────────────────────────────────────────────

/** A trade id above every real one: were such a frame accepted, the stream would dedupe every later trade. */
const HOSTILE_ID = 9_000_000_000_000;

function trade(stream: string, data: Record<string, unknown>): string {
  const now = Date.now();
  return JSON.stringify({
    stream,
    data: { e: 'trade', E: now, s: 'BTCUSDT', t: HOSTILE_ID, p: '100.5', q: '0.1', T: now, m: true, M: true, ...data },
  });
}

function deep(n: number): string {
  return '['.repeat(n) + ']'.repeat(n);
}

async function rawRow(
  rig: Rig,
  frames: readonly RawFrame[],
  want: { main: number; other: number },
  opts?: RawFrameOptions,
): Promise<Mark> {
  const m = mark(rig);
  rig.sim.faults.raw(frames, opts);
  await framesArrived(rig, m, frames.length);
  await expectSkipped(rig, m, want);
  return m;
}

/** A depth update that follows the consumer's book exactly, with `levels` as its bids. */
function depthAfter(rig: Rig, stream: string, bids: unknown[]): string {
  const seq = rig.engine.book(rig.venue, rig.canary.book)?.seq ?? 0;
  return JSON.stringify({
    stream,
    data: { e: 'depthUpdate', E: Date.now(), s: 'BNBUSDT', U: seq + 1, u: seq + 1, b: bids, a: [] },
  });
}

/** A hostile frame for a subscribed book: skipped, and the book resyncs (it may have missed an update). */
async function bookRow(rig: Rig, frame: () => string): Promise<void> {
  await bookSynced(rig);
  const m = mark(rig);
  rig.sim.faults.raw([frame()]);
  await framesArrived(rig, m);
  await waitFor(() => statusesSince(rig, m, 'resync', rig.canary.book).length > 0, `resync of ${rig.canary.book}`);
  await waitFor(() => statusesSince(rig, m, 'synced', rig.canary.book).length > 0, `${rig.canary.book} synced again`);
  await expectSkipped(rig, m, { main: 1, other: 0 });
  const negative = rig.engine.book(rig.venue, rig.canary.book)?.levels('bids').find(([p, q]) => p < 0 || q < 0);
  if (negative) throw new Error(`the hostile level reached the book: ${negative}`);
}

/** An engine of its own with a 300 ms stale timeout, on the rig's simulator. */
async function withStaleEngine(rig: Rig, body: (r: Rig) => Promise<void>): Promise<void> {
  const own = startRig(rig.venue, rig.sim, rig.canary, { staleTimeoutMs: 300 });
  try {
    await ready(own);
    await body(own);
  } finally {
    await own.engine.close();
  }
}

/** The feed stops (the stall fault) while `keepAlive` goes on every 20 ms: each connection must go stale and reconnect. */
async function staleUnder(rig: Rig, keepAlive: () => void): Promise<void> {
  const m = mark(rig);
  const staleIds = new Set<number>();
  const onState = (s: { state: string; connectionId: number }) => {
    if (s.state === 'stale') staleIds.add(s.connectionId);
  };
  rig.engine.on('state', onState);
  rig.sim.faults.stall(1500, { mode: 'drop' });
  const timer = setInterval(keepAlive, 20);
  try {
    await waitFor(() => staleIds.size >= 2, "the 'stale' state on both connections", 3000);
  } finally {
    clearInterval(timer);
    rig.engine.off('state', onState);
    rig.sim.faults.stall(0);
  }
  // The state change crosses by MessagePort, the status record by the ring: either may come first.
  await waitFor(() => statusesSince(rig, m, 'stale').length >= 2, 'a stale status record per connection', 3000);
  await waitFor(() => {
    const { main, other } = connections(rig);
    return main.reconnects > m.reconnects.main && other.reconnects > m.reconnects.other;
  }, 'both connections reconnected after going stale');
  await canaryDelivers(rig, m);
}

const group = 'frames' as const;

const binanceRows: BadInputRow[] = [
  {
    group,
    input: 'binance: truncated JSON frame',
    expect: 'skipped on both sockets: badMessages +1 each, a badMessage status record each; no reconnect',
    run: async () => {
      await rawRow(await binance(), ['{"stream":"btcusdt@trade","data":{"e":"trade","t":'], { main: 1, other: 1 });
    },
  },
  {
    group,
    input: 'binance: empty text frame',
    expect: 'skipped on both sockets: badMessages +1 each',
    run: async () => {
      await rawRow(await binance(), [''], { main: 1, other: 1 });
    },
  },
  {
    group,
    input: 'binance: JSON null, 42 and "text" at the top level',
    expect: 'each skipped as not an object: badMessages +3 on both sockets',
    run: async () => {
      await rawRow(await binance(), ['null', '42', '"text"'], { main: 3, other: 3 });
    },
  },
  {
    group,
    input: 'binance: binary frame holding a valid trade',
    expect: 'skipped (binary where text is expected): badMessages +1 each, the trade is not emitted',
    run: async () => {
      const rig = await binance();
      const m = await rawRow(rig, [Buffer.from(trade('btcusdt@trade', {}))], { main: 1, other: 1 }, { opcode: 'binary' });
      noTradeWith(rig, m, (t) => t.seq === HOSTILE_ID);
    },
  },
  {
    group,
    input: 'binance: invalid UTF-8 in a text frame',
    expect: 'the ws client fails the socket with 1007 (RFC 6455): disconnected detail 1007 on both, reconnect',
    run: async () => {
      const rig = await binance();
      const m = mark(rig);
      rig.sim.faults.raw([Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])]);
      await expectFailedWith(rig, m, 1007, /invalid UTF-8/i);
    },
  },
  {
    group,
    input: 'binance: a 10 MB text frame (limits.maxFrameBytes is 4 MB)',
    expect: 'socket closed with 1009 (disconnected detail 1009, reason too-large) and reconnected, both sockets',
    run: async () => {
      const rig = await binance();
      const m = mark(rig);
      rig.sim.faults.raw([`{"stream":"btcusdt@trade","data":"${'x'.repeat(10 * 1024 * 1024)}"}`]);
      await expectFailedWith(rig, m, 1009, /too-large/);
    },
  },
  {
    group,
    input: 'binance: arrays nested 100 000 deep, at the top level and as a trade field',
    expect: 'top level: skipped on both (+1 each); as the trade id: skipped on the btcusdt socket (+1), ignored on the other (not its stream)',
    run: async () => {
      const rig = await binance();
      const nested = deep(100_000);
      await rawRow(rig, [nested, `{"stream":"btcusdt@trade","data":{"e":"trade","t":${nested}}}`], { main: 2, other: 1 });
      const logged = rig.logs.filter((l) => l.msg === 'bad frame skipped').slice(-2);
      for (const l of logged) {
        if (String(l.problem).length > 400) throw new Error(`problem logged in ${String(l.problem).length} chars`);
      }
    },
  },
  {
    group,
    input: 'binance: numbers as 1e999 (trade id, price)',
    expect: 'both trades skipped (non-finite): badMessages +2 on the btcusdt socket, nothing emitted',
    run: async () => {
      const rig = await binance();
      const frames = [
        trade('btcusdt@trade', { t: '__ID__' }).replace('"__ID__"', '1e999'),
        trade('btcusdt@trade', { p: '__P__' }).replace('"__P__"', '1e999'),
      ];
      const m = await rawRow(rig, frames, { main: 2, other: 0 });
      noTradeWith(rig, m, (t) => !Number.isFinite(t.price) || t.seq === HOSTILE_ID);
    },
  },
  {
    group,
    input: 'binance: trades with a negative price and a negative amount',
    expect: 'both skipped: badMessages +2 on the btcusdt socket, no trade with a negative price or amount',
    run: async () => {
      const rig = await binance();
      const m = await rawRow(rig, [trade('btcusdt@trade', { p: '-100.5' }), trade('btcusdt@trade', { q: '-0.1' })], {
        main: 2,
        other: 0,
      });
      noTradeWith(rig, m, (t) => t.price < 0 || t.amount < 0 || t.seq === HOSTILE_ID);
    },
  },
  {
    group,
    input: 'binance: depth update (next in sequence) with a negative bid price',
    expect: 'skipped (+1 bad message) and BNB/USDT resyncs: resync then synced status; the level never reaches the book',
    run: async () => {
      const rig = await binance();
      await bookRow(rig, () => depthAfter(rig, 'bnbusdt@depth@100ms', [['-5.00', '1.0']]));
    },
  },
  {
    group,
    input: 'binance: depth update (next in sequence) with a negative amount',
    expect: 'skipped (+1 bad message) and BNB/USDT resyncs: resync then synced status',
    run: async () => {
      const rig = await binance();
      await bookRow(rig, () => depthAfter(rig, 'bnbusdt@depth@100ms', [['5.00', '-1.0']]));
    },
  },
  {
    group,
    input: 'binance: unknown stream names (dogeusdt@trade, btcusdt@weird) and an unknown event type',
    expect: 'frames of streams not subscribed are ignored (not bad: Binance may still send a stream just left); the unknown event type is skipped on both (+1 each)',
    run: async () => {
      const rig = await binance();
      const m = await rawRow(
        rig,
        [
          trade('dogeusdt@trade', { s: 'DOGEUSDT' }),
          '{"stream":"btcusdt@weird","data":{"x":1}}',
          '{"e":"weirdEvent","E":1,"s":"BTCUSDT"}',
        ],
        { main: 1, other: 1 },
      );
      noRecordFor(rig, m, 'DOGE/USDT');
    },
  },
  {
    group,
    input: 'binance: depth update for XRPUSDT, never subscribed',
    expect: 'ignored: no XRP/USDT record, no bad message, no resync',
    run: async () => {
      const rig = await binance();
      const frame = JSON.stringify({
        stream: 'xrpusdt@depth@100ms',
        data: { e: 'depthUpdate', E: Date.now(), s: 'XRPUSDT', U: 1, u: 2, b: [['0.5', '10']], a: [['0.6', '10']] },
      });
      const m = await rawRow(rig, [frame], { main: 0, other: 0 });
      noRecordFor(rig, m, 'XRP/USDT');
      if (since(rig, m).some((r) => r.type === 'status' && r.status === 'resync')) throw new Error('a resync');
    },
  },
  {
    group,
    input: 'binance: __proto__ / constructor keys (as payload keys, as stream name, at the top level)',
    expect: 'the trade with its fields under __proto__ is skipped (+1 on btcusdt socket); stream "__proto__" ignored; top-level __proto__ skipped (+1 each); no prototype is touched',
    run: async () => {
      const rig = await binance();
      const now = Date.now();
      const frames = [
        `{"stream":"btcusdt@trade","data":{"__proto__":{"e":"trade","t":${HOSTILE_ID},"p":"1","q":"1","T":${now},"m":true},"constructor":{"prototype":{"polluted":1}}}}`,
        '{"stream":"__proto__","data":{"constructor":{}}}',
        '{"__proto__":{"stream":"btcusdt@trade","polluted":1},"constructor":{"prototype":{"polluted":1}}}',
      ];
      const m = await rawRow(rig, frames, { main: 2, other: 1 });
      noTradeWith(rig, m, (t) => t.seq === HOSTILE_ID);
      if ('polluted' in Object.prototype) throw new Error('Object.prototype was polluted');
    },
  },
  {
    group,
    input: 'binance: trade whose price is a 1 MB string of digits',
    expect: 'skipped (not a finite number): +1 on the btcusdt socket; the log line quotes at most a preview of it',
    run: async () => {
      const rig = await binance();
      const before = rig.logs.length;
      await rawRow(rig, [trade('btcusdt@trade', { p: '9'.repeat(1024 * 1024) })], { main: 1, other: 0 });
      const lines = rig.logs.slice(before).filter((l) => l.msg === 'bad frame skipped');
      const longest = Math.max(...lines.map((l) => JSON.stringify(l).length));
      if (lines.length === 0 || longest > 2000) throw new Error(`bad-frame log line of ${longest} chars`);
    },
  },
];

// ─── Kraken frames ────────────────────────────────────────────────────────────────────────────

const krakenRows: BadInputRow[] = [
  {
    group,
    input: 'kraken: trade with a negative price',
    expect: 'skipped: +1 bad message on the BTC/USD socket, no trade with a negative price',
    run: async () => {
      const rig = await kraken();
      const frame = JSON.stringify({
        channel: 'trade',
        type: 'update',
        data: [
          { symbol: 'BTC/USD', side: 'buy', price: -5, qty: 1, ord_type: 'market', trade_id: HOSTILE_ID, timestamp: new Date().toISOString() },
        ],
      });
      const m = await rawRow(rig, [frame], { main: 1, other: 0 });
      noTradeWith(rig, m, (t) => t.price < 0 || t.seq === HOSTILE_ID);
    },
  },
  {
    group,
    input: 'kraken: book update with a negative bid price',
    expect: 'skipped (+1 bad message) and ETH/USD resyncs: resync then synced status',
    run: async () => {
      const rig = await kraken();
      const frame = () => JSON.stringify({
        channel: 'book',
        type: 'update',
        data: [{ symbol: 'ETH/USD', bids: [{ price: -5, qty: 1 }], asks: [], checksum: 0, timestamp: new Date().toISOString() }],
      });
      await bookRow(rig, frame);
    },
  },
];

/** Rows that stall a simulator's feed (its books then resync): last, so no other row sees that. */
const staleRows: BadInputRow[] = [
  {
    group,
    input: 'binance: endless WebSocket pings, no data (limits.staleTimeoutMs 300)',
    expect: 'pings are answered, yet both sockets go stale (stale status + state) and reconnect; data resumes',
    run: async () => {
      const rig = await binance();
      await withStaleEngine(rig, (own) => staleUnder(own, () => own.sim.faults.raw(['hb'], { opcode: 'ping' })));
    },
  },
  {
    group,
    input: 'kraken: endless app-level heartbeats, no data (limits.staleTimeoutMs 300)',
    expect: 'heartbeats are not data: both sockets go stale and reconnect; data resumes',
    run: async () => {
      const rig = await kraken();
      await withStaleEngine(rig, (own) => staleUnder(own, () => own.sim.faults.raw(['{"channel":"heartbeat"}'])));
    },
  },
];

export const rows: BadInputRow[] = [...binanceRows, ...krakenRows, ...staleRows];
