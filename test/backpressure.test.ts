import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import { createEngine } from '../src/engine/engine.js';
import type { MarketRecord, QuoteRecord, TradeRecord } from '../src/records/types.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { captureLogger } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT'];

let sim: Simulator | undefined;
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  await sim?.close();
  engine = undefined;
  sim = undefined;
});

/**
 * A slow consumer: an async iterator with a small buffer, read at most one record per
 * `delayMs` for `slowMs`, then as fast as possible until `until` holds.
 */
async function consumeSlowly(e: Engine, slowMs: number, until: (seen: MarketRecord[]) => boolean): Promise<MarketRecord[]> {
  const seen: MarketRecord[] = [];
  const slowUntil = Date.now() + slowMs;
  const deadline = Date.now() + slowMs + 15_000;
  for await (const r of e.records()) {
    seen.push(r);
    if (Date.now() < slowUntil) await sleep(1);
    else if (until(seen)) break;
    if (Date.now() > deadline) throw new Error('slow consumer did not finish in time');
  }
  return seen;
}

function tradesOf(records: MarketRecord[], symbol: string): TradeRecord[] {
  return records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
}

async function setup(policy: 'block' | 'drop' | 'conflate', channels: ('trades' | 'quotes')[]) {
  sim = await startSimulator({ seed: 21, ratePerStream: 1500 });
  engine = createEngine({
    threads: 1,
    ringBytes: 4096,
    iteratorHighWaterMark: 64,
    logger: captureLogger([], 'warn'),
    venues: { binance: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
  });
  engine.subscribe({ exchange: 'binance', channels, symbols: SYMBOLS, policy });
  return engine;
}

describe('backpressure under a slow consumer', () => {
  it('block: pauses the socket and loses nothing (every trade id, in order)', async () => {
    const e = await setup('block', ['trades']);
    const seen = await consumeSlowly(e, 1500, (s) => tradesOf(s, 'BTC/USDT').length > 3000);
    const stats = e.stats();
    expect(stats.connections[0]!.pauses).toBeGreaterThan(0);
    expect(stats.drops).toBe(0);
    expect(stats.integrityErrors).toBe(0);
    for (const symbol of SYMBOLS) {
      const trades = tradesOf(seen, symbol);
      expect(trades.length).toBeGreaterThan(100);
      const breaks = trades.filter((t, i) => i > 0 && t.seq !== trades[i - 1]!.seq + 1);
      expect(breaks).toEqual([]);
    }
  });

  it('drop: discards what does not fit and reports exactly how many', async () => {
    const e = await setup('drop', ['trades']);
    // Stop once every symbol has a trade after the last `dropped` report: then every dropped
    // trade lies between two received trades of its symbol and shows as a gap in trade ids.
    const seen = await consumeSlowly(e, 1500, (s) => {
      let lastReport = -1;
      for (let i = s.length - 1; i >= 0 && lastReport < 0; i--) {
        const r = s[i]!;
        if (r.type === 'status' && r.status === 'dropped') lastReport = i;
      }
      return lastReport >= 0 && SYMBOLS.every((sym) => tradesOf(s.slice(lastReport), sym).length > 0);
    });
    let missing = 0;
    for (const symbol of SYMBOLS) {
      const trades = tradesOf(seen, symbol);
      for (let i = 1; i < trades.length; i++) {
        expect(trades[i]!.seq).toBeGreaterThan(trades[i - 1]!.seq);
        missing += trades[i]!.seq - trades[i - 1]!.seq - 1;
      }
    }
    const reported = seen.reduce((n, r) => n + (r.type === 'status' && r.status === 'dropped' ? r.detail : 0), 0);
    expect(missing).toBeGreaterThan(0);
    expect(reported).toBe(missing);
    expect(e.stats().drops).toBeGreaterThanOrEqual(reported);
    expect(e.stats().connections[0]!.dropped).toBeGreaterThanOrEqual(reported);
  });

  it('conflate: keeps the latest quote per symbol and never goes backwards', async () => {
    const e = await setup('conflate', ['quotes']);
    const seen = await consumeSlowly(e, 1500, (s) => s.length > 3000);
    const stats = e.stats();
    expect(stats.conflated).toBeGreaterThan(0);
    expect(stats.drops).toBe(0);
    for (const symbol of SYMBOLS) {
      const quotes = seen.filter((r): r is QuoteRecord => r.type === 'quote' && r.symbol === symbol);
      expect(quotes.length).toBeGreaterThan(10);
      for (let i = 1; i < quotes.length; i++) expect(quotes[i]!.seq).toBeGreaterThan(quotes[i - 1]!.seq);
    }
  });
});

describe('worker pool', () => {
  it('a connection keeps streaming on a shared thread after another task there ends', async () => {
    sim = await startSimulator({ seed: 22, ratePerStream: 100 });
    engine = createEngine({
      threads: 1,
      connectionsPerThread: 4,
      logger: captureLogger([], 'warn'),
      venues: { binance: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
    });
    const e = engine;
    let btc = 0;
    e.onView((v) => {
      if (v.type === 'quote' && v.symbol === 'BTC/USDT') btc++;
    });
    e.subscribe({ exchange: 'binance', channels: ['quotes'], symbols: ['BTC/USDT'], policy: 'block' });
    const other = e.subscribe({ exchange: 'binance', channels: ['quotes'], symbols: ['ETH/USDT'], policy: 'drop' });
    await waitFor(() => e.stats().connections.every((c) => c.state === 'connected') && btc > 10, 'two connections');
    other.unsubscribe();
    await waitFor(() => e.stats().connections.length === 1 && sim!.stats().connections === 1, 'the second task to end');
    // The pool thread is now idle apart from the first connection: it must not be parked.
    const before = btc;
    await waitFor(() => btc > before + 50, 'BTC quotes to keep flowing on the shared thread', 5000);
    expect(e.stats().connections[0]!.reconnects).toBe(0);
  });

  it('replaces a crashed worker thread without touching connections on other threads', async () => {
    sim = await startSimulator({ seed: 23, ratePerStream: 100 });
    engine = createEngine({
      threads: 2,
      connectionsPerThread: 1,
      logger: captureLogger([], 'fatal'),
      venues: { binance: { wsUrl: sim.wsUrl, restUrl: sim.restUrl } },
      backoff: { initialDelayMs: 20, maxDelayMs: 100, multiplier: 2 },
    });
    const e = engine;
    const records: MarketRecord[] = [];
    e.onRecord((r) => records.push(r));
    e.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'], policy: 'block' });
    e.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['ETH/USDT'], policy: 'drop' });
    await waitFor(() => tradesOf(records, 'BTC/USDT').length > 5 && tradesOf(records, 'ETH/USDT').length > 5, 'both');
    const pool = (e as unknown as { pool: { threads: Array<{ terminate(): Promise<number> }> } }).pool;
    expect(pool.threads).toHaveLength(2);
    await pool.threads[0]!.terminate();
    await waitFor(() => e.stats().reconnects === 1, 'the crashed connection to be restarted');
    const mark = records.length;
    await waitFor(
      () => tradesOf(records.slice(mark), 'BTC/USDT').length > 5 && tradesOf(records.slice(mark), 'ETH/USDT').length > 5,
      'both symbols after the crash',
    );
    const conns = e.stats().connections;
    expect(conns.map((c) => c.reconnects).sort()).toEqual([0, 1]);
    // The untouched connection's trades never broke sequence.
    const untouched = conns.find((c) => c.reconnects === 0)!;
    const symbol = untouched.policy === 'block' ? 'BTC/USDT' : 'ETH/USDT';
    const trades = tradesOf(records, symbol);
    for (let i = 1; i < trades.length; i++) expect(trades[i]!.seq).toBe(trades[i - 1]!.seq + 1);
  });
});
