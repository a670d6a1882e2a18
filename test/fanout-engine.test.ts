import { afterEach, describe, expect, it } from 'vitest';
import { connectFeed } from '../src/fanout/feed.js';
import type { MarketRecord } from '../src/records/types.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { engineFor } from './helpers/engine.js';
import { deleteStream, SHARED_NATS, uniqueNames } from './helpers/nats-server.js';
import { waitFor } from './helpers/wait.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('engine.publish → connectFeed (real workers, simulator, NATS)', () => {
  it('a remote feed sees what the engine consumed, books included, with publisher→consumer latency', async () => {
    const sim: Simulator = await startSimulator({ seed: 13, ratePerStream: 40 });
    cleanups.push(() => sim.close());
    const names = uniqueNames('engine');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const { engine, records } = engineFor(sim);
    cleanups.push(() => engine.close());
    const publisher = await engine.publish({ servers: SHARED_NATS, ...names });
    const feed = await connectFeed({ servers: SHARED_NATS, stream: names.stream, prefix: names.prefix, from: 'all' });
    cleanups.push(() => feed.close());
    const remote: MarketRecord[] = [];
    feed.onRecord((r) => remote.push(r));

    engine.subscribe({ exchange: 'binance', channels: ['trades', 'book'], symbols: ['BTC/USDT', 'ETH/USDT'] });
    await waitFor(() => feed.book('binance', 'BTC/USDT')?.synced === true && remote.filter((r) => r.type === 'trade').length >= 50, 'a synced remote book and 50 trades', 20_000);
    await engine.close();
    await waitFor(() => publisher.stats().state === 'closed', 'the publisher closed with the engine');
    const localTrades = records.filter((r) => r.type === 'trade').map((r) => `${r.symbol}:${r.seq}`);
    await waitFor(() => remote.filter((r) => r.type === 'trade').length >= localTrades.length, 'every trade on the feed');
    const remoteTrades = remote.filter((r) => r.type === 'trade').map((r) => `${r.symbol}:${r.seq}`);
    expect(remoteTrades.sort()).toEqual(localTrades.sort());
    const s = feed.stats();
    expect(s.feed).toMatchObject({ gaps: 0, duplicates: 0 });
    expect(s.latencyUs.recvToConsume.count).toBeGreaterThan(50);
    expect(publisher.stats().dropped).toBe(0);
  }, 60_000);
});
