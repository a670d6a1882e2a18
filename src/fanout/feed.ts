import { EventEmitter } from 'node:events';
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, jetstream, jetstreamManager, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Logger, pino } from 'pino';
import { BookKeeper, type L2Book } from '../book/book-keeper.js';
import { Consumer } from '../consumer/consumer.js';
import type { RecordFilter } from '../engine/checks.js';
import type { RecordConsumer } from '../engine/consumer-api.js';
import type { ConnectionStats, EngineStats } from '../engine/engine.js';
import { REDACT_PATHS } from '../engine/engine.js';
import { RingfeedError } from '../engine/errors.js';
import { RecordDelivery } from '../engine/record-delivery.js';
import { RecordEncoder } from '../records/encoder.js';
import { OFF_STREAM_SEQ, OFF_SYMBOL_ID, OFF_TYPE } from '../records/layout.js';
import { SymbolTable } from '../records/symbols.js';
import type { MarketRecord } from '../records/types.js';
import { RecordType, StatusCode } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import { Doorbell } from '../ring/doorbell.js';
import { createRing, RingWriter } from '../ring/ring.js';
import type { ConnectionState } from '../supervisor/connection-supervisor.js';
import type { Channel } from '../venues/contract.js';
import { CHANNEL_RECORD_TYPE } from '../venues/rejection.js';
import { type DecodedBatch, decodeBatch } from './batch-codec.js';
import { type FeedOptions, type ResolvedFeedOptions, resolveFeedOptions } from './feed-options.js';

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
  /** Publisher batches missing (a publisher's subject sequence jumped). */
  readonly gaps: number;
  /** Records in those missing batches. */
  readonly missingRecords: number;
  /** Batches received twice (same publisher, epoch and subject sequence), skipped. */
  readonly duplicates: number;
  /** A publisher seen with a new epoch: it restarted; its venue's books were invalidated. */
  readonly publisherRestarts: number;
  /** Times the local ring was full and the feed waited for the handlers (a slow consumer). */
  readonly slowWaits: number;
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
  private readonly counters = { gaps: 0, missingRecords: 0, duplicates: 0, publisherRestarts: 0, slowWaits: 0 };
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
    }));
  }

  async start(): Promise<void> {
    const nc = await connect({ servers: this.options.servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, name: 'ringfeed-feed' });
    this.nc = nc;
    const js = jetstream(nc);
    // Fails here (not later) when the stream does not exist.
    await (await jetstreamManager(nc)).streams.info(this.options.stream);
    this.consumer.start();
    void this.watchStatus(nc);
    for (const sub of this.subs) this.loops.push(this.run(js, sub));
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

  private async run(js: JetStreamClient, sub: Subscription): Promise<void> {
    try {
      const c = await js.consumers.get(this.options.stream, this.consumerOptions(sub));
      // Heartbeats every second: a consumer lost in a server restart is noticed and recreated
      // (after the last sequence it delivered) within seconds, not the default 30 s.
      const messages = await c.consume({ max_messages: 256, idle_heartbeat: HEARTBEAT_MS });
      sub.iterator = messages;
      void this.watchConsumer(sub, messages);
      if (sub.status === 'connecting') sub.status = 'live';
      for await (const m of messages) {
        if (this.closing) break;
        sub.messages++;
        sub.bytes += m.data.length;
        sub.lastSequence = m.seq;
        sub.pending = m.info.pending;
        this.updateBehind(sub);
        let batch: DecodedBatch;
        try {
          batch = decodeBatch(m.data);
        } catch (err) {
          sub.badMessages++;
          this.log.warn({ subject: m.subject, seq: m.seq, err: (err as Error).message }, 'bad message on the feed; skipped');
          continue;
        }
        sub.records += await this.ingest(batch, m.subject);
      }
    } catch (err) {
      if (!this.closing) this.log.error({ subject: sub.subject, err: (err as Error).message }, 'feed subscription ended');
    }
    sub.status = 'closed';
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

  /** Writes a batch's records into the local ring; returns how many (0 for a duplicate). */
  private async ingest(b: DecodedBatch, subject: string): Promise<number> {
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
    if (next !== undefined) {
      if (b.subjectSeq + b.count <= next) {
        this.counters.duplicates++;
        return 0;
      }
      if (b.subjectSeq > next) {
        this.counters.gaps++;
        this.counters.missingRecords += b.subjectSeq - next;
      }
    }
    this.expected.set(key, b.subjectSeq + b.count);
    try {
      this.symbols.registerExchange(b.exchangeCode, b.exchange);
    } catch (err) {
      this.log.warn({ subject, err: (err as Error).message }, 'batch exchange conflicts with an earlier one; skipped');
      return 0;
    }
    const symbolId = b.symbol === '' ? 0 : this.symbols.intern(b.exchange, b.symbol);
    for (const o of b.offsets) {
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
      this.localSeq = (this.localSeq + 1) >>> 0;
    }
    this.writer.publish();
    return b.count;
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
    const enc = new RecordEncoder(this.writer, b.exchangeCode, this.localSeq);
    enc.recvTs = b.publishTs;
    while (!enc.status(0, StatusCode.disconnected, 0)) {
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
    const subscriptions = this.subs.map(({ iterator: _, ...s }) => ({ ...s }));
    return {
      uptimeMs: Date.now() - this.startedAt,
      streams: this.subs.length,
      messages: c.messages,
      latencyUs: { recvToConsume: this.consumer.recvToConsume.summary(), exchangeToConsume: this.consumer.exchangeToConsume.summary() },
      drops: c.drops + this.counters.missingRecords,
      gaps: c.gaps + this.counters.gaps,
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
    for (const s of this.subs) s.iterator?.stop();
    await Promise.all(this.loops);
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
