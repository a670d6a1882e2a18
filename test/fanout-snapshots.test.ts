import { describe, expect, it } from 'vitest';
import { BookKeeper } from '../src/book/book-keeper.js';
import { resolvePublishOptions } from '../src/fanout/fanout-options.js';
import { connectFeed, snapshotFilterFor } from '../src/fanout/feed.js';
import { bookSnapshotSubject, bookSubjectOfSnapshot, subjectMatches } from '../src/fanout/subjects.js';
import type { MarketRecord } from '../src/records/types.js';
import type { RecordView } from '../src/records/view.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';
import { engineFor } from './helpers/engine.js';
import { fanoutRig } from './helpers/fanout-rig.js';
import { deleteStream, SHARED_NATS, uniqueNames } from './helpers/nats-server.js';
import { ViewSource } from './helpers/record-views.js';
import { waitFor } from './helpers/wait.js';

const { cleanups, publisherOn } = fanoutRig({ maxBatchRecords: 8 });

/** Both sides of a book as one comparable value. */
const levelsOf = (b: { levels(side: 'bids' | 'asks'): [number, number][] } | undefined) => JSON.stringify(b === undefined ? null : [b.levels('bids'), b.levels('asks')]);

describe('book snapshots for late joiners', () => {
  it.each([
    ['keeps its own books', false],
    ['reads the books it is given (the engine’s)', true],
  ] as const)('a `new` feed loads the last snapshot of each book it covers, synced when connectFeed resolves, then applies the later deltas with no gap and no repeat (the publisher %s)', async (_, given) => {
    const names = uniqueNames('snap');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    // What the publisher's side holds, kept by a book keeper of the test's own (updated before the publisher sees a record, as the engine's is).
    const truth = new BookKeeper();
    const pub = await publisherOn(SHARED_NATS, names, 3, { bookSnapshotIntervalMs: 100 }, given ? truth : undefined);
    let truthTracked = false;
    let src: ViewSource | undefined;
    src = new ViewSource('binance', (v: RecordView) => {
      if (!truthTracked && v.type === 'book') {
        truth.track(v.symbolId, 'binance', v.symbol);
        truthTracked = true;
      }
      truth.handle(v);
      pub.handle(v);
    });
    const id = src.symbolId('BTC/USDT');
    src.book('BTC/USDT', 1, true, [99, 1, 98, 2, 97, 3], [101, 1, 102, 2, 103, 3]);
    let seq = 2;
    const delta = () => {
      const p = 90 + (seq % 9);
      src!.book('BTC/USDT', seq, false, [p, seq % 4], [p + 12, (seq + 1) % 3]);
      seq++;
    };
    for (let i = 0; i < 200; i++) delta();
    for (let i = 0; i < 100; i++) src.trade('BTC/USDT', i);
    expect(await pub.settled()).toBe(true);
    const snapshotsBefore = pub.stats().snapshots;
    await waitFor(() => pub.stats().snapshots >= snapshotsBefore + 2, 'two more snapshots stored');
    // Deltas keep coming while the feed joins: some are in the snapshot, some after it, some not yet stored.
    const timer = setInterval(() => {
      for (let i = 0; i < 5; i++) delta();
    }, 2);
    cleanups.push(async () => clearInterval(timer));
    const feed = await connectFeed({ servers: SHARED_NATS, ...names, from: 'new' });
    cleanups.push(() => feed.close());
    const atJoin = feed.book('binance', 'BTC/USDT');
    expect(atJoin?.synced).toBe(true);
    const joinSeq = atJoin!.seq;
    expect(joinSeq).toBeGreaterThanOrEqual(201);
    expect(feed.stats().feed.snapshotsLoaded).toBe(1);
    const seen: number[] = [];
    const got: MarketRecord[] = [];
    feed.onView((v) => {
      if (v.type === 'book') seen.push(v.seq);
    });
    feed.onRecord((r) => got.push(r));
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(timer);
    const last = seq - 1;
    expect(await pub.settled()).toBe(true);
    await waitFor(() => feed.book('binance', 'BTC/USDT')?.seq === last, `the feed's book at the last delta ${last}`);
    // Every delta after the snapshot, once each, in order; the book equals the publisher side's.
    expect(seen).toEqual(Array.from({ length: last - joinSeq }, (_, i) => joinSeq + 1 + i));
    expect(levelsOf(feed.book('binance', 'BTC/USDT'))).toBe(levelsOf(truth.get(id)));
    // `new` still means new for everything else: the trades sent before the join are not replayed.
    expect(got.filter((r) => r.type === 'trade')).toEqual([]);
    expect(feed.stats().feed).toMatchObject({ gaps: 0, duplicates: 0, missingRecords: 0, publisherRestarts: 0 });
    expect(feed.stats().integrityErrors).toBe(0);

    // A feed whose filters cover no book loads no snapshot.
    const trades = await connectFeed({ servers: SHARED_NATS, ...names, subjects: `${names.prefix}.*.trade.>`, from: 'new' });
    cleanups.push(() => trades.close());
    expect(trades.stats().feed.snapshotsLoaded).toBe(0);
  }, 30_000);

  it('a feed joining an engine that has been publishing for a while has, at once, the engine’s book, long before any venue snapshot', async () => {
    const sim: Simulator = await startSimulator({ seed: 31, ratePerStream: 60 });
    cleanups.push(() => sim.close());
    const names = uniqueNames('snapengine');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const { engine } = engineFor(sim);
    cleanups.push(() => engine.close());
    const symbols = ['BTC/USDT', 'ETH/USDT'];
    // The engine's book after each update, by symbol and venue sequence.
    const engineBooks = new Map<string, string>();
    engine.onView((v) => {
      if (v.type === 'book') engineBooks.set(`${v.symbol}:${v.seq}`, levelsOf(engine.book('binance', v.symbol)));
    });
    const publisher = await engine.publish({ servers: SHARED_NATS, ...names, bookSnapshotIntervalMs: 200 });
    engine.subscribe({ exchange: 'binance', channels: ['trades', 'book'], symbols });
    await waitFor(() => symbols.every((s) => engine.book('binance', s)?.synced === true), 'the engine’s books synced', 20_000);
    await waitFor(() => publisher.stats().snapshots >= 6, 'three rounds of snapshots', 20_000);

    const t0 = performance.now();
    const feed = await connectFeed({ servers: SHARED_NATS, stream: names.stream, prefix: names.prefix, from: 'new' });
    const joinMs = performance.now() - t0;
    cleanups.push(() => feed.close());
    const feedBooks: { key: string; levels: string; snapshot: boolean }[] = [];
    for (const s of symbols) {
      const b = feed.book('binance', s);
      expect(b?.synced, `${s} synced when connectFeed resolved`).toBe(true);
      feedBooks.push({ key: `${s}:${b!.seq}`, levels: levelsOf(b), snapshot: true });
    }
    feed.onView((v) => {
      if (v.type === 'book') feedBooks.push({ key: `${v.symbol}:${v.seq}`, levels: levelsOf(feed.book('binance', v.symbol)), snapshot: v.snapshot });
    });
    await waitFor(() => feedBooks.length >= 40, '40 book updates on the feed after the join', 20_000);
    await engine.close();
    await waitFor(() => publisher.stats().state === 'closed', 'the publisher closed with the engine');
    await new Promise((r) => setTimeout(r, 300));

    // Each book state the feed had — at the join, and after every later delta — is the engine's at the same venue sequence.
    for (const f of feedBooks) expect(f.levels, f.key).toBe(engineBooks.get(f.key));
    // After the join, only deltas: the sync came from the stream's snapshot, not from the venue.
    expect(feedBooks.slice(symbols.length).filter((f) => f.snapshot)).toEqual([]);
    // No delta missing or repeated: the feed's sequences after the join are the engine's.
    for (const s of symbols) {
      const fSeqs = feedBooks.filter((f) => f.key.startsWith(`${s}:`)).map((f) => Number(f.key.split(':')[1]));
      const eSeqs = [...engineBooks.keys()].filter((k) => k.startsWith(`${s}:`)).map((k) => Number(k.split(':')[1]));
      expect(fSeqs).toEqual(eSeqs.filter((q) => q >= fSeqs[0]!));
    }
    expect(feed.stats().feed).toMatchObject({ gaps: 0, duplicates: 0, snapshotsLoaded: 2 });
    console.log(`late joiner: books synced ${joinMs.toFixed(1)} ms after connectFeed was called`);
    expect(joinMs).toBeLessThan(2000);
  }, 60_000);

  it('a snapshot from before a publisher restart is not loaded; the restarted publisher’s is, with the deltas stored after it', async () => {
    const names = uniqueNames('snaprestart');
    cleanups.push(() => deleteStream(SHARED_NATS, names.stream));
    const hourly = { bookSnapshotIntervalMs: 3_600_000 }; // snapshots only when the test says
    const first = await publisherOn(SHARED_NATS, names, 12, hourly);
    const a = new ViewSource('binance', first.handle);
    a.book('BTC/USDT', 1, true, [99, 1], [101, 1]);
    a.book('BTC/USDT', 2, false, [98, 1], []);
    expect(await first.settled()).toBe(true);
    first.snapshotBooksNow();
    await waitFor(() => first.stats().snapshots === 1, 'the first publisher’s snapshot');
    await first.close();
    await new Promise((r) => setTimeout(r, 5)); // another epoch
    const second = await publisherOn(SHARED_NATS, names, 12, hourly);
    const b = new ViewSource('binance', second.handle);
    b.book('BTC/USDT', 50, true, [90, 5], [110, 5]);
    expect(await second.settled()).toBe(true);

    const stale = await connectFeed({ servers: SHARED_NATS, ...names, from: 'new' });
    cleanups.push(() => stale.close());
    expect(stale.stats().feed.snapshotsLoaded).toBe(0);
    expect(stale.book('binance', 'BTC/USDT')?.synced ?? false).toBe(false);

    second.snapshotBooksNow();
    await waitFor(() => second.stats().snapshots === 1, 'the second publisher’s snapshot');
    b.book('BTC/USDT', 51, false, [], [110, 0, 111, 2]);
    expect(await second.settled()).toBe(true);
    const fresh = await connectFeed({ servers: SHARED_NATS, ...names, from: 'new' });
    cleanups.push(() => fresh.close());
    expect(fresh.stats().feed.snapshotsLoaded).toBe(1);
    expect(fresh.book('binance', 'BTC/USDT')?.synced).toBe(true);
    // The delta stored after the snapshot but before the join is applied too.
    await waitFor(() => fresh.book('binance', 'BTC/USDT')?.seq === 51, 'the stored delta after the snapshot');
    expect(levelsOf(fresh.book('binance', 'BTC/USDT'))).toBe(JSON.stringify([[[90, 5]], [[111, 2]]]));
    expect(fresh.stats().feed).toMatchObject({ gaps: 0, duplicates: 0, publisherRestarts: 0 });
  }, 30_000);

  it('subject helpers: snapshot subjects sit outside the data stream’s subjects and map back to their book', () => {
    const snap = bookSnapshotSubject('ringfeed', 'binance', 'BTC/USDT');
    expect(snap).toBe('ringfeed_snap.binance.book.BTC~2FUSDT');
    expect(subjectMatches('ringfeed.>', snap)).toBe(false);
    expect(bookSubjectOfSnapshot('ringfeed', snap)).toBe('ringfeed.binance.book.BTC~2FUSDT');
    expect(subjectMatches('ringfeed.*.book.*', 'ringfeed.binance.book.X')).toBe(true);
    expect(subjectMatches('ringfeed.binance.>', 'ringfeed.binance')).toBe(false);
    expect(subjectMatches('ringfeed.*.trade.*', 'ringfeed.binance.book.X')).toBe(false);
    expect(snapshotFilterFor('ringfeed.>', 'ringfeed')).toBe('ringfeed_snap.>');
    expect(snapshotFilterFor('ringfeed.binance.>', 'ringfeed')).toBe('ringfeed_snap.binance.book.*');
    expect(snapshotFilterFor('ringfeed.binance.book.ETH~2FUSDT', 'ringfeed')).toBe('ringfeed_snap.binance.book.ETH~2FUSDT');
    expect(snapshotFilterFor('ringfeed.*.trade.>', 'ringfeed')).toBeUndefined();
  });

  it('refuses a bad snapshot interval naming the option', () => {
    expect(() => resolvePublishOptions({ servers: SHARED_NATS, bookSnapshotIntervalMs: 50 })).toThrow(/publish\.bookSnapshotIntervalMs must be 0 \(off\) or an integer from 100/);
    expect(() => resolvePublishOptions({ servers: SHARED_NATS, bookSnapshotIntervalMs: '1s' })).toThrow(/publish\.bookSnapshotIntervalMs/);
    expect(resolvePublishOptions({ servers: SHARED_NATS, bookSnapshotIntervalMs: 0 }).bookSnapshotIntervalMs).toBe(0);
    expect(resolvePublishOptions({ servers: SHARED_NATS }).bookSnapshotIntervalMs).toBe(1000);
  });
});
