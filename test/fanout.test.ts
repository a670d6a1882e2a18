import { describe, expect, it } from 'vitest';
import { resolvePublishOptions } from '../src/fanout/fanout-options.js';
import { connectFeed, } from '../src/fanout/feed.js';
import type { MarketRecord } from '../src/records/types.js';
import { fanoutRig } from './helpers/fanout-rig.js';
import { deleteStream, SHARED_NATS, uniqueNames } from './helpers/nats-server.js';
import { ViewSource } from './helpers/record-views.js';
import { waitFor } from './helpers/wait.js';

const { cleanups, publisherOn, feedOn } = fanoutRig({ maxBatchRecords: 16 });

const tradeSeqs = (rs: MarketRecord[], symbol: string): number[] => rs.filter((r) => r.type === 'trade' && r.symbol === symbol).map((r) => r.seq);
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

describe('publish → JetStream → connectFeed', () => {
  it('delivers every record of every subject in order, batched, with the consumer API', async () => {
    const names = uniqueNames('basic');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const pub = await publisherOn(SHARED_NATS, names);
    const src = new ViewSource('binance', pub.handle);
    for (let i = 0; i < 500; i++) {
      src.trade('BTC/USDT', i);
      src.trade('ETH/USDT', 1000 + i);
    }
    src.book('BTC/USDT', 1, true, [99, 1, 98, 2], [101, 1, 102, 3]);
    src.book('BTC/USDT', 2, false, [99, 0, 97, 5], [100.5, 2]);
    expect(await pub.settled()).toBe(true);
    expect(pub.stats()).toMatchObject({ records: 1002, recordsAcked: 1002, dropped: 0 });
    expect(pub.stats().recordsPerBatch).toBeGreaterThan(1);

    const { feed, got } = await feedOn(SHARED_NATS, names);
    await waitFor(() => got.length >= 1002, 'all 1002 records on the feed');
    expect(tradeSeqs(got, 'BTC/USDT')).toEqual(range(0, 500));
    expect(tradeSeqs(got, 'ETH/USDT')).toEqual(range(1000, 1500));
    const book = feed.book('binance', 'BTC/USDT');
    expect(book?.synced).toBe(true);
    expect(book?.bestBid()).toBe(98);
    expect(book?.bestAsk()).toBe(100.5);
    const s = feed.stats();
    expect(s.messages).toBe(1002);
    expect(s.integrityErrors).toBe(0);
    expect(s.feed).toMatchObject({ gaps: 0, duplicates: 0, missingRecords: 0 });
    expect(s.latencyUs.recvToConsume.count).toBe(1002);
    // records() and a subject filter: only ETH trades.
    const eth = await connectFeed({ servers: SHARED_NATS, stream: names.stream, subjects: `${names.prefix}.binance.trade.ETH~2FUSDT`, from: 'all' });
    cleanups.push(() => eth.close());
    const it = eth.records({ types: ['trade'] });
    const first = await it.next();
    expect(first.value).toMatchObject({ type: 'trade', symbol: 'ETH/USDT', seq: 1000 });
    await it.return?.();
  });

  it('resumes from a JetStream sequence with no loss and no duplicate', async () => {
    const names = uniqueNames('resume');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const pub = await publisherOn(SHARED_NATS, names);
    const src = new ViewSource('binance', pub.handle);
    for (let i = 0; i < 300; i++) src.trade('BTC/USDT', i);
    expect(await pub.settled()).toBe(true);

    const first = await feedOn(SHARED_NATS, names);
    await waitFor(() => first.got.length >= 300, 'the first 300');
    const last = first.feed.stats().feed.subscriptions[0]!.lastSequence;
    await first.feed.close();

    for (let i = 300; i < 700; i++) src.trade('BTC/USDT', i);
    expect(await pub.settled()).toBe(true);
    const second = await feedOn(SHARED_NATS, names, { from: last + 1 });
    await waitFor(() => second.got.length >= 400, 'the next 400');
    await new Promise((r) => setTimeout(r, 100));
    expect(tradeSeqs(first.got, 'BTC/USDT')).toEqual(range(0, 300));
    expect(tradeSeqs(second.got, 'BTC/USDT')).toEqual(range(300, 700));
  });

  it('refuses bad options naming the option', async () => {
    await expect(connectFeed({ servers: 'http://x' })).rejects.toThrow(/connectFeed.servers must use nats:/);
    await expect(connectFeed({ servers: SHARED_NATS, from: -1 as never })).rejects.toThrow(/connectFeed.from/);
    await expect(connectFeed({ servers: SHARED_NATS, bogus: 1 } as never)).rejects.toThrow(/unknown option connectFeed.bogus/);
    expect(() => resolvePublishOptions({ servers: SHARED_NATS, maxBatchRecords: 0 })).toThrow(/publish.maxBatchRecords/);
    expect(() => resolvePublishOptions({ servers: SHARED_NATS, prefix: 'a.*' })).toThrow(/publish.prefix/);
  });
});
