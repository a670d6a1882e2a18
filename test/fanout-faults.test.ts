import { describe, expect, it } from 'vitest';
import { connectFeed, } from '../src/fanout/feed.js';
import type { MarketRecord } from '../src/records/types.js';
import { fanoutRig } from './helpers/fanout-rig.js';
import { deleteStream, OwnNatsServer, SHARED_NATS, uniqueNames } from './helpers/nats-server.js';
import { ViewSource } from './helpers/record-views.js';
import { waitFor } from './helpers/wait.js';

const { cleanups, publisherOn, feedOn } = fanoutRig({ maxBatchRecords: 8, closeTimeoutMs: 500 });

const tradeSeqs = (rs: MarketRecord[]): number[] => rs.filter((r) => r.type === 'trade').map((r) => r.seq);
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

describe('fan-out faults', () => {
  it('NATS server restarted mid-stream: the publisher buffers and carries on, the JetStream feed loses and duplicates nothing', async () => {
    const server = await OwnNatsServer.start();
    cleanups.push(() => server.close());
    const names = uniqueNames('restart');
    const pub = await publisherOn(server.url, names);
    const src = new ViewSource('binance', pub.handle);
    const { feed, got } = await feedOn(server.url, names);
    for (let i = 0; i < 200; i++) src.trade('BTC/USDT', i);
    await waitFor(() => got.length >= 200, 'the first 200 on the feed');

    await server.stop();
    await waitFor(() => pub.stats().state === 'reconnecting', 'the publisher to see the server gone');
    for (let i = 200; i < 500; i++) src.trade('BTC/USDT', i);
    expect(pub.stats().bufferedBytes).toBeGreaterThan(0);
    await server.resume();

    await waitFor(() => got.length >= 500, 'all 500 after the restart', 20_000).catch((err) => {
      console.log(JSON.stringify({ pub: pub.stats(), feed: feed.stats().feed, got: got.length }));
      throw err;
    });
    expect(await pub.settled(10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(tradeSeqs(got)).toEqual(range(0, 500));
    expect(pub.stats()).toMatchObject({ recordsAcked: 500, dropped: 0 });
    expect(pub.stats().reconnects).toBeGreaterThanOrEqual(1);
    const s = feed.stats();
    expect(s.feed).toMatchObject({ gaps: 0, missingRecords: 0 });
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    expect(s.integrityErrors).toBe(0);
  }, 60_000);

  it('publisher killed and restarted: the feed sees the restart, invalidates the books, then syncs on the next snapshot', async () => {
    const names = uniqueNames('pubrestart');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const first = await publisherOn(SHARED_NATS, names, 42);
    const a = new ViewSource('binance', first.handle);
    a.book('BTC/USDT', 1, true, [99, 1], [101, 1]);
    for (let i = 0; i < 50; i++) a.trade('BTC/USDT', i);
    expect(await first.settled()).toBe(true);

    const { feed, got } = await feedOn(SHARED_NATS, names);
    await waitFor(() => got.length >= 51, 'the first publisher’s records');
    expect(feed.book('binance', 'BTC/USDT')?.synced).toBe(true);
    await first.close();

    // The same publisher id again (a restarted process): a new epoch, so new message ids.
    await new Promise((r) => setTimeout(r, 5));
    const second = await publisherOn(SHARED_NATS, names, 42);
    expect(second.epoch).not.toBe(first.epoch);
    const b = new ViewSource('binance', second.handle);
    b.trade('BTC/USDT', 50);
    await waitFor(() => feed.stats().feed.publisherRestarts === 1, 'the feed to see the restart');
    await waitFor(() => got.some((r) => r.type === 'status' && r.status === 'disconnected'), 'a disconnected status');
    expect(feed.book('binance', 'BTC/USDT')?.synced).toBe(false);
    b.book('BTC/USDT', 2, true, [98, 1], [100, 1]);
    await waitFor(() => feed.book('binance', 'BTC/USDT')?.synced === true, 'the book synced from the new snapshot');
    expect(feed.book('binance', 'BTC/USDT')?.bestBid()).toBe(98);
    expect(tradeSeqs(got)).toEqual(range(0, 51));
    expect(feed.stats().feed).toMatchObject({ gaps: 0, duplicates: 0 });
  });

  it('dedup window holds: batches sent again under the same message ids are stored once', async () => {
    const names = uniqueNames('dedup');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const first = await publisherOn(SHARED_NATS, names, 7);
    const a = new ViewSource('binance', first.handle);
    for (let i = 0; i < 40; i++) a.trade('BTC/USDT', i);
    expect(await first.settled()).toBe(true);
    // The same publisher id and epoch sending the same subject sequence again = a retry after a lost ack.
    const again = await publisherOn(SHARED_NATS, names, 7);
    Object.defineProperty(again, 'epoch', { value: first.epoch });
    const b = new ViewSource('binance', again.handle);
    for (let i = 0; i < 40; i++) b.trade('BTC/USDT', i);
    expect(await again.settled()).toBe(true);
    expect(again.stats().duplicates).toBe(again.stats().batches);
    const { feed, got } = await feedOn(SHARED_NATS, names);
    await waitFor(() => got.length >= 40, 'the 40 records');
    await new Promise((r) => setTimeout(r, 200));
    expect(tradeSeqs(got)).toEqual(range(0, 40));
    expect(feed.stats().feed.duplicates).toBe(0);
  });

  it('slow remote consumer: bounded local ring, waits counted, status behind while far behind the stream', async () => {
    const names = uniqueNames('slow');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const pub = await publisherOn(SHARED_NATS, names);
    const src = new ViewSource('binance', pub.handle);
    for (let i = 0; i < 4000; i++) src.trade('BTC/USDT', i);
    expect(await pub.settled()).toBe(true);

    const feed = await connectFeed({ servers: SHARED_NATS, ...names, from: 'all', ringBytes: 4096, behindMessages: 50 });
    cleanups.push(() => feed.close());
    const seqs: number[] = [];
    let sawBehind = false;
    feed.onView((v) => {
      if (v.type !== 'trade') return;
      seqs.push(v.seq);
      const until = performance.now() + 0.05;
      while (performance.now() < until) {} // a handler slower than the stream
      if (feed.stats().feed.subscriptions[0]!.status === 'behind') sawBehind = true;
    });
    await waitFor(() => seqs.length >= 4000, 'all 4000 through the slow handler', 30_000);
    expect(seqs).toEqual(range(0, 4000));
    const s = feed.stats();
    expect(sawBehind).toBe(true);
    expect(s.feed.slowWaits).toBeGreaterThan(0);
    expect(s.feed.subscriptions[0]!.behindEvents).toBeGreaterThanOrEqual(1);
    await waitFor(() => feed.stats().feed.subscriptions[0]!.status === 'live', 'live again once caught up');
  }, 60_000);
});
