import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionState } from '../src/index.js';
import type { MarketRecord, TradeRecord } from '../src/records/types.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { engineFor, type Harness, statuses } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT'];

let sim: Simulator | undefined;
let harness: Harness | undefined;

afterEach(async () => {
  await harness?.engine.close();
  await sim?.close();
  harness = undefined;
  sim = undefined;
});

function count(records: MarketRecord[], type: string, symbol?: string): number {
  return records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol)).length;
}

function states(h: Harness): ConnectionState[] {
  const seen: ConnectionState[] = [];
  h.engine.on('state', (c) => seen.push(c.state));
  return seen;
}

describe('engine against the simulator (real workers)', () => {
  it('streams trades, quotes, books and candles for every symbol, in order', async () => {
    sim = await startSimulator({ seed: 7, ratePerStream: 40 });
    harness = engineFor(sim);
    const { engine, records } = harness;
    engine.subscribe({ exchange: 'binance', channels: ['trades', 'quotes', 'book', 'candles'], symbols: SYMBOLS });
    await waitFor(
      () => SYMBOLS.every((s) => ['trade', 'quote', 'book', 'candle'].every((t) => count(records, t, s) >= 5)),
      'five records of every type for every symbol',
    );
    for (const symbol of SYMBOLS) {
      const books = records.filter((r) => r.type === 'book' && r.symbol === symbol);
      expect(books[0]).toMatchObject({ snapshot: true });
      expect(statuses(records, symbol)).toContain('synced');
      const trades = records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
      for (let i = 1; i < trades.length; i++) expect(trades[i]!.seq).toBe(trades[i - 1]!.seq + 1);
      expect(trades[0]).toMatchObject({ exchange: 'binance', symbol });
      expect(trades[0]!.price).toBeGreaterThan(0);
      expect(['buy', 'sell']).toContain(trades[0]!.side);
    }
    const stats = engine.stats();
    expect(stats.streams).toBe(8);
    expect(stats.integrityErrors).toBe(0);
    expect(stats.gaps).toBe(0);
    expect(stats.latencyUs.recvToConsume.count).toBe(stats.messages);
    expect(stats.latencyUs.recvToConsume.p50).toBeGreaterThan(0);
    expect(stats.perStream.find((s) => s.symbol === 'BTC/USDT' && s.channel === 'trades')!.messages).toBeGreaterThan(0);
    // streamSeq is consecutive over the whole connection.
    expect(records.map((r) => r.streamSeq)).toEqual(records.map((_, i) => i));
  });

  it('subscribes and unsubscribes at run time', async () => {
    sim = await startSimulator({ seed: 8, ratePerStream: 40 });
    harness = engineFor(sim);
    const { engine, records } = harness;
    engine.subscribe({ exchange: 'binance', channels: ['quotes'], symbols: ['BTC/USDT'] });
    await waitFor(() => count(records, 'quote', 'BTC/USDT') > 3, 'BTC quotes');
    const eth = engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['ETH/USDT'] });
    await waitFor(() => count(records, 'trade', 'ETH/USDT') > 3, 'ETH trades after a run-time subscribe');
    expect(engine.stats().connections).toHaveLength(1);
    eth.unsubscribe();
    await waitFor(() => sim!.stats().subscriptions === 1, 'the simulator to see the unsubscribe');
    const after = count(records, 'trade', 'ETH/USDT');
    const quotes = count(records, 'quote', 'BTC/USDT');
    await waitFor(() => count(records, 'quote', 'BTC/USDT') > quotes + 10, 'more BTC quotes');
    expect(count(records, 'trade', 'ETH/USDT')).toBe(after);
  });

  it('reconnects after the server closes and resubscribes everything', async () => {
    sim = await startSimulator({ seed: 9, ratePerStream: 40 });
    harness = engineFor(sim);
    const { engine, records } = harness;
    const seen = states(harness);
    engine.subscribe({ exchange: 'binance', channels: ['trades', 'book'], symbols: SYMBOLS });
    await waitFor(() => statuses(records).filter((s) => s === 'synced').length === 2, 'both books synced');
    sim.faults.closeAll(1001);
    await waitFor(() => statuses(records).includes('disconnected'), 'a disconnected status record');
    const mark = records.length;
    await waitFor(
      () => SYMBOLS.every((s) => count(records.slice(mark), 'trade', s) > 2 && count(records.slice(mark), 'book', s) > 2),
      'trades and books for every symbol after the reconnect',
    );
    const later = statuses(records.slice(mark));
    expect(later[0]).toBe('connected');
    expect(later.filter((s) => s === 'synced')).toHaveLength(2);
    const resnapshots = records.slice(mark).filter((r) => r.type === 'book' && r.snapshot);
    expect(resnapshots.map((r) => r.symbol).sort()).toEqual([...SYMBOLS].sort());
    expect(seen).toEqual(expect.arrayContaining(['connected', 'reconnecting', 'connecting']));
    expect(engine.stats().reconnects).toBe(1);
  });

  it('detects a stalled stream (socket open, no data) and recovers', async () => {
    sim = await startSimulator({ seed: 10, ratePerStream: 50 });
    harness = engineFor(sim, { limits: { staleTimeoutMs: 300 } });
    const { engine, records } = harness;
    const seen = states(harness);
    engine.subscribe({ exchange: 'binance', channels: ['quotes'], symbols: SYMBOLS });
    await waitFor(() => count(records, 'quote') > 5, 'quotes');
    sim.faults.stall(800);
    await waitFor(() => seen.includes('stale'), 'the stale state');
    expect(statuses(records)).toContain('stale');
    const mark = records.length;
    await waitFor(() => count(records.slice(mark), 'quote') > 5, 'quotes after the stall');
    expect(seen.lastIndexOf('connected')).toBeGreaterThan(seen.indexOf('stale'));
  });

  it('resyncs only the symbol whose depth stream has a gap, and its book matches the simulator', async () => {
    sim = await startSimulator({ seed: 11, ratePerStream: 30 });
    harness = engineFor(sim);
    const { engine, records } = harness;
    engine.subscribe({ exchange: 'binance', channels: ['book'], symbols: SYMBOLS });
    await waitFor(() => statuses(records).filter((s) => s === 'synced').length === 2, 'both books synced');
    sim.faults.gap('BTCUSDT');
    await waitFor(() => statuses(records, 'BTC/USDT').filter((s) => s === 'synced').length === 2, 'BTC resynced');
    expect(statuses(records, 'BTC/USDT')).toContain('resync');
    expect(statuses(records, 'ETH/USDT')).toEqual(['synced']);
    expect(engine.stats().resyncs).toBe(1);
    expect(engine.stats().gaps).toBe(1);

    // Rebuild the book from the records and compare with the simulator's at the same update id.
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    let lastSeq = 0;
    let applied = 0;
    const apply = () => {
      for (; applied < records.length; applied++) {
        const r = records[applied]!;
        if (r.type !== 'book' || r.symbol !== 'BTC/USDT') continue;
        if (r.snapshot) {
          bids.clear();
          asks.clear();
        }
        for (const [p, q] of r.bids) q === 0 ? bids.delete(p) : bids.set(p, q);
        for (const [p, q] of r.asks) q === 0 ? asks.delete(p) : asks.set(p, q);
        lastSeq = r.seq;
      }
    };
    await waitFor(() => {
      apply();
      return lastSeq === sim!.book('BTCUSDT').lastUpdateId;
    }, 'our BTC book to reach the simulator update id');
    const truth = sim.book('BTCUSDT');
    const top = (m: Map<number, number>, desc: boolean) =>
      [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, 20);
    expect(top(bids, true)).toEqual(truth.bids.slice(0, 20));
    expect(top(asks, false)).toEqual(truth.asks.slice(0, 20));

    // engine.book() keeps the same book on the consumer thread.
    const live = engine.book('binance', 'BTC/USDT')!;
    await waitFor(() => live.seq === sim!.book('BTCUSDT').lastUpdateId, 'engine.book() at the simulator update id');
    const now = sim.book('BTCUSDT');
    expect(live.synced).toBe(true);
    expect(live.levels('bids', 20)).toEqual(now.bids.slice(0, 20));
    expect(live.levels('asks', 20)).toEqual(now.asks.slice(0, 20));
    expect(live.bestBid()).toBe(now.bids[0]![0]);
    expect(live.bestAsk()).toBe(now.asks[0]![0]);
    expect(engine.book('binance', 'DOGE/USDT')).toBeUndefined();
  });

  it('skips a malformed frame with a clear logged error and keeps streaming', async () => {
    sim = await startSimulator({ seed: 12, ratePerStream: 40 });
    harness = engineFor(sim);
    const { engine, records, logs } = harness;
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => count(records, 'trade') > 3, 'trades');
    sim.faults.malformed(3);
    await waitFor(() => engine.stats().badMessages === 3, 'three bad messages counted');
    const mark = records.length;
    await waitFor(() => count(records.slice(mark), 'trade') > 3, 'trades after the bad frames');
    const warnings = logs.filter((l) => l.msg === 'bad frame skipped');
    expect(warnings).toHaveLength(3);
    expect(String(warnings[0]!.problem)).toMatch(/binance/i);
    expect(warnings[0]).toMatchObject({ exchange: 'binance', connectionId: 1 });
    expect(statuses(records).filter((s) => s === 'badMessage')).toHaveLength(3);
    expect(engine.stats().reconnects).toBe(0);
  });

  it('rotates before the venue connection age limit without a gap', async () => {
    sim = await startSimulator({ seed: 13, ratePerStream: 60, maxConnectionAgeMs: 2500 });
    harness = engineFor(sim, { limits: { rotateAfterMs: 1000 } });
    const { engine, records } = harness;
    engine.subscribe({ exchange: 'binance', channels: ['trades', 'book'], symbols: SYMBOLS });
    await waitFor(() => statuses(records).filter((s) => s === 'rotating').length >= 2, 'two planned rotations', 15_000);
    await waitFor(() => count(records, 'trade', 'BTC/USDT') > 50, 'more trades');
    for (const symbol of SYMBOLS) {
      const trades = records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
      for (let i = 1; i < trades.length; i++) expect(trades[i]!.seq - trades[i - 1]!.seq).toBe(1);
    }
    expect(statuses(records)).not.toContain('disconnected');
    expect(statuses(records)).not.toContain('resync');
    expect(engine.stats().reconnects).toBe(0);
  });

  it('refuses bad subscriptions with clear errors and keeps running', async () => {
    sim = await startSimulator({ seed: 14 });
    harness = engineFor(sim);
    const { engine } = harness;
    expect(() => engine.subscribe({ exchange: 'nope', channels: ['trades'], symbols: ['BTC/USDT'] })).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_VENUE', message: expect.stringContaining('nope') }),
    );
    expect(() => engine.subscribe({ exchange: 'binance', channels: ['funding' as never], symbols: ['BTC/USDT'] })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_CHANNEL', message: expect.stringContaining('funding') }),
    );
    expect(() => engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['btcusdt'] })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_SYMBOL', message: expect.stringContaining('btcusdt') }),
    );
    expect(engine.stats().connections).toHaveLength(0);
  });
});

