import { afterEach, describe, expect, it } from 'vitest';
import { Consumer } from '../src/consumer/consumer.js';
import { healthOf, serveMetrics } from '../src/exposition/health.js';
import { resolvePublishOptions } from '../src/fanout/fanout-options.js';
import { connectFeed } from '../src/fanout/feed.js';
import { Publisher } from '../src/fanout/publisher.js';
import { RecordEncoder } from '../src/records/encoder.js';
import { SymbolTable } from '../src/records/symbols.js';
import { Doorbell } from '../src/ring/doorbell.js';
import { createRing, RingWriter } from '../src/ring/ring.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { engineFor } from './helpers/engine.js';
import { deleteStream, SHARED_NATS, uniqueNames } from './helpers/nats-server.js';
import { ViewSource } from './helpers/record-views.js';
import { waitFor } from './helpers/wait.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
};

describe('/metrics and /health', () => {
  it('an engine: 503 with reasons until connected and books synced, then 200; counters and exponential latency buckets', async () => {
    const sim: Simulator = await startSimulator({ seed: 21, ratePerStream: 40 });
    cleanups.push(() => sim.close());
    const { engine } = engineFor(sim);
    cleanups.push(() => engine.close());
    const server = await serveMetrics(engine, { port: 0 });
    cleanups.push(() => server.close());
    expect(server.host).toBe('127.0.0.1');

    const idle = await get(server.port, '/health');
    expect(idle.status).toBe(503);
    expect(JSON.parse(idle.text).reasons).toContain('no connections');

    engine.subscribe({ exchange: 'binance', channels: ['trades', 'book'], symbols: ['BTC/USDT'] });
    await waitFor(() => healthOf(engine).healthy, 'a healthy engine', 20_000);
    await waitFor(() => engine.stats().perStream.some((st) => st.channel === 'trades' && st.messages > 0), 'a trade consumed', 20_000);
    const ok = await get(server.port, '/health');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ healthy: true, reasons: [] });

    const m = await get(server.port, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/text\/plain/);
    expect(m.text).toMatch(/ringfeed_connection_state\{connection="1",exchange="binance",state="connected"\} 1/);
    expect(m.text).toMatch(/ringfeed_connection_records_total\{connection="1",exchange="binance"\} [1-9]/);
    expect(m.text).toMatch(/ringfeed_recv_to_consume_seconds_bucket\{le="0.000025",type="trade"\} \d+/);
    expect(m.text).toMatch(/ringfeed_recv_to_consume_seconds_bucket\{le="0.0001",type="trade"\} \d+/);
    expect(m.text).toMatch(/ringfeed_recv_to_consume_seconds_count\{type="trade"\} [1-9]/);
    expect(m.text).toMatch(/ringfeed_messages_total [1-9]/);
    expect(m.text).toMatch(/ringfeed_gaps_total 0/);
    expect((await get(server.port, '/nope')).status).toBe(404);
  }, 60_000);

  it('a remote feed: live and books synced → 200; a book invalidated by a publisher restart → 503 naming it', async () => {
    const names = uniqueNames('health');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const start = async (id: number) => {
      const p = new Publisher(resolvePublishOptions({ servers: SHARED_NATS, ...names, publisherId: id }));
      await p.start();
      cleanups.push(() => p.close(500));
      return p;
    };
    const first = await start(5);
    new ViewSource('binance', first.handle).book('BTC/USDT', 1, true, [99, 1], [101, 1]);
    expect(await first.settled()).toBe(true);
    const feed = await connectFeed({ servers: SHARED_NATS, stream: names.stream, prefix: names.prefix, from: 'all' });
    cleanups.push(() => feed.close());
    const server = await serveMetrics(feed, { port: 0 });
    cleanups.push(() => server.close());
    await waitFor(() => feed.book('binance', 'BTC/USDT')?.synced === true, 'the remote book synced');
    expect((await get(server.port, '/health')).status).toBe(200);
    await first.close();
    await new Promise((r) => setTimeout(r, 5));
    const second = await start(5);
    new ViewSource('binance', second.handle).trade('BTC/USDT', 1);
    await waitFor(() => feed.book('binance', 'BTC/USDT')?.synced === false, 'the book invalidated');
    const h = await get(server.port, '/health');
    expect(h.status).toBe(503);
    expect(JSON.parse(h.text).reasons).toEqual(['book binance BTC/USDT is not synced']);
    const m = await get(server.port, '/metrics');
    expect(m.text).toMatch(/ringfeed_connection_state\{connection="1",exchange="nats",state="connected"\} 1/);
  }, 30_000);

  it('ring fill: a feed held back by an unread iterator shows its ring nearly full, then empty once read', async () => {
    const names = uniqueNames('ringfill');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const pub = new Publisher(resolvePublishOptions({ servers: SHARED_NATS, ...names, publisherId: 8, bookSnapshotIntervalMs: 0 }));
    await pub.start();
    cleanups.push(() => pub.close(500));
    const src = new ViewSource('binance', pub.handle);
    for (let i = 0; i < 500; i++) src.trade('BTC/USDT', i);
    expect(await pub.settled()).toBe(true);
    const feed = await connectFeed({ servers: SHARED_NATS, ...names, from: 'all', ringBytes: 4096, iteratorHighWaterMark: 10 });
    cleanups.push(() => feed.close());
    // Not read yet: once 10 records are buffered it holds the consumer, and the ring fills.
    const iter = feed.records({ types: ['trade'] });
    const server = await serveMetrics(feed, { port: 0 });
    cleanups.push(() => server.close());
    const scrapedFill = async (): Promise<number> => {
      const m = /ringfeed_connection_ring_fill_ratio\{connection="1",exchange="nats"\} (\S+)/.exec((await get(server.port, '/metrics')).text);
      return m === null ? Number.NaN : Number(m[1]);
    };
    await waitFor(() => feed.stats().feed.slowWaits > 0, 'the feed waiting on a full ring');
    const full = await scrapedFill();
    expect(full).toBeGreaterThan(0.5);
    expect(full).toBeLessThanOrEqual(1);
    let n = 0;
    for await (const r of iter) {
      expect(r).toMatchObject({ type: 'trade', seq: n });
      if (++n === 500) break;
    }
    await waitFor(() => feed.ringFill(1) === 0, 'the ring drained');
    expect(await scrapedFill()).toBe(0);
    console.log(`ring fill: ${full.toFixed(3)} while held back, 0 once read`);
  }, 30_000);

  it('Consumer.ringFill: bytes written and not consumed over the capacity, per connection ring', () => {
    const symbols = new SymbolTable();
    symbols.registerExchange(1, 'binance');
    const bell = Doorbell.create();
    const consumer = new Consumer(symbols, bell);
    const ring = createRing(4096);
    consumer.addRing(7, ring);
    const enc = new RecordEncoder(new RingWriter(ring, new Doorbell(bell)), 1);
    const id = symbols.intern('binance', 'BTC/USDT');
    expect(consumer.ringFill(7)).toBe(0);
    let written = 0;
    while (enc.trade(id, Date.now(), written, 1, 100, 1)) written++;
    enc.publish();
    const fill = consumer.ringFill(7)!;
    expect(fill).toBeGreaterThan(0.9);
    expect(fill).toBeLessThanOrEqual(1);
    expect(consumer.ringFill(8)).toBeUndefined();
    expect(consumer.drain(10)).toBe(10);
    expect(consumer.ringFill(7)!).toBeLessThan(fill);
    consumer.drain(Number.MAX_SAFE_INTEGER);
    expect(consumer.ringFill(7)).toBe(0);
    consumer.recvToConsume.destroy();
    consumer.exchangeToConsume.destroy();
  });
});
