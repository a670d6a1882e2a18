/** Bybit end to end: real workers through `createEngine` against the Bybit simulator. */
import { describe, expect, it } from 'vitest';
import type { BookRecord, MarketRecord, StatusRecord, TickerRecord } from '../src/records/types.js';
import { ResyncReason } from '../src/records/types.js';
import { type BybitSimulator, startBybitSimulator } from '../src/simulator/index.js';
import { statuses, venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const rig = venueRig('bybit');


const count = (records: MarketRecord[], type: string, symbol?: string) =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol)).length;

const synced = (records: MarketRecord[], symbol: string) => statuses(records, symbol).filter((s) => s === 'synced').length;

/** Rebuilds a symbol's book from book records (from the last snapshot on). */
function bookFrom(records: MarketRecord[], symbol: string) {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  let seq = Number.NaN;
  for (const r of records) {
    if (r.type !== 'book' || r.symbol !== symbol) continue;
    if (r.snapshot) {
      bids.clear();
      asks.clear();
    }
    for (const [p, q] of r.bids) q === 0 ? bids.delete(p) : bids.set(p, q);
    for (const [p, q] of r.asks) q === 0 ? asks.delete(p) : asks.set(p, q);
    seq = r.seq;
  }
  return { seq, bids: [...bids].sort((a, b) => b[0] - a[0]), asks: [...asks].sort((a, b) => a[0] - b[0]) };
}

/** Waits until our book of `symbol` reaches the simulator's `u`, then compares all 50 levels. */
async function expectBookMatches(sim: BybitSimulator, records: MarketRecord[], symbol: string, native: string, category: 'spot' | 'linear') {
  let ours = bookFrom(records, symbol);
  await waitFor(() => {
    ours = bookFrom(records, symbol);
    return ours.seq === sim.book(native, category).lastUpdateId;
  }, `our ${symbol} book at the simulator's u`);
  const truth = sim.book(native, category);
  expect(ours.bids).toEqual(truth.bids);
  expect(ours.asks).toEqual(truth.asks);
  expect(truth.bids.length).toBeGreaterThan(10);
}

