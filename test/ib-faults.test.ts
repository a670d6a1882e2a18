/** The TWS rules, each against the simulator's fault, through real workers (createEngine). */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { SubscriptionRejection } from '../src/engine/events.js';
import type { MarketRecord, StatusRecord } from '../src/records/types.js';
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

type Rejected = SubscriptionRejection;

async function start(simOptions: IbSimulatorOptions = {}, clientId = 7, reuse?: IbSimulator, maxStreamsPerConnection = 200) {
  sim = reuse ?? (await startIbSimulator({ rate: 50, ...simOptions }));
  const logs: Array<Record<string, unknown>> = [];
  const engine = createEngine({
    threads: 1,
    maxStreamsPerConnection,
    logger: captureLogger(logs),
    venues: { ib: { wsUrl: sim.wsUrl, clientId } },
    backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2 },
  });
  engines.push(engine);
  const records: MarketRecord[] = [];
  const rejected: Rejected[] = [];
  engine.onRecord((r) => records.push(r));
  engine.on('rejected', (r) => rejected.push(r));
  return { sim, engine, records, rejected, logs };
}

const of = (records: MarketRecord[], type: string, symbol?: string) =>
  records.filter((r) => r.type === type && (symbol === undefined || r.symbol === symbol));
const statusOf = (records: MarketRecord[], symbol: string) =>
  records.filter((r): r is StatusRecord => r.type === 'status' && r.symbol === symbol).map((r) => `${r.status}:${r.detail}`);

/** Waits for `n` more records of `type` for `symbol` than there are now. */
async function more(records: MarketRecord[], type: string, symbol: string, n: number, what: string) {
  const base = of(records, type, symbol).length;
  await waitFor(() => of(records, type, symbol).length >= base + n, what);
}

