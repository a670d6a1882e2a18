import { EventEmitter } from 'node:events';
import {
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type OrderedConsumerOptions,
  type StoredMsg,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import { type Logger, pino } from 'pino';
import { BookKeeper, type L2Book } from '../book/book-keeper.js';
import { nowMs } from '../clock.js';
import { Consumer } from '../consumer/consumer.js';
import type { RecordFilter } from '../engine/checks.js';
import type { RecordConsumer } from '../engine/consumer-api.js';
import type { ConnectionStats, EngineStats } from '../engine/engine.js';
import { REDACT_PATHS } from '../engine/engine.js';
import { RingfeedError } from '../engine/errors.js';
import { RecordDelivery } from '../engine/record-delivery.js';
import { RecordEncoder } from '../records/encoder.js';
import { OFF_RECV_TS, OFF_STREAM_SEQ, OFF_SYMBOL_ID, OFF_TYPE } from '../records/layout.js';
import { SymbolTable } from '../records/symbols.js';
import type { MarketRecord } from '../records/types.js';
import { RecordType, ResyncReason, StatusCode } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import { Doorbell } from '../ring/doorbell.js';
import { createRing, RingWriter } from '../ring/ring.js';
import type { ConnectionState } from '../supervisor/connection-supervisor.js';
import type { Channel } from '../venues/contract.js';
import { CHANNEL_RECORD_TYPE } from '../venues/rejection.js';
import { type DecodedBatch, decodeBatch } from './batch-codec.js';
import { snapshotStreamName } from './fanout-options.js';
import { type FeedOptions, type ResolvedFeedOptions, resolveFeedOptions } from './feed-options.js';
import { SNAPSHOT_AFTER_HEADER } from './publisher.js';
import { bookSubjectOfSnapshot, snapshotPrefix, subjectMatches } from './subjects.js';

/** `live`: caught up; `behind`: more than `behindMessages` left in the stream; `disconnected`: NATS is away. */
export type FeedSubscriptionStatus = 'connecting' | 'live' | 'behind' | 'disconnected' | 'closed';

export interface FeedSubscriptionStats {
  readonly subject: string;
  readonly status: FeedSubscriptionStatus;
  /** NATS messages (batches) received. */
  readonly messages: number;
  readonly bytes: number;
  readonly records: number;
  /** JetStream stream sequence of the last message taken: start a new feed at this + 1 to resume. */
  readonly lastSequence: number;
  /** Messages left in the stream for this filter when the last one arrived. */
  readonly pending: number;
  /** Times it fell `behind`. */
  readonly behindEvents: number;
  readonly badMessages: number;
  readonly reconnects: number;
  /** Times the JetStream consumer was recreated (after a server restart) and resumed. */
  readonly resumes: number;
}

export interface FeedCounters {
  /**
   * Publisher batches missing (a publisher's subject sequence jumped). Each gap is also written as
   * a status record (`resync` for a book, which is then unsynced; `dropped` with the count otherwise).
   */
  readonly gaps: number;
  /** Records in those missing batches. */
  readonly missingRecords: number;
  /** Batches received twice (same publisher, epoch and subject sequence), skipped. */
  readonly duplicates: number;
  /** A publisher seen with a new epoch: it restarted; its venue's books were invalidated. */
  readonly publisherRestarts: number;
  /** Times the local ring was full and the feed waited for the handlers (a slow consumer). */
  readonly slowWaits: number;
  /** Book snapshots applied (from the snapshot stream at a `new` start, or live in `core` mode). */
  readonly snapshotsLoaded: number;
  /** `core` mode: messages let go while `behindMessages` were waiting (their records show as gaps). */
  readonly skipped: number;
}

export interface FeedStats extends EngineStats {
  readonly feed: FeedCounters & { readonly subscriptions: readonly FeedSubscriptionStats[] };
}

interface Subscription {
  readonly subject: string;
  status: FeedSubscriptionStatus;
  messages: number;
  bytes: number;
  records: number;
  lastSequence: number;
  pending: number;
  behindEvents: number;
  badMessages: number;
  reconnects: number;
  resumes: number;
  iterator: ConsumerMessages | undefined;
  natsSub: NatsSubscription | undefined;
}

/** A book loaded from a snapshot: its batches up to subject sequence `n` are in it already. */
interface Cover {
  readonly n: number;
  readonly publisherId: number;
  readonly epoch: number;
  readonly publishTs: number;
}

const HEARTBEAT_MS = 1000;

/** Record type → the first channel that carries it (trades, not aggTrades; ticker, not funding). */
const TYPE_CHANNEL: Partial<Record<number, Channel>> = {};
for (const [channel, type] of Object.entries(CHANNEL_RECORD_TYPE)) TYPE_CHANNEL[type] ??= channel as Channel;

const CONNECTION_STATE: Record<FeedSubscriptionStatus, ConnectionState> = {
  connecting: 'connecting',
  live: 'connected',
  behind: 'stale',
  disconnected: 'reconnecting',
  closed: 'closed',
};

/**
 * Records from a JetStream stream, behind the same consumer API as the engine: each batch's
 * records are written into a local ring and the engine's own Consumer, BookKeeper and record
 * iterator run over it. Records get this feed's consecutive streamSeq; loss upstream is detected
 * from the publishers' subject sequences in each batch header (`stats().feed`). One ordered
 * JetStream consumer per subject filter: it resumes after the last sequence it delivered when
 * the server or connection comes back.
 */
export class RemoteFeed extends EventEmitter<{ closed: [] }> implements RecordConsumer {
  readonly log: Logger;
  private readonly symbols = new SymbolTable();
  private readonly doorbell = Doorbell.create();
  private readonly ring: SharedArrayBuffer;
  private readonly writer: RingWriter;
  private readonly consumer: Consumer;
  private readonly books = new BookKeeper();
  private readonly delivery: RecordDelivery;
  private readonly subs: Subscription[];
  /** `${publisherId}.${epoch}.${subject}` → next expected subject sequence. */
  private readonly expected = new Map<string, number>();
  /** publisherId → its epoch in the last batch (another one: the publisher restarted). */
  private readonly epochs = new Map<number, number>();
  private readonly counters = { gaps: 0, missingRecords: 0, duplicates: 0, publisherRestarts: 0, slowWaits: 0, snapshotsLoaded: 0, skipped: 0 };
  /** Book subject → the snapshot it was loaded from, until its first batch past the snapshot. */
  private readonly covered = new Map<string, Cover>();
  /** Book subjects loaded from a snapshot at a `new` start: their batches stored before the start are still read. */
  private readonly preloadedSubjects = new Set<string>();
  /** Last stream sequence when a `new` feed started from snapshots (0: not so started). */
  private joinSeq = 0;
  /** Records missing in book gaps (a `resync` status carries no count; `dropped` ones count in the consumer). */
  private bookGapRecords = 0;
  /** `core` mode: messages are taken one after the other in arrival order, across subscriptions. */
  private chain: Promise<void> = Promise.resolve();
  /** symbolId * 8 + record type → the stream it is (for `stats().perStream`). */
  private readonly seen = new Map<number, { exchange: string; symbol: string; type: number }>();
  private localSeq = 0;
  private handlerErrors = 0;
  private nc: NatsConnection | undefined;
  private closing: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly options: ResolvedFeedOptions,
    logger?: Logger,
  ) {
    super();
    this.log = logger ?? pino({ name: 'ringfeed-feed', level: 'info', redact: REDACT_PATHS }, pino.destination({ dest: 2, sync: false }));
    this.ring = createRing(options.ringBytes);
    this.writer = new RingWriter(this.ring, new Doorbell(this.doorbell));
    this.consumer = new Consumer(this.symbols, this.doorbell, () => {
      this.handlerErrors++;
    });
    this.consumer.addRing(1, this.ring);
    this.consumer.addHandler(this.books.handle);
    this.delivery = new RecordDelivery({
      consumer: this.consumer,
      books: this.books,
      symbols: this.symbols,
      iteratorHighWaterMark: options.iteratorHighWaterMark,
      log: this.log,
      onPause: () => {},
      onClosed: (end) => {
        this.once('closed', end);
        return () => this.off('closed', end);
      },
    });
    this.subs = options.subjects.map((subject) => ({
      subject,
      status: 'connecting',
      messages: 0,
      bytes: 0,
      records: 0,
      lastSequence: 0,
      pending: 0,
      behindEvents: 0,
      badMessages: 0,
      reconnects: 0,
      resumes: 0,
      iterator: undefined,
      natsSub: undefined,
    }));
  }

  async start(): Promise<void> {
    const o = this.options;
    const nc = await connect({ servers: o.servers, maxReconnectAttempts: -1, reconnectTimeWait: o.reconnectWaitMs, name: 'ringfeed-feed' });
    this.nc = nc;
    if (o.mode === 'core') {
      this.consumer.start();
      void this.watchStatus(nc);
      this.subscribeCore(nc);
      // The subscriptions are registered at the server once this returns.
      await nc.flush();
      return;
    }
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    // Fails here (not later) when the stream does not exist.
    const info = await jsm.streams.info(o.stream);
    const starts = o.from === 'new' ? await this.loadSnapshots(jsm, info.state.last_seq) : [];
    // Drains the loaded snapshots at once: book() is synced when connectFeed resolves.
    this.consumer.start();
    void this.watchStatus(nc);
    this.subs.forEach((sub, i) => {
      this.loops.push(this.run(js, sub, starts[i]));
    });
  }

  /**
   * A `new` start syncs books at once: the last snapshot of each book the filters cover is read
   * from the snapshot stream and applied, and each subject filter's consumer starts at the first
   * stream sequence that can hold a batch past a loaded snapshot (the snapshot's
   * `Ringfeed-After-Seq` + 1, or just after the book's last stored batch when the snapshot already
   * holds it). Between there and the stream's last sequence at the start, only the loaded books'
   * batches past their snapshot are taken; everything else starts live, as `new` says.
   * Returns each subscription's start sequence (undefined: no snapshot, start live).
   */
  private async loadSnapshots(jsm: JetStreamManager, lastSeq: number): Promise<(number | undefined)[]> {
    const starts: (number | undefined)[] = this.subs.map(() => undefined);
    const stream = snapshotStreamName(this.options.stream);
    let subjects: Record<string, number> | undefined;
    try {
      subjects = (await jsm.streams.info(stream, { subjects_filter: `${snapshotPrefix(this.options.prefix)}.>` })).state.subjects;
    } catch (err) {
      if (/not found/i.test((err as Error).message)) return starts; // a publisher without snapshots
      throw err;
    }
    for (const snapshotSubject of Object.keys(subjects ?? {})) {
      const bookSubject = bookSubjectOfSnapshot(this.options.prefix, snapshotSubject);
      if (bookSubject === undefined) continue;
      const i = this.subs.findIndex((s) => subjectMatches(s.subject, bookSubject));
      if (i < 0) continue;
      const msg = await lastBySubject(jsm, stream, snapshotSubject);
      if (msg === null) continue; // aged out meanwhile
      let snap: DecodedBatch;
      try {
        snap = decodeBatch(msg.data);
      } catch (err) {
        this.subs[i]!.badMessages++;
        this.log.warn({ subject: snapshotSubject, err: (err as Error).message }, 'bad book snapshot; skipped');
        continue;
      }
      const after = Number(msg.header?.get(SNAPSHOT_AFTER_HEADER) ?? 0) || 0;
      const start = await this.deltaStart(jsm, bookSubject, snap, after, lastSeq);
      if (start === undefined) {
        this.log.info({ subject: snapshotSubject }, 'book snapshot older than its publisher’s restart; the book syncs from the venue');
        continue;
      }
      await this.ingest(snap, bookSubject, true);
      this.preloadedSubjects.add(bookSubject);
      starts[i] = Math.min(starts[i] ?? lastSeq + 1, start);
    }
    if (this.preloadedSubjects.size > 0) this.joinSeq = lastSeq;
    return starts;
  }

  /** First stream sequence that can hold a batch of `bookSubject` past the snapshot (undefined: the snapshot is stale). */
  private async deltaStart(jsm: JetStreamManager, bookSubject: string, snap: DecodedBatch, after: number, lastSeq: number): Promise<number | undefined> {
    const last = await lastBySubject(jsm, this.options.stream, bookSubject);
    if (last === null) return lastSeq + 1;
    let d: DecodedBatch;
    try {
      d = decodeBatch(last.data);
    } catch {
      return after + 1;
    }
    if (d.publisherId === snap.publisherId && d.epoch === snap.epoch) return d.subjectSeq + d.count <= snap.subjectSeq ? last.seq + 1 : after + 1;
    // The book's last batch is another publisher start's: the snapshot is from before that start,
    // unless its own publisher had no batch of the book stored yet when it took it.
    return after === 0 && snap.publishTs >= d.publishTs ? last.seq + 1 : undefined;
  }

  /** `core` mode: one plain subscription per filter, plus the live book snapshots the filters cover. */
  private subscribeCore(nc: NatsConnection): void {
    const take = (sub: Subscription, snapshot: boolean) => (err: Error | null, m: { data: Uint8Array; subject: string }) => {
      if (err !== null) {
        if (!this.closing) this.log.error({ subject: sub.subject, err: err.message }, 'feed subscription ended');
        sub.status = 'closed';
        return;
      }
      // Bounded memory: past `behindMessages` waiting, messages are let go (`behind`); the
      // publishers' subject sequences then show the hole as a gap at the next message taken.
      if (this.coreQueued >= this.options.behindMessages) {
        this.counters.skipped++;
        if (sub.status === 'live') {
          sub.status = 'behind';
          sub.behindEvents++;
          this.log.warn({ subject: sub.subject, waiting: this.coreQueued }, 'core feed is behind the live rate; messages are skipped and reported as gaps');
        }
        return;
      }
      this.coreQueued++;
      sub.pending = this.coreQueued;
      this.chain = this.chain
        .then(() => (snapshot ? this.takeLiveSnapshot(sub, m.data, m.subject) : this.take(sub, m.data, m.subject)))
        .finally(() => {
          this.coreQueued--;
          sub.pending = this.coreQueued;
          if (sub.status === 'behind' && this.coreQueued < this.options.behindMessages / 2) sub.status = 'live';
        });
    };
    const snapshotFilters = new Set<string>();
    for (const sub of this.subs) {
      sub.natsSub = nc.subscribe(sub.subject, { callback: take(sub, false) });
      sub.status = 'live';
      const f = snapshotFilterFor(sub.subject, this.options.prefix);
      if (f !== undefined && !snapshotFilters.has(f)) {
        snapshotFilters.add(f);
        // Snapshot messages count on the subscription whose filter covers the book.
        const snaps = nc.subscribe(f, { callback: take(sub, true) });
        this.coreSnapshotSubs.push(snaps);
      }
    }
  }

  private readonly coreSnapshotSubs: NatsSubscription[] = [];
  /** `core` mode: messages received and not yet taken. */
  private coreQueued = 0;

  /** A live snapshot (`core` mode) syncs a book that is not synced (just joined, or after a gap). */
  private async takeLiveSnapshot(sub: Subscription, data: Uint8Array, subject: string): Promise<void> {
    if (this.closing) return;
    const bookSubject = bookSubjectOfSnapshot(this.options.prefix, subject);
    const owner = bookSubject === undefined ? undefined : this.subs.find((s) => subjectMatches(s.subject, bookSubject));
    if (bookSubject === undefined || owner === undefined) return;
    let snap: DecodedBatch;
    try {
      snap = decodeBatch(data);
    } catch (err) {
      sub.badMessages++;
      this.log.warn({ subject, err: (err as Error).message }, 'bad book snapshot; skipped');
      return;
    }
    const id = this.symbols.lookup(snap.exchange, snap.symbol);
    if (id !== undefined && this.books.get(id)?.synced === true) return;
    await this.ingest(snap, bookSubject, true);
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        for (const sub of this.subs) if (sub.status !== 'closed') sub.status = 'disconnected';
      } else if (s.type === 'reconnect') {
        for (const sub of this.subs) {
          sub.reconnects++;
          if (sub.status === 'disconnected') sub.status = 'live';
        }
      }
    }
  }

  private consumerOptions(sub: Subscription): Partial<OrderedConsumerOptions> {
    const from = this.options.from;
    const base = { filter_subjects: sub.subject };
    if (from === 'all') return { ...base, deliver_policy: DeliverPolicy.All };
    if (from === 'new') return { ...base, deliver_policy: DeliverPolicy.New };
    return { ...base, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from };
  }

  private async run(js: JetStreamClient, sub: Subscription, startSeq: number | undefined): Promise<void> {
    try {
      const options =
        startSeq === undefined ? this.consumerOptions(sub) : { filter_subjects: sub.subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq };
      const c = await js.consumers.get(this.options.stream, options);
      // Heartbeats every second: a consumer lost in a server restart is noticed and recreated
      // (after the last sequence it delivered) within seconds, not the default 30 s.
      const messages = await c.consume({ max_messages: 256, idle_heartbeat: HEARTBEAT_MS });
      sub.iterator = messages;
      // close() came while the consumer was being made: it found no iterator to stop.
      if (this.closing) messages.stop();
      void this.watchConsumer(sub, messages);
      if (sub.status === 'connecting') sub.status = 'live';
      for await (const m of messages) {
        if (this.closing) break;
        sub.lastSequence = m.seq;
        sub.pending = m.info.pending;
        this.updateBehind(sub);
        // Stored before a `new` start and not a loaded book's: not for this feed.
        if (m.seq <= this.joinSeq && !this.preloadedSubjects.has(m.subject)) continue;
        await this.take(sub, m.data, m.subject);
      }
    } catch (err) {
      if (!this.closing) this.log.error({ subject: sub.subject, err: (err as Error).message }, 'feed subscription ended');
    }
    sub.status = 'closed';
  }

  /** One NATS message: counted, decoded, its records into the ring. */
  private async take(sub: Subscription, data: Uint8Array, subject: string): Promise<void> {
    if (this.closing) return;
    sub.messages++;
    sub.bytes += data.length;
    let batch: DecodedBatch;
    try {
      batch = decodeBatch(data);
    } catch (err) {
      sub.badMessages++;
      this.log.warn({ subject, err: (err as Error).message }, 'bad message on the feed; skipped');
      return;
    }
    sub.records += await this.ingest(batch, subject);
  }

  private async watchConsumer(sub: Subscription, messages: ConsumerMessages): Promise<void> {
    for await (const n of messages.status()) {
      if (n.type === 'heartbeats_missed' && sub.status !== 'closed') sub.status = 'disconnected';
      else if (n.type === 'ordered_consumer_recreated') {
        sub.resumes++;
        this.log.info({ subject: sub.subject, after: sub.lastSequence }, 'feed consumer recreated; resuming after the last sequence');
      }
    }
  }

  private updateBehind(sub: Subscription): void {
    if (sub.status === 'disconnected' || sub.status === 'closed') return;
    if (sub.pending > this.options.behindMessages) {
      if (sub.status !== 'behind') {
        sub.behindEvents++;
        this.log.warn({ subject: sub.subject, pending: sub.pending }, 'feed consumer is behind the live rate');
      }
      sub.status = 'behind';
    } else sub.status = 'live';
  }

  /**
   * Writes a batch's records into the local ring; returns how many (0 for a duplicate). A
   * `snapshot` is a book snapshot whose header's subject sequence is the book subject's next one:
   * the subject's batches before it are skipped, the ones after are applied in order.
   */
  private async ingest(b: DecodedBatch, subject: string, snapshot = false): Promise<number> {
    let skip = 0;
    const cover = snapshot ? undefined : this.covered.get(subject);
    if (cover !== undefined) {
      if (b.publisherId === cover.publisherId && b.epoch === cover.epoch) {
        if (b.subjectSeq + b.count <= cover.n) return 0; // in the snapshot already
        skip = Math.max(0, cover.n - b.subjectSeq);
      } else if (b.publishTs < cover.publishTs) return 0; // an earlier publisher start's batch, older than the snapshot
      this.covered.delete(subject);
    }
    const known = this.epochs.get(b.publisherId);
    if (known !== b.epoch) {
      this.epochs.set(b.publisherId, b.epoch);
      if (known !== undefined) {
        this.counters.publisherRestarts++;
        await this.writeDisconnected(b);
      }
    }
    const key = `${b.publisherId}.${b.epoch}.${subject}`;
    const next = this.expected.get(key);
    let missing = 0;
    if (snapshot) {
      // Older than what this feed has of the book (a live snapshot overtaken by its deltas): not applied.
      if (next !== undefined && next > b.subjectSeq) return 0;
      this.expected.set(key, b.subjectSeq);
      this.covered.set(subject, { n: b.subjectSeq, publisherId: b.publisherId, epoch: b.epoch, publishTs: b.publishTs });
    } else {
      if (next !== undefined) {
        if (b.subjectSeq + b.count <= next) {
          this.counters.duplicates++;
          return 0;
        }
        if (b.subjectSeq > next) missing = b.subjectSeq - next;
        else skip = Math.max(skip, next - b.subjectSeq);
      }
      this.expected.set(key, b.subjectSeq + b.count);
    }
    try {
      this.symbols.registerExchange(b.exchangeCode, b.exchange);
    } catch (err) {
      this.log.warn({ subject, err: (err as Error).message }, 'batch exchange conflicts with an earlier one; skipped');
      return 0;
    }
    const symbolId = b.symbol === '' ? 0 : this.symbols.intern(b.exchange, b.symbol);
    const recordType = b.bytes[b.offsets[0]! + OFF_TYPE]!;
    if (missing > 0) await this.reportGap(b, symbolId, recordType, missing);
    if (snapshot) this.counters.snapshotsLoaded++;
    for (let r = skip; r < b.offsets.length; r++) {
      const o = b.offsets[r]!;
      const len = b.bytes[o] | (b.bytes[o + 1] << 8) | (b.bytes[o + 2] << 16) | (b.bytes[o + 3] << 24);
      const type = b.bytes[o + OFF_TYPE]!;
      if (symbolId > 0 && !this.seen.has(symbolId * 8 + type)) {
        this.seen.set(symbolId * 8 + type, { exchange: b.exchange, symbol: b.symbol, type });
        if (type === RecordType.book) this.books.track(symbolId, b.exchange, b.symbol);
      }
      const at = await this.reserve(len);
      if (at < 0) return 0;
      const w = this.writer;
      w.u8.set(b.bytes.subarray(o, o + len), at);
      w.u32[(at + OFF_SYMBOL_ID) >>> 2] = symbolId;
      w.u32[(at + OFF_STREAM_SEQ) >>> 2] = this.localSeq;
      // A loaded snapshot was "received" now: its age is not latency.
      if (snapshot) w.f64[(at + OFF_RECV_TS) >>> 3] = nowMs();
      this.localSeq = (this.localSeq + 1) >>> 0;
    }
    this.writer.publish();
    return b.count - skip;
  }

  /**
   * Records missing upstream (a core subscription that was away, or a stream that lost them): a
   * status record says so before the records after the gap — `resync` for a book (unsynced until
   * its next snapshot), `dropped` with the count for other records.
   */
  private async reportGap(b: DecodedBatch, symbolId: number, recordType: number, missing: number): Promise<void> {
    this.counters.gaps++;
    this.counters.missingRecords += missing;
    const book = recordType === RecordType.book;
    if (book) this.bookGapRecords += missing;
    this.log.warn({ exchange: b.exchange, symbol: b.symbol, missing }, 'records missing on the feed');
    await this.writeStatus(b, symbolId, book ? StatusCode.resync : StatusCode.dropped, book ? ResyncReason.sequenceGap : missing);
  }

  /** Room for one record in the local ring, waiting for the handlers while it is full (-1: closing). */
  private async reserve(len: number): Promise<number> {
    let at = this.writer.reserve(len);
    if (at >= 0) return at;
    this.counters.slowWaits++;
    this.writer.publish();
    while (at < 0) {
      if (this.closing) return -1;
      await this.writer.waitForSpace(len, 200);
      at = this.writer.reserve(len);
    }
    return at;
  }

  /** The publisher restarted: its venue's books are stale until their next snapshot, as after a reconnect. */
  private async writeDisconnected(b: DecodedBatch): Promise<void> {
    try {
      this.symbols.registerExchange(b.exchangeCode, b.exchange);
    } catch {
      return;
    }
    await this.writeStatus(b, 0, StatusCode.disconnected, 0);
  }

  private async writeStatus(b: DecodedBatch, symbolId: number, code: number, detail: number): Promise<void> {
    const enc = new RecordEncoder(this.writer, b.exchangeCode, this.localSeq);
    enc.recvTs = b.publishTs;
    while (!enc.status(symbolId, code, detail)) {
      if (this.closing) return;
      this.writer.publish();
      await this.writer.waitForSpace(64, 200);
    }
    this.localSeq = enc.recordsWritten;
    this.writer.publish();
  }

  onView(handler: (view: RecordView) => void): () => void {
    this.assertOpen();
    return this.delivery.onView(handler);
  }

  onRecord(handler: (record: MarketRecord) => void, filter?: RecordFilter): () => void {
    this.assertOpen();
    return this.delivery.onRecord(handler, filter);
  }

  records(filter?: RecordFilter): AsyncIterableIterator<MarketRecord> {
    this.assertOpen();
    return this.delivery.records(filter);
  }

  book(exchange: string, symbol: string): L2Book | undefined {
    this.assertOpen();
    return this.delivery.book(exchange, symbol);
  }


  /**
   * Share of the local ring in use (0 to 1). Every subscription writes into the one ring, so each
   * connection id answers the same figure; undefined for an id that is not a subscription.
   */
  ringFill(connectionId: number): number | undefined {
    if (!(connectionId >= 1 && connectionId <= this.subs.length)) return undefined;
    return this.consumer.ringFill(1);
  }

  stats(): FeedStats {
    this.assertOpen();
    const c = this.consumer.counters;
    const connections: ConnectionStats[] = this.subs.map((s, i) => ({
      id: i + 1,
      exchange: 'nats',
      state: CONNECTION_STATE[s.status],
      policy: 'block',
      streams: 1,
      frames: s.messages,
      bytes: s.bytes,
      records: s.records,
      dropped: 0,
      conflated: 0,
      badMessages: s.badMessages,
      resyncs: 0,
      reconnects: s.reconnects,
      pauses: 0,
    }));
    const subscriptions = this.subs.map(({ iterator: _, natsSub: __, ...s }) => ({ ...s }));
    return {
      uptimeMs: Date.now() - this.startedAt,
      streams: this.subs.length,
      messages: c.messages,
      latencyUs: { recvToConsume: this.consumer.recvToConsume.summary(), exchangeToConsume: this.consumer.exchangeToConsume.summary() },
      // Gaps are status records (counted by the consumer); a book's carry no count.
      drops: c.drops + this.bookGapRecords,
      gaps: c.gaps,
      resyncs: c.resyncs,
      reconnects: this.subs.reduce((n, s) => n + s.reconnects, 0),
      badMessages: c.badMessages + this.subs.reduce((n, s) => n + s.badMessages, 0),
      conflated: 0,
      integrityErrors: c.integrityErrors,
      handlerErrors: this.handlerErrors,
      iterators: this.delivery.iterators.snapshot(),
      connections,
      perStream: [...this.seen].map(([key, st]) => ({
        exchange: st.exchange,
        channel: TYPE_CHANNEL[st.type] ?? 'trades',
        symbol: st.symbol,
        messages: this.consumer.streamMessages(Math.floor(key / 8), st.type),
      })),
      feed: { ...this.counters, subscriptions },
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const s of this.subs) {
      s.iterator?.stop();
      s.natsSub?.unsubscribe();
    }
    for (const s of this.coreSnapshotSubs) s.unsubscribe();
    await Promise.all(this.loops);
    await this.chain;
    await this.nc?.close();
    this.consumer.drain(Number.MAX_SAFE_INTEGER);
    await this.consumer.stop();
    this.emit('closed');
    this.consumer.recvToConsume.destroy();
    this.consumer.exchangeToConsume.destroy();
  }

  private assertOpen(): void {
    if (this.closing) throw new RingfeedError('ERR_ENGINE_CLOSED', 'the feed is closed');
  }
}

