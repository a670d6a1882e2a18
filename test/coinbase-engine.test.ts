import { describe, expect, it } from 'vitest';
import type { BookRecord, MarketRecord, TradeRecord } from '../src/records/types.js';
import { type CoinbaseSimulator, startCoinbaseSimulator } from '../src/simulator/index.js';
import { statuses, venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const SYMBOLS = ['BTC/USD', 'ETH/USD'];

const rig = venueRig('coinbase');


const count = (records: MarketRecord[], type: string, symbol?: string): number =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol)).length;

/** Rebuild a symbol's book from its records (from the last snapshot on). */
function rebuilt(records: MarketRecord[], symbol: string) {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (const r of records) {
    if (r.type !== 'book' || r.symbol !== symbol) continue;
    if ((r as BookRecord).snapshot) {
      bids.clear();
      asks.clear();
    }
    for (const [p, q] of r.bids) q === 0 ? bids.delete(p) : bids.set(p, q);
    for (const [p, q] of r.asks) q === 0 ? asks.delete(p) : asks.set(p, q);
  }
  return {
    bids: [...bids].sort((a, b) => b[0] - a[0]),
    asks: [...asks].sort((a, b) => a[0] - b[0]),
  };
}

/** Our rebuilt book equals the simulator's published one (the market moves: poll until it does). */
async function booksAgree(records: MarketRecord[], s: CoinbaseSimulator, symbol: string): Promise<void> {
  let last = '';
  await waitFor(() => {
    const ours = rebuilt(records, symbol);
    const truth = s.book(symbol);
    last = `ours ${JSON.stringify(ours.bids.slice(0, 3))} truth ${JSON.stringify(truth.bids.slice(0, 3))}`;
    return (
      ours.bids.length > 0 &&
      JSON.stringify(ours.bids) === JSON.stringify(truth.bids) &&
      JSON.stringify(ours.asks) === JSON.stringify(truth.asks)
    );
  }, `the ${symbol} book to equal the simulator's (${last})`);
}

describe('coinbase engine against the coinbase simulator (real workers)', () => {
  it('streams trades, tickers, quotes and books; candles are refused clearly', async () => {
    const sim = await startCoinbaseSimulator({ seed: 3, ratePerProduct: 60 });
    const { engine: e, records } = rig.start(sim);
    expect(() => e.subscribe({ exchange: 'coinbase', channels: ['candles'], symbols: ['BTC/USD'] })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_CHANNEL', message: expect.stringContaining('coinbase has no channel candles') }),
    );
    e.subscribe({ exchange: 'coinbase', channels: ['trades', 'ticker', 'quotes', 'book'], symbols: SYMBOLS });
    await waitFor(
      () => SYMBOLS.every((s) => ['trade', 'ticker', 'quote', 'book'].every((t) => count(records, t, s) >= 5)),
      'five records of every type for every symbol',
    );
    for (const symbol of SYMBOLS) {
      expect(records.find((r) => r.type === 'book' && r.symbol === symbol)).toMatchObject({ snapshot: true, exchange: 'coinbase' });
      expect(statuses(records, symbol)).toEqual(['synced']);
      const trades = records.filter((r): r is TradeRecord => r.type === 'trade' && r.symbol === symbol);
      expect(['buy', 'sell']).toContain(trades[0]!.side);
      expect(Math.abs(trades.at(-1)!.exchangeTs - Date.now())).toBeLessThan(5000);
      await booksAgree(records, sim, symbol);
    }
    const stats = e.stats();
    expect(stats.integrityErrors).toBe(0);
    expect(stats.resyncs).toBe(0);
    expect(stats.badMessages).toBe(0);
  });

  it('a skipped sequence resyncs only that product, and its book equals the simulator afterwards', async () => {
    const sim = await startCoinbaseSimulator({ seed: 4, ratePerProduct: 40 });
    const { engine: e, records, logs } = rig.start(sim);
    e.subscribe({ exchange: 'coinbase', channels: ['book'], symbols: SYMBOLS });
    await waitFor(() => statuses(records).filter((s) => s === 'synced').length === 2, 'both books synced');
    // Past the per-product resubscribe rate limit that the initial subscribe started.
    await new Promise((r) => setTimeout(r, 1000));
    sim.faults.skipSequence('BTC-USD');
    await waitFor(() => statuses(records, 'BTC/USD').filter((s) => s === 'synced').length === 2, 'BTC resynced');
    expect(statuses(records, 'BTC/USD')).toEqual(['synced', 'resync', 'synced']);
    expect(statuses(records, 'ETH/USD')).toEqual(['synced']);
    expect(e.stats().resyncs).toBe(1);
    expect(logs.some((l) => l.msg === 'coinbase: trade id gap (lost messages)' && l.product === 'BTC-USD')).toBe(true);
    await booksAgree(records, sim, 'BTC/USD');
    await booksAgree(records, sim, 'ETH/USD');
    expect(e.stats().reconnects).toBe(0);
  });

  it('reconnects after closeAll and rebuilds every book', async () => {
    const sim = await startCoinbaseSimulator({ seed: 5, ratePerProduct: 40 });
    const { engine: e, records } = rig.start(sim);
    e.subscribe({ exchange: 'coinbase', channels: ['trades', 'book'], symbols: SYMBOLS });
    await waitFor(() => statuses(records).filter((s) => s === 'synced').length === 2, 'both books synced');
    sim.faults.closeAll(1001);
    await waitFor(() => statuses(records).includes('disconnected'), 'a disconnected status record');
    const mark = records.length;
    await waitFor(
      () => SYMBOLS.every((s) => count(records.slice(mark), 'trade', s) > 2 && count(records.slice(mark), 'book', s) > 2),
      'trades and books for every symbol after the reconnect',
    );
    const later = records.slice(mark);
    expect(statuses(later)[0]).toBe('connected');
    expect(statuses(later).filter((s) => s === 'synced')).toHaveLength(2);
    expect(later.filter((r) => r.type === 'book' && r.snapshot).map((r) => r.symbol).sort()).toEqual([...SYMBOLS].sort());
    for (const symbol of SYMBOLS) await booksAgree(records, sim, symbol);
    // Trade ids (record seq = product sequence) never repeat across the reconnect.
    const seqs = records.filter((r) => r.type === 'trade' && r.symbol === 'BTC/USD').map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(e.stats().reconnects).toBe(1);
  });

  it('skips a malformed frame with a clear logged error and keeps streaming', async () => {
    const sim = await startCoinbaseSimulator({ seed: 6, ratePerProduct: 60 });
    const { engine: e, records, logs } = rig.start(sim);
    e.subscribe({ exchange: 'coinbase', channels: ['trades'], symbols: ['BTC/USD'] });
    await waitFor(() => count(records, 'trade') > 3, 'trades');
    sim.faults.malformed(2);
    await waitFor(() => e.stats().badMessages === 2, 'two bad messages counted');
    const mark = records.length;
    await waitFor(() => count(records.slice(mark), 'trade') > 3, 'trades after the bad frames');
    const warnings = logs.filter((l) => l.msg === 'bad frame skipped');
    expect(String(warnings[0]!.problem)).toMatch(/^coinbase: bad JSON/);
  });
});