describe('ib rules against the TWS simulator', () => {
  it('1100 marks every stream stale and clears books; 1101 resubscribes everything and streams resume', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'ib', channels: ['trades', 'book'], symbols: ['AAPL', 'MSFT'] });
    await more(records, 'trade', 'MSFT', 3, 'MSFT trades');
    sim.faults.connectivityLost(1101, 300);
    await waitFor(() => statusOf(records, 'AAPL').includes('stale:1100'), 'AAPL stale (1100)');
    expect(statusOf(records, 'MSFT')).toContain('stale:1100');
    expect(statusOf(records, 'AAPL')).toContain('resync:4');
    await waitFor(() => engine.book('ib', 'AAPL')?.synced === false || sim.stats.subscriptions === 0, 'book cleared');
    await waitFor(() => sim.stats.subscriptions === 4, 'the four streams asked again after 1101');
    await more(records, 'trade', 'AAPL', 3, 'AAPL trades after 1101');
    await more(records, 'trade', 'MSFT', 3, 'MSFT trades after 1101');
    await waitFor(() => engine.book('ib', 'AAPL')?.synced === true, 'AAPL book synced again');
    expect(sim.stats.connections).toBe(1); // the socket stayed up
  });

  it('1102 resumes the streams (data kept) and asks the books again', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'ib', channels: ['trades', 'book'], symbols: ['AAPL'] });
    await more(records, 'trade', 'AAPL', 3, 'AAPL trades');
    const depthAsks = sim.stats.byType['10'] ?? 0;
    sim.faults.connectivityLost(1102, 200);
    await waitFor(() => statusOf(records, 'AAPL').includes('stale:1100'), 'AAPL stale (1100)');
    await waitFor(() => (sim.stats.byType['10'] ?? 0) === depthAsks + 1, 'the book asked again after 1102');
    expect(sim.stats.byType['97']).toBe(1); // trades were not asked again: TWS kept them
    await more(records, 'trade', 'AAPL', 3, 'AAPL trades after 1102');
    await waitFor(() => engine.book('ib', 'AAPL')?.synced === true, 'AAPL book synced');
    expect(sim.stats.connections).toBe(1);
  });

  it('a farm flap (2103 → 2104) is status and leaves no stream silently dead', async () => {
    const { sim, engine, records } = await start();
    engine.subscribe({ exchange: 'ib', channels: ['trades', 'quotes', 'ticker'], symbols: ['AAPL'] });
    await more(records, 'quote', 'AAPL', 3, 'AAPL quotes');
    sim.faults.farmFlap(200); // the simulated farm drops every subscription, as a real flap can
    await waitFor(() => statusOf(records, 'AAPL').includes('stale:2103'), 'stale (2103) status');
    await more(records, 'trade', 'AAPL', 3, 'AAPL trades after the flap');
    await more(records, 'quote', 'AAPL', 3, 'AAPL quotes after the flap');
    await more(records, 'ticker', 'AAPL', 3, 'AAPL tickers after the flap');
    expect(sim.stats.connections).toBe(1);
  });

  it('an entitlement error refuses that stream only; 200 is ERR_BAD_SYMBOL; the connection stays up', async () => {
    const { sim, engine, records, rejected } = await start({ denied: { MSFT: 354 } });
    engine.subscribe({ exchange: 'ib', channels: ['trades'], symbols: ['AAPL', 'MSFT', 'NOPE'] });
    await waitFor(() => rejected.length === 2, 'two refusals');
    const bySymbol = Object.fromEntries(rejected.map((r) => [r.symbol, r]));
    expect(bySymbol.MSFT!.code).toBe('ERR_SUBSCRIPTION_REJECTED');
    expect(bySymbol.MSFT!.message).toMatch(/MSFT.*no market data permission.*TWS error 354/);
    expect(bySymbol.NOPE!.code).toBe('ERR_BAD_SYMBOL');
    expect(bySymbol.NOPE!.message).toMatch(/NOPE.*TWS error 200/);
    await more(records, 'trade', 'AAPL', 5, 'AAPL trades keep flowing');
    expect(sim.stats.connections).toBe(1);
    expect(statusOf(records, 'MSFT')).toContain('rejected:1');
  });

  it('a duplicate client id (326) is a named error, not a reconnect loop', async () => {
    const first = await start({}, 7);
    first.engine.subscribe({ exchange: 'ib', channels: ['trades'], symbols: ['AAPL'] });
    await more(first.records, 'trade', 'AAPL', 2, 'first engine trades');
    const second = await start({}, 7, first.sim);
    second.engine.subscribe({ exchange: 'ib', channels: ['trades'], symbols: ['MSFT'] });
    await waitFor(() => second.rejected.length === 1, 'the second engine refused');
    expect(second.rejected[0]!.message).toMatch(/client id 7 is already in use.*326.*venues\.ib\.clientId/);
    await new Promise((r) => setTimeout(r, 300));
    expect(first.sim.stats.duplicateClientIds).toBe(1); // it did not try again
    await more(first.records, 'trade', 'AAPL', 2, 'the first engine is unaffected');
  });

  it('a burst of 300 subscriptions is paced below 50 messages/s: the socket is never closed', async () => {
    // One TWS connection (one client id) carries them all.
    const { sim, engine, records } = await start({ syntheticStocks: 100, rate: 5 }, 7, undefined, 300);
    const symbols = Array.from({ length: 100 }, (_, i) => `T${String(i).padStart(3, '0')}`);
    engine.subscribe({ exchange: 'ib', channels: ['trades', 'quotes', 'ticker'], symbols });
    await waitFor(() => sim.stats.subscriptions === 300, 'all 300 subscriptions at the simulator', 30_000);
    expect(sim.stats.pacingViolations).toBe(0);
    expect(sim.stats.connections).toBe(1);
    expect(sim.stats.maxMessagesPerSecond).toBeLessThanOrEqual(45);
    await waitFor(() => of(records, 'quote', 'T099').length > 0, 'the last symbol quotes');
  }, 40_000);

  it('the simulator closes a client that sends more than 50 messages in a second', async () => {
    sim = await startIbSimulator();
    const { connect } = await import('node:net');
    const { handshake, startApi, REQ_CURRENT_TIME } = await import('../src/venues/ib/codec.js');
    const socket = connect(sim.port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => {});
    socket.write(handshake());
    socket.once('data', () => {
      socket.write(startApi(3));
      for (let i = 0; i < 60; i++) socket.write(REQ_CURRENT_TIME);
    });
    await closed;
    expect(sim.stats.pacingViolations).toBe(1);
  });
});
