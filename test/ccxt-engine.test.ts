import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { EngineOptions } from '../src/engine/options.js';
import type { BookRecord, MarketRecord, TradeRecord } from '../src/records/types.js';
import type { CcxtFront } from '../src/simulator/ccxt/front.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { booksAfterEach } from './helpers/books.js';
import { binanceFront } from './helpers/ccxt.js';
import { captureLogger, statuses } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

let sim: Simulator | undefined;
let front: CcxtFront | undefined;
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  await front?.close();
  await sim?.close();
  engine = undefined;
  front = undefined;
  sim = undefined;
});

interface Run {
  readonly engine: Engine;
  readonly records: MarketRecord[];
  readonly logs: Array<Record<string, unknown>>;
}

async function ccxtBinance(options: EngineOptions = {}, simOpts = {}): Promise<Run> {
  sim = await startSimulator({ seed: 11, ratePerStream: 40, ...simOpts });
  front = await binanceFront(sim);
  const logs: Array<Record<string, unknown>> = [];
  engine = createEngine({
    threads: 1,
    ...options,
    logger: captureLogger(logs),
    venues: { 'ccxt:binance': { wsUrl: front.wsUrl, restUrl: front.restUrl } },
    backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
  });
  const records: MarketRecord[] = [];
  engine.onRecord((r) => records.push(r));
  return { engine, records, logs };
}

function count(records: MarketRecord[], type: string, symbol?: string): number {
  return records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol)).length;
}

describe("ccxt's binance against the simulator, through the ccxt worker", () => {
  it('streams trades, books, tickers, candles and quotes as records', async () => {
    const { engine, records } = await ccxtBinance();
    const symbols = ['BTC/USDT', 'ETH/USDT'];
    engine.subscribe({ exchange: 'ccxt:binance', channels: ['trades', 'book', 'ticker', 'candles', 'quotes'], symbols });
    await waitFor(
      () => symbols.every((s) => ['trade', 'book', 'quote', 'ticker', 'candle'].every((t) => count(records, t, s) >= 2)),
      'records of every type for every symbol',
    );
    for (const symbol of symbols) {
      const trades = records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
      // Trade ids from the simulator are consecutive: no duplicate, no gap.
      for (let i = 1; i < trades.length; i++) expect(trades[i]!.seq).toBe(trades[i - 1]!.seq + 1);
      expect(trades[0]).toMatchObject({ exchange: 'ccxt:binance', symbol });
      const books = records.filter((r): r is BookRecord => r.type === 'book' && r.symbol === symbol);
      expect(books[0]!.snapshot).toBe(true);
      expect(books.slice(1).every((b) => !b.snapshot)).toBe(true);
      expect(statuses(records, symbol)).toContain('synced');
      const { bids, asks } = booksAfterEach(books).at(-1)!;
      expect(bids[0]![0]).toBeLessThan(asks[0]![0]);
    }
    const stats = engine.stats();
    expect(stats.connections).toHaveLength(1);
    expect(stats.connections[0]).toMatchObject({ exchange: 'ccxt:binance', state: 'connected', badMessages: 0 });
    expect(stats.connections[0]!.frames).toBeGreaterThan(0);
    expect(stats.integrityErrors).toBe(0);
    expect(front!.requests).toContain('/api/v3/exchangeInfo');
  });

  it('reports an unknown symbol and keeps streaming the others', async () => {
    const { engine, records, logs } = await ccxtBinance();
    engine.subscribe({ exchange: 'ccxt:binance', channels: ['trades'], symbols: ['BTC/USDT', 'NOPE/USDT'] });
    await waitFor(() => count(records, 'trade', 'BTC/USDT') >= 5, 'BTC trades');
    expect(logs.some((l) => String(l.msg).includes('unknown symbol NOPE/USDT'))).toBe(true);
    expect(engine.stats().connections[0]!.state).toBe('connected');
  });

  it('reconnects after the server drops every connection and resubscribes', async () => {
    const { engine, records } = await ccxtBinance();
    engine.subscribe({ exchange: 'ccxt:binance', channels: ['trades', 'book'], symbols: ['BTC/USDT'] });
    await waitFor(() => count(records, 'trade') >= 3 && count(records, 'book') >= 3, 'data before the drop');
    sim!.faults.closeAll(1001, 'restart');
    await waitFor(() => statuses(records).includes('disconnected'), 'a disconnected status');
    const at = records.length;
    await waitFor(
      () => count(records.slice(at), 'trade') >= 3 && records.slice(at).some((r) => r.type === 'book' && r.snapshot),
      'trades and a fresh book snapshot after reconnecting',
    );
    expect(engine.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('applies limits.maxFrameBytes to ccxt sockets too: a larger frame ends the socket', async () => {
    // Every simulator frame is larger than 64 bytes: nothing may get through, each socket ends.
    const { engine, records } = await ccxtBinance({ limits: { maxFrameBytes: 64 } });
    const reasons: string[] = [];
    engine.on('state', (c: { state: string; reason: string }) => {
      if (c.state === 'reconnecting') reasons.push(c.reason);
    });
    engine.subscribe({ exchange: 'ccxt:binance', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => reasons.length >= 2, 'two reconnects', 15_000);
    expect(reasons[0]).toMatch(/max payload|1009|too big/i);
    expect(count(records, 'trade')).toBe(0);
  });

  it('ends a stalled connection (stale watchdog) and recovers', async () => {
    const { engine, records } = await ccxtBinance({ limits: { staleTimeoutMs: 400 } });
    const seen: string[] = [];
    engine.on('state', (c: { state: string }) => seen.push(c.state));
    engine.subscribe({ exchange: 'ccxt:binance', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => count(records, 'trade') >= 3, 'trades before the stall');
    sim!.faults.stall(1500, { mode: 'drop' });
    await waitFor(() => statuses(records).includes('stale'), 'a stale status record');
    expect(seen).toContain('stale');
    const at = records.length;
    await waitFor(() => count(records.slice(at), 'trade') >= 3, 'trades after the stall', 15_000);
  });
});
