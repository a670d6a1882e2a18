/**
 * The futu venue through the engine (real worker threads) against the OpenD simulator on
 * 127.0.0.1:0: every channel, the book exact against the simulator's, and the rules — ticker gap
 * backfilled, refusals as `rejected` with the connection up, the one-minute unsubscribe queued,
 * reconnect, and a closed market that does not reconnect-storm.
 */
import { describe, expect, it } from 'vitest';
import type { EngineOptions } from '../src/index.js';
import type { MarketRecord } from '../src/records/types.js';
import { type FutuSimulatorOptions, startFutuSimulator } from '../src/simulator/index.js';
import { statuses, venueRig } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

const rig = venueRig('futu');

async function start(simOptions: FutuSimulatorOptions = {}, options: EngineOptions = {}) {
  const sim = await startFutuSimulator({ seed: 5, ratePerSecurity: 40, wsPort: -1, ...simOptions });
  const { engine: e, records, logs } = rig.start(sim, options);
  const rejected: Array<{ code: string; message: string; symbol: string; channel: string }> = [];
  e.on('rejected', (r) => rejected.push(r));
  const states: string[] = [];
  e.on('state', (s) => states.push(s.state));
  return { sim, engine: e, records, rejected, states, logs };
}

const ofType = (records: MarketRecord[], type: string, symbol?: string) =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol));

