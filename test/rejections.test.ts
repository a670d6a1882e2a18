/**
 * A subscription the venue refuses is named (ERR_BAD_SYMBOL event + `rejected` status record),
 * dropped for good, and leaves the other symbols of the same connection flowing: real workers
 * against every native venue's simulator.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { SubscriptionRejection } from '../src/engine/events.js';
import { RecordType } from '../src/records/types.js';
import type { CcxtFront } from '../src/simulator/ccxt/front.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { binanceFront } from './helpers/ccxt.js';
import { captureLogger } from './helpers/engine.js';
import { expectBadSymbolRejected, REJECTION_CASES, type RejectionRun, startRejectionRun } from './helpers/rejection-rig.js';
import { waitFor } from './helpers/wait.js';

let run: RejectionRun | undefined;
let engine: Engine | undefined;
let sim: Simulator | undefined;
let closeServer: (() => Promise<void>) | undefined;
let front: CcxtFront | undefined;

afterEach(async () => {
  await run?.close();
  await engine?.close();
  await sim?.close();
  await closeServer?.();
  closeServer = undefined;
  await front?.close();
  front = undefined;
  run = undefined;
  engine = undefined;
  sim = undefined;
});

const RECORD_TYPE_OF: Record<string, number> = { trades: RecordType.trade, book: RecordType.book, quotes: RecordType.quote };

describe.each(REJECTION_CASES)('$venue: an unknown symbol next to a listed one', (c) => {
  it(`rejects ${c.bad} with ERR_BAD_SYMBOL, keeps ${c.good} flowing, never resubscribes it`, async () => {
    run = await startRejectionRun(c);
    await expectBadSymbolRejected(run, c);
    const statuses = run.rejectedStatuses(c.bad);
    expect(statuses.map((s) => s.detail).sort()).toEqual(c.channels.map((ch) => RECORD_TYPE_OF[ch]).sort());
    expect(run.logs.some((l) => l.level === 40 && String(l.msg).includes(c.bad))).toBe(true);

    // A forced reconnect resubscribes the good symbol only.
    const mark = run.logs.length;
    run.sim.faults.closeAll(1001, 'restart');
    await waitFor(() => run!.engine.stats().reconnects >= 1, 'a reconnect');
    const before = run.data(c.good);
    await waitFor(() => run!.data(c.good) >= before + 5, `${c.good} after the reconnect`);
    // FOO/BAR, FOOBAR, FOO-BAR, foobar@trade: any sign that it was asked for again.
    const mentions = run.logs.slice(mark).filter((l) => /FOO.?BAR/i.test(JSON.stringify(l)));
    expect(mentions, `log lines mentioning ${c.bad} after the reconnect`).toEqual([]);
    expect(run.rejections).toHaveLength(c.channels.length);
    expect(run.engine.stats().connections[0]!.streams).toBe(c.channels.length);
  });
});

describe('a connection whose every stream is refused', () => {
  it('ends cleanly (closed, no reconnect loop) and a later subscribe still works', async () => {
    sim = await startSimulator({ seed: 5, ratePerStream: 80 });
    const logs: Array<Record<string, unknown>> = [];
    engine = createEngine({
      threads: 1,
      logger: captureLogger(logs),
      venues: { binance: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
      backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
    });
    const rejections: SubscriptionRejection[] = [];
    const states: string[] = [];
    engine.on('rejected', (r: SubscriptionRejection) => rejections.push(r));
    engine.on('state', (s: { state: string }) => states.push(s.state));
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['FOO/BAR'] });
    await waitFor(() => rejections.length === 1 && states.includes('closed'), 'the rejection and the end of the connection');
    expect(rejections[0]).toMatchObject({ code: 'ERR_BAD_SYMBOL', symbol: 'FOO/BAR', channel: 'trades', exchange: 'binance' });
    expect(states).not.toContain('reconnecting');
    expect(engine.stats().connections).toHaveLength(0);
    expect(sim.stats().connections).toBe(0);

    let trades = 0;
    engine.onRecord((r) => {
      if (r.type === 'trade' && r.symbol === 'ETH/USDT') trades++;
    });
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['ETH/USDT'] });
    await waitFor(() => trades >= 3, 'ETH/USDT trades on a new connection');
    expect(engine.stats().reconnects).toBe(0);
  });
});

describe('binance without its instrument list', () => {
  it('a 400 on upgrade naming the symbol rejects it; the rest reconnects without it', async () => {
    sim = await startSimulator({ seed: 6, ratePerStream: 80 });
    const logs: Array<Record<string, unknown>> = [];
    // REST on a closed port: exchangeInfo cannot be had, so nothing is rejected up front.
    engine = createEngine({
      threads: 1,
      logger: captureLogger(logs),
      venues: { binance: { wsUrl: sim.wsUrl, restUrl: 'http://127.0.0.1:9' } },
      backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
    });
    const rejections: SubscriptionRejection[] = [];
    engine.on('rejected', (r: SubscriptionRejection) => rejections.push(r));
    let trades = 0;
    engine.onRecord((r) => {
      if (r.type === 'trade' && r.symbol === 'BTC/USDT') trades++;
    });
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT', 'FOO/BAR'] });
    await waitFor(() => rejections.length === 1 && trades >= 5, 'the rejection and BTC/USDT trades');
    expect(rejections[0]).toMatchObject({ code: 'ERR_BAD_SYMBOL', symbol: 'FOO/BAR', channel: 'trades' });
    expect(rejections[0]!.message).toMatch(/HTTP 400/);
    expect(logs.some((l) => String(l.msg).includes('instrument list unavailable'))).toBe(true);
    expect(logs.some((l) => l.msg === 'WebSocket upgrade refused' && l.status === 400)).toBe(true);
    expect(engine.stats().reconnects).toBe(1);
  });

  it('a live SUBSCRIBE refused for one stream rejects it and asks again for the others', async () => {
    sim = await startSimulator({ seed: 9, ratePerStream: 80 });
    engine = createEngine({
      threads: 1,
      logger: captureLogger([]),
      venues: { binance: { wsUrl: sim.wsUrl, restUrl: 'http://127.0.0.1:9' } },
      backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
    });
    const rejections: SubscriptionRejection[] = [];
    engine.on('rejected', (r: SubscriptionRejection) => rejections.push(r));
    const trades = new Map<string, number>();
    engine.onRecord((r) => {
      if (r.type === 'trade') trades.set(r.symbol, (trades.get(r.symbol) ?? 0) + 1);
    });
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => (trades.get('BTC/USDT') ?? 0) >= 3, 'BTC/USDT trades');
    // Same connection, live: one SUBSCRIBE with ethusdt@trade and foobar@trade; the simulator refuses it whole.
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['ETH/USDT', 'FOO/BAR'] });
    await waitFor(() => rejections.length === 1 && (trades.get('ETH/USDT') ?? 0) >= 3, 'the rejection and ETH/USDT trades');
    expect(rejections[0]).toMatchObject({ code: 'ERR_BAD_SYMBOL', symbol: 'FOO/BAR', channel: 'trades' });
    expect(rejections[0]!.message).toContain("'foobar@trade'");
    expect(engine.stats()).toMatchObject({ reconnects: 0, streams: 2 });
    expect(engine.stats().connections).toHaveLength(1);
  });

  it('repeated 400s that name no symbol refuse the whole set (ERR_SUBSCRIPTION_REJECTED), no endless loop', async () => {
    // A server that answers every upgrade with 400 and a body naming no stream.
    const server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 36\r\nConnection: close\r\n\r\n{"code":-1100,"msg":"Bad request."} ');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
    engine = createEngine({
      threads: 1,
      logger: captureLogger([]),
      venues: { binance: { wsUrl: `ws://127.0.0.1:${port}`, restUrl: 'http://127.0.0.1:9' } },
      backoff: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 2 },
    });
    const rejections: SubscriptionRejection[] = [];
    const states: string[] = [];
    engine.on('rejected', (r: SubscriptionRejection) => rejections.push(r));
    engine.on('state', (s: { state: string }) => states.push(s.state));
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => states.includes('closed'), 'the connection to end');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ code: 'ERR_SUBSCRIPTION_REJECTED', symbol: 'BTC/USDT' });
    expect(rejections[0]!.message).toMatch(/HTTP 400/);
    expect(states.filter((s) => s === 'reconnecting')).toHaveLength(2);
  });
});

describe('ccxt: a symbol not in the exchange markets', () => {
  it('is rejected (ERR_BAD_SYMBOL event + status), the other symbol streams, no restart', async () => {
    sim = await startSimulator({ seed: 8, ratePerStream: 60 });
    front = await binanceFront(sim);
    engine = createEngine({
      threads: 1,
      logger: captureLogger([]),
      venues: { 'ccxt:binance': { wsUrl: front.wsUrl, restUrl: front.restUrl } },
      backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
    });
    const rejections: SubscriptionRejection[] = [];
    engine.on('rejected', (r: SubscriptionRejection) => rejections.push(r));
    let trades = 0;
    let rejectedStatus = 0;
    engine.onRecord((r) => {
      if (r.type === 'trade' && r.symbol === 'BTC/USDT') trades++;
      if (r.type === 'status' && r.status === 'rejected' && r.symbol === 'FOO/BAR') rejectedStatus++;
    });
    engine.subscribe({ exchange: 'ccxt:binance', channels: ['trades'], symbols: ['BTC/USDT', 'FOO/BAR'] });
    await waitFor(() => rejections.length === 1 && rejectedStatus === 1 && trades >= 5, 'the rejection and BTC/USDT trades', 20_000);
    expect(rejections[0]).toMatchObject({ code: 'ERR_BAD_SYMBOL', symbol: 'FOO/BAR', channel: 'trades', exchange: 'ccxt:binance' });
    expect(rejections[0]!.message).toContain('FOO/BAR');
    expect(engine.stats()).toMatchObject({ reconnects: 0, streams: 1 });
  }, 30_000);
});

describe('ringfeed run with a symbol the venue does not list', () => {
  it('names it on stderr and exits 1 at once (not 0 with 0 messages after --seconds)', async () => {
    const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'run', '--symbols', 'FOO/BAR', '--seconds', '30', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^ringfeed: ERR_BAD_SYMBOL: binance: FOO\/BAR .*does not list FOOBAR$/m);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ streams: 0, messages: 0 });
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