describe('supervisor against a venue that refuses connections', () => {
  it('backs off, opens the circuit after repeated failures, then recovers on a trial', async () => {
    sim = await startSimulator({ seed: 15, ratePerStream: 40 });
    sim.faults.rejectConnections(true);
    harness = engineFor(sim, {
      backoff: { initialDelayMs: 10, maxDelayMs: 40, multiplier: 2 },
      circuitBreaker: { failureThreshold: 3, openMs: 400 },
    });
    const { engine, records } = harness;
    const changes: Array<{ state: string; delayMs: number; reason: string }> = [];
    engine.on('state', (c) => changes.push(c));
    engine.subscribe({ exchange: 'binance', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => changes.some((c) => c.state === 'failed'), 'the circuit to open');
    const failed = changes.find((c) => c.state === 'failed')!;
    expect(failed.reason).toMatch(/HTTP 503/);
    expect(failed.delayMs).toBeGreaterThan(300);
    // Before the circuit opened: exactly threshold − 1 backoff waits, each within the cap.
    const retries = changes.slice(0, changes.indexOf(failed)).filter((c) => c.state === 'reconnecting');
    expect(retries).toHaveLength(2);
    for (const r of retries) expect(r.delayMs).toBeLessThanOrEqual(40);
    sim.faults.rejectConnections(false);
    await waitFor(() => count(records, 'trade') > 3, 'trades once the venue accepts again');
    expect(changes.at(-1)!.state).toBe('connected');
  });
});
