import { describe, expect, it } from 'vitest';
import { connectFeed } from '../src/fanout/feed.js';
import type { MarketRecord } from '../src/records/types.js';
import { fanoutRig } from './helpers/fanout-rig.js';
import { deleteStream, OwnNatsServer, SHARED_NATS, uniqueNames } from './helpers/nats-server.js';
import { ViewSource } from './helpers/record-views.js';
import { waitFor } from './helpers/wait.js';

const { cleanups, publisherOn } = fanoutRig({ maxBatchRecords: 8, closeTimeoutMs: 500 });

const tradeSeqs = (rs: MarketRecord[]): number[] => rs.filter((r) => r.type === 'trade').map((r) => r.seq);
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

describe('live-only (core NATS) feed', () => {
  it('across a NATS server restart it reports the records it missed: counted gaps and a status record, never a silent hole', async () => {
    const server = await OwnNatsServer.start();
    cleanups.push(() => server.close());
    const names = uniqueNames('core');
    const pub = await publisherOn(server.url, names, 9);
    const src = new ViewSource('binance', pub.handle);
    // The feed comes back 3 s after the server; the publisher after 250 ms, and sends what it buffered meanwhile.
    const feed = await connectFeed({ servers: server.url, ...names, mode: 'core', reconnectWaitMs: 3000 });
    cleanups.push(() => feed.close());
    const got: MarketRecord[] = [];
    feed.onRecord((r) => got.push(r));
    for (let i = 0; i < 200; i++) src.trade('BTC/USDT', i);
    await waitFor(() => got.length >= 200, 'the first 200 live');
    expect(feed.stats().feed.subscriptions[0]).toMatchObject({ status: 'live', lastSequence: 0 });

    await server.stop();
    await waitFor(() => pub.stats().state === 'reconnecting' && feed.stats().feed.subscriptions[0]!.status === 'disconnected', 'both to see the server gone');
    for (let i = 200; i < 500; i++) src.trade('BTC/USDT', i);
    await server.resume();
    expect(await pub.settled(10_000)).toBe(true);
    expect(pub.stats()).toMatchObject({ recordsAcked: 500, dropped: 0 });
    await waitFor(() => feed.stats().feed.subscriptions[0]!.status === 'live', 'the core feed back', 15_000);
    for (let i = 500; i < 600; i++) src.trade('BTC/USDT', i);
    await waitFor(() => tradeSeqs(got).includes(599), 'the trades sent after the feed came back');

    const seqs = tradeSeqs(got);
    const missed = 600 - seqs.length;
    console.log(`core feed across a restart: ${seqs.length} of 600 delivered, ${missed} missed in ${feed.stats().feed.gaps} gap(s), all reported`);
    expect(missed).toBeGreaterThan(0); // the 300 sent while the feed was away never reached it
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b)); // in order, no repeat
    expect(seqs.slice(0, 200)).toEqual(range(0, 200));
    expect(seqs.slice(-100)).toEqual(range(500, 600));
    const s = feed.stats();
    expect(s.feed.missingRecords).toBe(missed);
    expect(s.feed.gaps).toBeGreaterThanOrEqual(1);
    expect(s.gaps).toBe(s.feed.gaps);
    expect(s.drops).toBe(missed);
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    // The gap is a record in the stream of records, before the first trade after it.
    const dropped = got.filter((r) => r.type === 'status' && r.status === 'dropped');
    expect(dropped.map((r) => (r.type === 'status' ? r.detail : 0)).reduce((a, b) => a + b, 0)).toBe(missed);
    const firstAfter = got.findIndex((r) => r.type === 'trade' && r.seq > 199 && r.seq !== 200);
    expect(got.findIndex((r) => r.type === 'status' && r.status === 'dropped')).toBeLessThan(firstAfter);
    expect(s.integrityErrors).toBe(0);
  }, 60_000);

  it('a core feed syncs a book from the next live snapshot and follows its deltas', async () => {
    const names = uniqueNames('corebook');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const pub = await publisherOn(SHARED_NATS, names, 10, { bookSnapshotIntervalMs: 100 });
    const src = new ViewSource('binance', pub.handle);
    src.book('BTC/USDT', 1, true, [99, 1, 98, 2], [101, 1, 102, 2]);
    expect(await pub.settled()).toBe(true);
    const feed = await connectFeed({ servers: SHARED_NATS, ...names, mode: 'core' });
    cleanups.push(() => feed.close());
    expect(feed.book('binance', 'BTC/USDT')).toBeUndefined();
    await waitFor(() => feed.book('binance', 'BTC/USDT')?.synced === true, 'the book synced from a live snapshot', 5000);
    src.book('BTC/USDT', 2, false, [99, 0, 97, 4], []);
    await waitFor(() => feed.book('binance', 'BTC/USDT')?.seq === 2, 'the delta after the snapshot');
    expect(feed.book('binance', 'BTC/USDT')?.levels('bids')).toEqual([
      [98, 2],
      [97, 4],
    ]);
    expect(feed.stats().feed).toMatchObject({ gaps: 0, duplicates: 0 });
    expect(feed.stats().feed.snapshotsLoaded).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('a core feed slower than the live rate keeps bounded memory: it lets messages go, is `behind`, and reports the hole', async () => {
    const names = uniqueNames('coreslow');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const pub = await publisherOn(SHARED_NATS, names, 11);
    const src = new ViewSource('binance', pub.handle);
    const feed = await connectFeed({ servers: SHARED_NATS, ...names, mode: 'core', ringBytes: 4096, behindMessages: 20, iteratorHighWaterMark: 10 });
    cleanups.push(() => feed.close());
    // Not read for now: it holds the consumer, the ring fills, messages wait.
    const iter = feed.records({ types: ['trade'] });
    const sub = () => feed.stats().feed.subscriptions[0]!;
    for (let i = 0; i < 3000; i++) src.trade('BTC/USDT', i);
    expect(await pub.settled()).toBe(true);
    await waitFor(() => feed.stats().feed.skipped > 0 && sub().status === 'behind', 'messages let go while held back');
    expect(sub().pending).toBeLessThanOrEqual(20);
    const seqs: number[] = [];
    const reading = (async () => {
      for await (const r of iter) {
        seqs.push(r.type === 'trade' ? r.seq : -1);
        if (seqs.at(-1) === 3000) break;
      }
    })();
    await waitFor(() => sub().status === 'live' && sub().pending === 0, 'caught up');
    src.trade('BTC/USDT', 3000); // the next message shows the hole
    await reading;
    const s = feed.stats().feed;
    expect(s.subscriptions[0]!.behindEvents).toBeGreaterThanOrEqual(1);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(seqs.length).toBeLessThan(3001);
    expect(s.missingRecords).toBe(3001 - seqs.length);
    expect(s.gaps).toBeGreaterThanOrEqual(1);
    expect(feed.stats().gaps).toBe(s.gaps);
    console.log(`slow core feed: ${seqs.length} of 3001 taken, ${s.skipped} messages let go, ${s.missingRecords} records reported missing in ${s.gaps} gap(s)`);
  }, 60_000);

  it('refuses a core feed that asks for history', async () => {
    await expect(connectFeed({ servers: SHARED_NATS, mode: 'core', from: 'all' })).rejects.toThrow(/connectFeed.from must be "new" with mode "core"/);
    await expect(connectFeed({ servers: SHARED_NATS, mode: 'fast' as never })).rejects.toThrow(/connectFeed.mode must be "jetstream" or "core"/);
    await expect(connectFeed({ servers: SHARED_NATS, reconnectWaitMs: 0 })).rejects.toThrow(/connectFeed.reconnectWaitMs/);
  });
});