/**
 * Connects to a JetStream stream an engine publishes to and returns the engine's consumer API
 * over it. Rejects (`ERR_BAD_OPTION`) for bad options; rejects when NATS or the stream is not there.
 */
export async function connectFeed(options: FeedOptions & { logger?: Logger }): Promise<RemoteFeed> {
  const { logger, ...rest } = (options ?? {}) as FeedOptions & { logger?: Logger };
  const feed = new RemoteFeed(resolveFeedOptions(options === undefined ? undefined : rest), logger);
  try {
    await feed.start();
  } catch (err) {
    await feed.close();
    throw err;
  }
  return feed;
}

/** The last message of a subject in a stream, or null when it has none. */
async function lastBySubject(jsm: JetStreamManager, stream: string, subject: string): Promise<StoredMsg | null> {
  try {
    return await jsm.streams.getMessage(stream, { last_by_subj: subject });
  } catch (err) {
    if (/no message found|not found/i.test((err as Error).message)) return null;
    throw err;
  }
}

/**
 * The snapshot subjects a data subject filter covers: `<prefix>.<venue>.<type>.<symbol>` with
 * type `book`, `*` or `>` maps to `<prefix>_snap.<venue>.book.<symbol>`; a filter not under the
 * prefix maps to every snapshot (matched one by one); a filter without books to none.
 */
export function snapshotFilterFor(filter: string, prefix: string): string | undefined {
  const sp = snapshotPrefix(prefix);
  if (!filter.startsWith(`${prefix}.`)) return filter === '>' || filter.split('.')[0] === '*' ? `${sp}.>` : undefined;
  const r = filter.slice(prefix.length + 1).split('.');
  if (r[0] === '>') return `${sp}.>`;
  if (r.length < 2 || !(r[1] === 'book' || r[1] === '*' || r[1] === '>')) return undefined;
  const symbol = r[2] === undefined || r[2] === '>' || r[1] === '>' ? '*' : r[2];
  return r.length > 3 && r[1] !== '>' ? undefined : `${sp}.${r[0]}.book.${symbol}`;
}