describe('bybit through the engine (real workers, simulator)', () => {
  it('streams spot and linear at once on two sockets, every channel normalized', async () => {
    const sim = await startBybitSimulator({ seed: 21, ratePerStream: 40, tickerRate: 20, klineRate: 10 });
    const { engine, records } = rig.start(sim);
    const spot = ['BTC/USDT', 'ETH/USDT'];
    const perp = 'BTC/USDT:USDT';
    engine.subscribe({ exchange: 'bybit', channels: ['trades', 'quotes', 'book', 'ticker', 'candles'], symbols: spot });
    engine.subscribe({ exchange: 'bybit', channels: ['trades', 'quotes', 'book', 'ticker', 'funding'], symbols: [perp] });
    await waitFor(
      () =>
        spot.every((s) => ['trade', 'quote', 'book', 'ticker', 'candle'].every((t) => count(records, t, s) >= 3)) &&
        ['trade', 'quote', 'book', 'ticker'].every((t) => count(records, t, perp) >= 3),
      'three records of every channel for every symbol',
    );
    expect(engine.stats().connections.map((c) => c.exchange)).toEqual(['bybit', 'bybit']);
    expect(sim.stats()).toMatchObject({ spotConnections: 1, linearConnections: 1 });
    for (const s of [...spot, perp]) {
      expect(records.find((r) => r.type === 'book' && r.symbol === s)).toMatchObject({ snapshot: true });
      expect(statuses(records, s)).toEqual(['synced']);
    }
    // Trade ids reach the consumer whole, as text (spot: 19 digits, linear: UUIDs), unique per symbol.
    for (const s of [...spot, perp]) {
      const ids = records.flatMap((r) => (r.type === 'trade' && r.symbol === s ? [r.tradeId] : []));
      expect(ids.every((id) => /^(\d{19}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.test(id)), ids.slice(0, 3).join()).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
    }
    const perpTicker = records.find((r): r is TickerRecord => r.type === 'ticker' && r.symbol === perp)!;
    expect(perpTicker.exchange).toBe('bybit');
    expect(Number.isFinite(perpTicker.markPrice) && Number.isFinite(perpTicker.fundingRate)).toBe(true);
    expect(perpTicker.nextFundingTs % 28_800_000).toBe(0);
    const spotTicker = records.find((r): r is TickerRecord => r.type === 'ticker' && r.symbol === 'BTC/USDT')!;
    expect(spotTicker.last).toBeGreaterThan(0);
    expect(Number.isNaN(spotTicker.fundingRate)).toBe(true);
    // The two categories are different markets: spot and perp prices differ.
    const spotQuote = records.find((r) => r.type === 'quote' && r.symbol === 'BTC/USDT');
    const perpQuote = records.find((r) => r.type === 'quote' && r.symbol === perp);
    expect(spotQuote).not.toMatchObject({ bidPrice: (perpQuote as { bidPrice: number }).bidPrice });
    const stats = engine.stats();
    expect(stats.integrityErrors).toBe(0);
    expect(stats.badMessages).toBe(0);
    expect(stats.resyncs).toBe(0);
    await expectBookMatches(sim, records, perp, 'BTCUSDT', 'linear');
  });

  it('a skipped update id resyncs only that symbol, and its book equals the simulator afterwards', async () => {
    const sim = await startBybitSimulator({ seed: 22, ratePerStream: 40 });
    const { engine, records, logs } = rig.start(sim);
    engine.subscribe({ exchange: 'bybit', channels: ['book'], symbols: ['BTC/USDT', 'ETH/USDT', 'BTC/USDT:USDT'] });
    await waitFor(
      () => ['BTC/USDT', 'ETH/USDT', 'BTC/USDT:USDT'].every((s) => synced(records, s) === 1),
      'three books synced',
    );
    sim.faults.skipSequence('BTCUSDT', 'spot');
    await waitFor(() => synced(records, 'BTC/USDT') === 2, 'BTC/USDT resynced');
    const resync = records.find((r): r is StatusRecord => r.type === 'status' && r.status === 'resync')!;
    expect(resync).toMatchObject({ symbol: 'BTC/USDT', detail: ResyncReason.sequenceGap });
    expect(statuses(records, 'BTC/USDT')).toEqual(['synced', 'resync', 'synced']);
    expect(statuses(records, 'ETH/USDT')).toEqual(['synced']);
    expect(statuses(records, 'BTC/USDT:USDT')).toEqual(['synced']);
    expect(engine.stats().resyncs).toBe(1);
    expect(logs.some((l) => l.msg === 'bybit: orderbook update id gap')).toBe(true);
    // After the resync the book is rebuilt from a fresh snapshot.
    const books = records.filter((r): r is BookRecord => r.type === 'book' && r.symbol === 'BTC/USDT');
    expect(books.filter((b) => b.snapshot)).toHaveLength(2);
    await expectBookMatches(sim, records, 'BTC/USDT', 'BTCUSDT', 'spot');
    await expectBookMatches(sim, records, 'ETH/USDT', 'ETHUSDT', 'spot');
    expect(engine.stats().reconnects).toBe(0);
  });

  it('rebuilds every book after the venue drops both connections', async () => {
    const sim = await startBybitSimulator({ seed: 23, ratePerStream: 40 });
    const { engine, records } = rig.start(sim);
    engine.subscribe({ exchange: 'bybit', channels: ['trades', 'book'], symbols: ['ETH/USDT', 'ETH/USDT:USDT'] });
    await waitFor(() => synced(records, 'ETH/USDT') === 1 && synced(records, 'ETH/USDT:USDT') === 1, 'both books synced');
    const before = records.length;
    sim.faults.closeAll(1001);
    await waitFor(() => statuses(records).filter((s) => s === 'disconnected').length === 2, 'two disconnected statuses');
    // From the first disconnect: one connection may already have resynced before the other's
    // disconnected status is consumed (reconnect delays start near 0).
    const mark = records.findIndex((r, i) => i >= before && r.type === 'status' && r.status === 'disconnected');
    await waitFor(
      () => synced(records.slice(mark), 'ETH/USDT') === 1 && synced(records.slice(mark), 'ETH/USDT:USDT') === 1,
      'both books synced again',
    );
    for (const s of ['ETH/USDT', 'ETH/USDT:USDT']) {
      // Each symbol is alone on its connection: its book after that connection's disconnect starts
      // with a snapshot. That disconnect is the last one consumed before the symbol's snapshot
      // (the rings are read in order, so the connection's own disconnect precedes its snapshot).
      const snap = records.findIndex((r, i) => i > mark && r.type === 'book' && r.symbol === s && r.snapshot);
      const disc = records.findLastIndex((r, i) => i < snap && r.type === 'status' && r.status === 'disconnected');
      expect(records.slice(disc).find((r) => r.type === 'book' && r.symbol === s)).toMatchObject({ snapshot: true });
    }
    await waitFor(() => count(records.slice(mark), 'trade') > 3, 'trades after the reconnect');
    expect(engine.stats().reconnects).toBe(2);
    expect(engine.stats().resyncs).toBe(0);
    await expectBookMatches(sim, records, 'ETH/USDT', 'ETHUSDT', 'spot');
    await expectBookMatches(sim, records, 'ETH/USDT:USDT', 'ETHUSDT', 'linear');
  });

  it('skips malformed frames with a logged error naming bybit, and refuses impossible subscriptions', async () => {
    const sim = await startBybitSimulator({ seed: 24, ratePerStream: 40 });
    const { engine, records, logs } = rig.start(sim);
    expect(() => engine.subscribe({ exchange: 'bybit', channels: ['funding'], symbols: ['BTC/USDT'] })).toThrow(/funding.*BTC\/USDT/);
    expect(() => engine.subscribe({ exchange: 'bybit', channels: ['trades'], symbols: ['BTC/USD:BTC'] })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_SYMBOL' }),
    );
    expect(engine.stats().connections).toHaveLength(0);
    engine.subscribe({ exchange: 'bybit', channels: ['trades'], symbols: ['BTC/USDT'] });
    await waitFor(() => count(records, 'trade') > 3, 'trades');
    sim.faults.malformed(2);
    await waitFor(() => engine.stats().badMessages === 2, 'two bad frames counted');
    const mark = records.length;
    await waitFor(() => count(records.slice(mark), 'trade') > 3, 'trades after the bad frames');
    const warn = logs.find((l) => l.msg === 'bad frame skipped')!;
    expect(String(warn.problem)).toMatch(/^bybit: bad JSON/);
    expect(engine.stats().reconnects).toBe(0);
  });
});