describe('futu engine against the OpenD simulator', () => {
  it('streams trades, quotes, tickers, books and candles; engine.book() equals the simulator top', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'futu', channels: ['trades', 'quotes', 'ticker', 'book', 'candles'], symbols: ['HK.00700', 'US.AAPL'] });
    for (const type of ['trade', 'quote', 'ticker', 'book', 'candle']) {
      await waitFor(() => ofType(records, type, 'HK.00700').length > 0 && ofType(records, type, 'US.AAPL').length > 0, `${type} records`);
    }
    const trades = ofType(records, 'trade', 'HK.00700') as Extract<MarketRecord, { type: 'trade' }>[];
    for (let i = 1; i < trades.length; i++) expect(trades[i]!.seq).toBe(trades[i - 1]!.seq + 1);
    expect(trades[0]).toMatchObject({ exchange: 'futu', symbol: 'HK.00700' });
    expect(['buy', 'sell']).toContain(trades[0]!.side);
    expect(trades[0]!.price).toBeGreaterThan(0);
    expect(Math.abs(trades[0]!.exchangeTs - Date.now())).toBeLessThan(60_000);
    const candle = ofType(records, 'candle', 'HK.00700')[0] as Extract<MarketRecord, { type: 'candle' }>;
    expect(candle.intervalSec).toBe(60);
    expect(candle.openTs % 60_000).toBe(0);

    await waitFor(() => ofType(records, 'book', 'HK.00700').length >= 20, 'twenty book records');
    // The live book equals the simulator's top 10 at some moment (both move; compare when equal).
    let last = '';
    await waitFor(() => {
      const ours = engine.book('futu', 'HK.00700');
      const truth = sim.book('HK.00700', 10)!;
      last = JSON.stringify({ ours: { bids: ours?.levels('bids'), asks: ours?.levels('asks') }, truth });
      return ours?.synced === true && JSON.stringify(ours.levels('bids')) === JSON.stringify(truth.bids) &&
        JSON.stringify(ours.levels('asks')) === JSON.stringify(truth.asks);
    }, `engine.book() to equal the simulator's top 10 (last: ${last})`);
    const book = engine.book('futu', 'HK.00700')!;
    expect(book.levels('bids').length).toBe(10);
    expect(book.bestBid()).toBeLessThan(book.bestAsk());
    const books = ofType(records, 'book', 'HK.00700') as Extract<MarketRecord, { type: 'book' }>[];
    expect(books[0]!.snapshot).toBe(true);
    expect(books.slice(1).some((b) => !b.snapshot)).toBe(true);
  });

  it('refuses a malformed Futu symbol at subscribe, naming the grammar', async () => {
    const { engine } = await start();
    expect(() => engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['HK.700'] })).toThrow(/ERR_BAD_SYMBOL|invalid symbol "HK\.700"/);
    expect(() => engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['BTC/USDT'] })).toThrow(/MARKET\.CODE/);
    expect(() => engine.subscribe({ exchange: 'futu', channels: ['candles'], symbols: ['HK.00700'], interval: '6h' })).toThrow(/futu has no candle interval "6h"/);
  });

  it('a ticker gap is backfilled with Qot_GetTicker: resync status, consecutive sequences, synced', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['HK.00700'] });
    await waitFor(() => ofType(records, 'trade').length >= 5, 'trades');
    sim.faults.dropTickers('HK.00700', 3);
    await waitFor(() => statuses(records, 'HK.00700').includes('synced'), 'synced after the backfill');
    await waitFor(() => ofType(records, 'trade').length >= 20, 'more trades');
    expect(statuses(records, 'HK.00700')).toEqual(['resync', 'synced']);
    const seqs = ofType(records, 'trade').map((r) => r.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(sim.stats().getTicker).toBe(1);
    expect(engine.stats().resyncs).toBe(1);
  });

  it('a gap beyond what Qot_GetTicker can return is a fresh start (resync, then synced at the new sequence)', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['HK.00700'] });
    await waitFor(() => ofType(records, 'trade').length >= 3, 'trades');
    sim.faults.dropTickers('HK.00700', 1500);
    await waitFor(() => statuses(records, 'HK.00700').includes('synced'), 'synced');
    expect(sim.stats().getTicker).toBe(0);
    const seqs = ofType(records, 'trade').map((r) => r.seq);
    expect(seqs.some((s, i) => i > 0 && s - seqs[i - 1]! === 1501)).toBe(true);
  });

  it('unknown security, no quote right and exhausted quota are rejected with named codes; the connection stays up', async () => {
    const { sim, engine, records, rejected, states } = await start({ noQuoteRight: ['SH'], quota: 3 });
    engine.subscribe({ exchange: 'futu', channels: ['trades', 'book'], symbols: ['HK.00700'] });
    engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['HK.99999', 'SH.600519', 'US.AAPL'] });
    await waitFor(() => rejected.length >= 2, 'two rejections');
    engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['SZ.000001'] });
    await waitFor(() => rejected.length >= 3, 'the quota rejection');
    const by = (symbol: string) => rejected.find((r) => r.symbol === symbol);
    expect(by('HK.99999')).toMatchObject({ code: 'ERR_BAD_SYMBOL', channel: 'trades' });
    expect(by('HK.99999')!.message).toMatch(/Unknown stock/);
    expect(by('SH.600519')).toMatchObject({ code: 'ERR_SUBSCRIPTION_REJECTED' });
    expect(by('SH.600519')!.message).toMatch(/No quote right/);
    expect(by('SZ.000001')).toMatchObject({ code: 'ERR_SUBSCRIPTION_REJECTED' });
    expect(by('SZ.000001')!.message).toMatch(/quota exhausted/);
    const before = ofType(records, 'trade', 'US.AAPL').length;
    await waitFor(() => ofType(records, 'trade', 'US.AAPL').length > before + 3, 'US.AAPL still flowing');
    expect(statuses(records, 'HK.99999')).toEqual(['rejected']);
    expect(states).not.toContain('reconnecting');
    expect(engine.stats().reconnects).toBe(0);
    expect(sim.stats().connections).toBe(1);
  });

  it('an unsubscribe within the minute is queued, not sent (OpenD would refuse it)', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['HK.00700'] });
    const book = engine.subscribe({ exchange: 'futu', channels: ['book'], symbols: ['HK.00700'] });
    await waitFor(() => ofType(records, 'book').length > 0 && sim.stats().subscriptions === 2, 'both subscribed');
    book.unsubscribe();
    const trades = ofType(records, 'trade').length;
    await waitFor(() => ofType(records, 'trade').length > trades + 5, 'trades go on');
    expect(sim.stats().refusedUnsubs).toBe(0);
    expect(sim.stats().subscriptions).toBe(2); // still held: the unsubscribe waits for the minute
    expect(engine.book('futu', 'HK.00700')).toBeUndefined();
  });

  it('a reconnect clears the book (disconnected), then InitConnect, resubscribe and a fresh snapshot', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'futu', channels: ['trades', 'book'], symbols: ['HK.00700'] });
    await waitFor(() => engine.book('futu', 'HK.00700')?.synced === true, 'synced');
    sim.faults.closeAll();
    await waitFor(() => statuses(records).filter((s) => s === 'connected').length === 2, 'reconnected');
    await waitFor(() => statuses(records, 'HK.00700').filter((s) => s === 'synced').length === 2, 'synced again');
    const all = statuses(records);
    expect(all.indexOf('disconnected')).toBeGreaterThan(0);
    const books = ofType(records, 'book') as Extract<MarketRecord, { type: 'book' }>[];
    expect(books.filter((b) => b.snapshot).length).toBe(2);
    expect(engine.book('futu', 'HK.00700')!.synced).toBe(true);
    expect(engine.stats().reconnects).toBe(1);
  });

  it('a closed market (GetGlobalState) is quiet, not stale: no reconnect storm; data resumes at the open', async () => {
    const { sim, engine, records, states } = await start({ marketOpen: false }, { limits: { staleTimeoutMs: 300 } });
    engine.subscribe({ exchange: 'futu', channels: ['trades'], symbols: ['HK.00700'] });
    await waitFor(() => statuses(records).includes('connected'), 'connected');
    await new Promise((r) => setTimeout(r, 1500)); // five stale timeouts of silence
    expect(states).not.toContain('stale');
    expect(states).not.toContain('reconnecting');
    expect(engine.stats().reconnects).toBe(0);
    expect(ofType(records, 'trade')).toEqual([]);
    sim.faults.setMarketOpen(true);
    await waitFor(() => ofType(records, 'trade').length > 0, 'trades after the open', 40_000);
  });
});
