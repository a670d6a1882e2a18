/** Interactive Brokers end to end: real workers through `createEngine` against the TWS simulator on 127.0.0.1:0. */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { MarketRecord } from '../src/records/types.js';
import { type IbSimulator, type IbSimulatorOptions, startIbSimulator } from '../src/simulator/ib/server.js';
import { captureLogger } from './helpers/engine.js';
import { waitFor } from './helpers/wait.js';

let sim: IbSimulator | undefined;
const engines: Engine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await sim?.close();
  sim = undefined;
});

async function start(simOptions: IbSimulatorOptions = {}, clientId = 7) {
  sim = await startIbSimulator({ rate: 50, barEveryMs: 300, ...simOptions });
  const logs: Array<Record<string, unknown>> = [];
  const engine = createEngine({
    threads: 1,
    logger: captureLogger(logs),
    venues: { ib: { wsUrl: sim.wsUrl, clientId } },
    backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
  });
  engines.push(engine);
  const records: MarketRecord[] = [];
  engine.onRecord((r) => records.push(r));
  return { sim, engine, records, logs };
}

const of = (records: MarketRecord[], type: string, symbol?: string) =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol));

describe('ib venue against the TWS simulator', () => {
  it('streams trades, quotes, ticker, 5s candles and an exact book for a short and a long symbol', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'ib', channels: ['trades', 'quotes', 'ticker', 'book'], symbols: ['AAPL', 'CASH:EUR.USD@IDEALPRO'] });
    engine.subscribe({ exchange: 'ib', channels: ['candles'], symbols: ['AAPL'], interval: '5s' });
    for (const sym of ['AAPL', 'CASH:EUR.USD@IDEALPRO']) {
      await waitFor(() => of(records, 'trade', sym).length >= 5, `${sym} trades`);
      await waitFor(() => of(records, 'quote', sym).length >= 5, `${sym} quotes`);
      await waitFor(() => of(records, 'ticker', sym).length >= 5, `${sym} tickers`);
    }
    await waitFor(() => of(records, 'candle', 'AAPL').length >= 2, 'AAPL candles');
    const trade = of(records, 'trade', 'AAPL').at(-1)!;
    expect(trade).toMatchObject({ exchange: 'ib', symbol: 'AAPL' });
    expect(trade.type === 'trade' && trade.price > 100 && trade.amount > 0).toBe(true);
    const quote = of(records, 'quote', 'AAPL').at(-1)!;
    expect(quote.type === 'quote' && quote.bidPrice < quote.askPrice).toBe(true);
    const candle = of(records, 'candle', 'AAPL').at(-1)!;
    expect(candle.type === 'candle' && candle.intervalSec === 5 && candle.closed && candle.low <= candle.high).toBe(true);
    const [c1, c2] = of(records, 'candle', 'AAPL').slice(-2);
    expect(c2!.type === 'candle' && c1!.type === 'candle' && c2.openTs - c1.openTs).toBe(5000);

    await waitFor(() => of(records, 'book', 'AAPL').length >= 50, 'AAPL book deltas');
    sim.faults.freeze(true);
    const same = (symbol: string, simSymbol: string) => () => {
      const ours = engine.book('ib', symbol);
      const truth = sim.book(simSymbol);
      return (
        ours?.synced === true &&
        JSON.stringify(ours.levels('bids')) === JSON.stringify(truth.bids) &&
        JSON.stringify(ours.levels('asks')) === JSON.stringify(truth.asks)
      );
    };
    await waitFor(same('AAPL', 'AAPL'), "the engine's AAPL book to equal the simulator's");
    await waitFor(same('CASH:EUR.USD@IDEALPRO', 'EUR'), "the engine's EUR.USD book to equal the simulator's");
    expect(engine.book('ib', 'AAPL')!.levels('bids')).toHaveLength(10);
  });

  it('one engine holds one TWS connection (one client id): a subscribe that would open a second is refused, naming why', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'ib', channels: ['trades'], symbols: ['AAPL'] });
    await waitFor(() => of(records, 'trade', 'AAPL').length > 0, 'AAPL trades');
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err as Error & { code?: string };
      }
      throw new Error('the subscribe was not refused');
    };
    const byPolicy = refused(() => engine.subscribe({ exchange: 'ib', channels: ['quotes'], symbols: ['MSFT'], policy: 'drop' }));
    expect(byPolicy.code).toBe('ERR_BAD_OPTION');
    expect(byPolicy.message).toMatch(/^ib: one engine opens at most 1 connection .*clientId.*policy 'drop'.*runs 'block'/);
    // The same policy shares the one connection.
    engine.subscribe({ exchange: 'ib', channels: ['quotes'], symbols: ['MSFT'] });
    await waitFor(() => of(records, 'quote', 'MSFT').length > 0, 'MSFT quotes on the same connection');
    expect(engine.stats().connections).toHaveLength(1);
    expect(sim.stats.duplicateClientIds).toBe(0);
  });

  it('streams that do not fit one connection are refused at subscribe, and nothing is opened', async () => {
    sim = await startIbSimulator({ rate: 50 });
    const engine = createEngine({ threads: 1, maxStreamsPerConnection: 2, logger: captureLogger([]), venues: { ib: { wsUrl: sim.wsUrl, clientId: 7 } } });
    engines.push(engine);
    expect(() => engine.subscribe({ exchange: 'ib', channels: ['trades', 'quotes', 'book'], symbols: ['AAPL'] })).toThrow(
      /at most 2 per connection, maxStreamsPerConnection/,
    );
    expect(engine.stats().connections).toHaveLength(0);
  });
});
