import { DiscardPolicy, type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { BookKeeper, type L2Book } from '../book/book-keeper.js';
import { nowMs } from '../clock.js';
import { RecordEncoder } from '../records/encoder.js';
import { bookRecordSize, OFF_LENGTH } from '../records/layout.js';
import { RecordType } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import { createRing, RingReader, RingWriter } from '../ring/ring.js';
import { encodeBatch } from './batch-codec.js';
import { type ResolvedPublishOptions, snapshotStreamName } from './fanout-options.js';
import { bookSnapshotSubject, recordSubject, snapshotPrefix } from './subjects.js';

/** A batch is sealed at this many record bytes even below `maxBatchRecords`. */
const MAX_BATCH_BYTES = 256 * 1024;
const RETRY_WAIT_MS = 250;
/** An ack not back by then is a failed publish (retried with the same message id). */
const ACK_TIMEOUT_MS = 2000;
const NS_PER_MS = 1_000_000;
/**
 * NATS header of a book snapshot: the stream sequence of the last batch of the book's subject
 * acknowledged when the snapshot was taken (0: none yet). Every batch with records the snapshot
 * does not hold is stored after it, so a joiner that starts its consumer there misses nothing.
 */
export const SNAPSHOT_AFTER_HEADER = 'Ringfeed-After-Seq';

export type PublisherState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface PublisherStats {
  readonly state: PublisherState;
  readonly publisherId: number;
  readonly epoch: number;
  /** Records handed to the publisher. */
  readonly records: number;
  /** Batches acknowledged by JetStream. */
  readonly batches: number;
  readonly recordsAcked: number;
  /** Acks that said the message was a duplicate (a retry JetStream had already stored). */
  readonly duplicates: number;
  /** Records dropped because the buffer bound (`maxBufferedBytes`) was reached. */
  readonly dropped: number;
  readonly retries: number;
  readonly reconnects: number;
  readonly bufferedBytes: number;
  readonly inFlight: number;
  /** Mean records per acknowledged batch. */
  readonly recordsPerBatch: number;
  /** Book snapshots acknowledged by the snapshot stream. */
  readonly snapshots: number;
  /** Book snapshots not stored (NATS away, or an error); the next interval sends a fresh one. */
  readonly snapshotErrors: number;
}

/** A book the publisher has seen records of (snapshots on). */
interface SnapshotBook {
  readonly symbolId: number;
  readonly subject: string;
  readonly snapshotSubject: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly exchangeCode: number;
  inFlight: boolean;
}

interface Pending {
  readonly subject: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly exchangeCode: number;
  buf: Uint8Array;
  used: number;
  count: number;
  firstSeq: number;
}

interface Lane {
  readonly queue: Outgoing[];
  busy: boolean;
  /** The subject's batch being filled. */
  pending: Pending | undefined;
}

interface Outgoing {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgID: string;
  readonly count: number;
}

/**
 * Publishes records to a JetStream stream, batched per subject (venue, type, symbol). Message
 * ids are publisher id + epoch + subject + subject sequence: a retry after a lost ack or a
 * reconnect is stored once; another publisher start (new epoch) never collides with the last.
 * Batches wait in a bounded queue while NATS is away and go out in order, per subject, once it is back.
 */
export class Publisher {
  /** One per start of a publisher (start time in ms, modulo 2^32): a restart never reuses the last one's message ids. */
  readonly epoch = Date.now() % 2 ** 32 >>> 0;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private state: PublisherState = 'connecting';
  private readonly pending = new Map<number, Pending>();
  private readonly subjectSeqs = new Map<string, number>();
  /** Sealed batches per subject, oldest first; the first is in flight when `busy`. */
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with a batch to send and none in flight. */
  private readonly ready = new Set<Lane>();
  private queued = 0;
  private queuedBytes = 0;
  private inFlight = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly counts = { records: 0, batches: 0, recordsAcked: 0, duplicates: 0, dropped: 0, retries: 0, reconnects: 0, snapshots: 0, snapshotErrors: 0 };
  /** Subject → stream sequence of its last acknowledged batch. */
  private readonly ackedSeqs = new Map<string, number>();
  /** Books to snapshot (snapshots on): the engine's, or the publisher's own kept from the records it is handed. */
  private readonly books: { get(symbolId: number): L2Book | undefined } | undefined;
  private readonly ownBooks: BookKeeper | undefined;
  private readonly snapshotBooks = new Map<number, SnapshotBook>();
  private snapshotTimer: NodeJS.Timeout | undefined;
  private scratch: { writer: RingWriter; reader: RingReader } | undefined;
  private readonly bidLevels: number[] = [];
  private readonly askLevels: number[] = [];

  constructor(
    readonly options: ResolvedPublishOptions,
    private readonly log?: Logger,
    /** Called once when `close()` starts (the engine unhooks the publisher from its consumer). */
    private readonly onClose?: () => void,
    /**
     * The engine's books, already kept from the same records before this publisher's handler
     * sees them: snapshots read them instead of a second copy. Without it the publisher keeps its own.
     */
    bookSource?: { get(symbolId: number): L2Book | undefined },
  ) {
    if (options.bookSnapshotIntervalMs === 0) return;
    if (bookSource === undefined) this.ownBooks = new BookKeeper();
    this.books = bookSource ?? this.ownBooks;
  }

  /** Connects and creates (or updates) the stream. */
  async start(): Promise<void> {
    const o = this.options;
    this.nc = await connect({ servers: o.servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, name: `ringfeed-publisher-${o.publisherId}` });
    const jsm = await jetstreamManager(this.nc);
    await ensureStream(jsm, o);
    this.js = jetstream(this.nc, { timeout: 5000 });
    this.state = 'connected';
    void this.watchStatus(this.nc);
    if (this.books !== undefined) {
      this.snapshotTimer = setInterval(this.snapshotBooksNow, o.bookSnapshotIntervalMs);
      this.snapshotTimer.unref();
    }
    this.pump();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.state = 'reconnecting';
      else if (s.type === 'reconnect') {
        this.state = 'connected';
        this.counts.reconnects++;
        this.log?.info({ stream: this.options.stream }, 'publisher reconnected to NATS');
        this.pump();
      }
    }
  }

  /** A consumer handler: copies the record into its subject's pending batch. */
  readonly handle = (view: RecordView): void => {
    if (this.state === 'closed') return;
    const type = view.typeCode;
    const symbolId = view.symbolId;
    const key = symbolId > 0 ? symbolId * 8 + type : -(view.exchangeCode * 8 + type);
    let p = this.pending.get(key);
    if (p === undefined) {
      const exchange = view.exchange;
      const symbol = symbolId > 0 ? view.symbol : '';
      p = {
        subject: recordSubject(this.options.prefix, exchange, type, symbol),
        exchange,
        symbol,
        exchangeCode: view.exchangeCode,
        buf: new Uint8Array(4096),
        used: 0,
        count: 0,
        firstSeq: 0,
      };
      this.pending.set(key, p);
    }
    if (this.books !== undefined && (type === RecordType.book || type === RecordType.status)) this.keepBook(view, p);
    const bytes = view.bytes();
    if (p.used + bytes.length > p.buf.length) {
      const grown = new Uint8Array(Math.max(p.buf.length * 2, p.used + bytes.length));
      grown.set(p.buf.subarray(0, p.used));
      p.buf = grown;
    }
    p.buf.set(bytes, p.used);
    p.used += bytes.length;
    p.count++;
    this.counts.records++;
    if (p.count >= this.options.maxBatchRecords || p.used >= MAX_BATCH_BYTES || type === RecordType.status) this.seal(p);
    else this.flushTimer ??= setTimeout(this.flush, this.options.flushIntervalMs);
  };

  /** Notes a book to snapshot, and applies the record to the publisher's own books if it keeps them. */
  private keepBook(view: RecordView, p: Pending): void {
    const symbolId = view.symbolId;
    if (view.typeCode === RecordType.book && !this.snapshotBooks.has(symbolId)) {
      this.ownBooks?.track(symbolId, p.exchange, p.symbol);
      this.snapshotBooks.set(symbolId, {
        symbolId,
        subject: p.subject,
        snapshotSubject: bookSnapshotSubject(this.options.prefix, p.exchange, p.symbol),
        exchange: p.exchange,
        symbol: p.symbol,
        exchangeCode: p.exchangeCode,
        inFlight: false,
      });
    }
    this.ownBooks?.handle(view);
  }

  /**
   * Publishes every synced book whole to the snapshot stream. The book's pending batch is sealed
   * first, so the snapshot holds exactly the book subject's records before subject sequence N
   * (the batch header's subjectSeq) and the feed applies the batches from N on.
   */
  readonly snapshotBooksNow = (): void => {
    const js = this.js;
    if (js === undefined || this.state !== 'connected') return;
    for (const b of this.snapshotBooks.values()) {
      const live = this.books!.get(b.symbolId);
      if (live === undefined || !live.synced || b.inFlight) continue;
      const p = this.pending.get(b.symbolId * 8 + RecordType.book);
      if (p !== undefined && p.count > 0) this.seal(p);
      const counts = live.top(Number.POSITIVE_INFINITY, this.bidLevels, this.askLevels);
      const record = this.encodeSnapshot(b.exchangeCode, b.symbolId, live.exchangeTs, live.seq, counts.bids, counts.asks);
      const data = encodeBatch(
        {
          count: 1,
          publisherId: this.options.publisherId,
          epoch: this.epoch,
          subjectSeq: this.subjectSeqs.get(b.subject) ?? 0,
          publishTs: nowMs(),
          connectionId: 0,
          exchangeCode: b.exchangeCode,
          exchange: b.exchange,
          symbol: b.symbol,
        },
        record,
      );
      const h = headers();
      h.set(SNAPSHOT_AFTER_HEADER, String(this.ackedSeqs.get(b.subject) ?? 0));
      b.inFlight = true;
      js.publish(b.snapshotSubject, data, { headers: h, timeout: ACK_TIMEOUT_MS }).then(
        () => {
          b.inFlight = false;
          this.counts.snapshots++;
        },
        (err: unknown) => {
          b.inFlight = false;
          this.counts.snapshotErrors++;
          this.log?.debug({ err: err instanceof Error ? err.message : String(err), subject: b.snapshotSubject }, 'book snapshot not stored');
        },
      );
    }
  };

  /** One book snapshot record in the ring layout, written by the engine's own encoder into a scratch ring. */
  private encodeSnapshot(exchangeCode: number, symbolId: number, exchangeTs: number, seq: number, bids: number, asks: number): Uint8Array {
    const size = bookRecordSize(bids, asks);
    if (this.scratch === undefined || this.scratch.writer.maxRecordBytes < size) {
      let capacity = 1 << 16;
      while (capacity / 2 < size + 64) capacity *= 2;
      const ring = createRing(capacity);
      this.scratch = { writer: new RingWriter(ring), reader: new RingReader(ring) };
    }
    const { writer, reader } = this.scratch;
    const enc = new RecordEncoder(writer, exchangeCode);
    enc.recvTs = nowMs();
    enc.book(symbolId, exchangeTs, seq, seq, true, this.bidLevels, bids, this.askLevels, asks);
    enc.publish();
    const at = reader.next();
    const bytes = reader.u8.slice(at, at + reader.u32[(at + OFF_LENGTH) >>> 2]!);
    reader.advance();
    reader.release();
    return bytes;
  }

  /** Sends every pending batch now. */
  readonly flush = (): void => {
    this.flushTimer = undefined;
    // A subject with a batch in flight keeps collecting: its records go in the next batch once the ack is back.
    for (const p of this.pending.values()) if (p.count > 0 && !this.lanes.get(p.subject)?.busy) this.seal(p);
  };

  /** Sends every pending batch now, in flight or not (close, settled). */
  private flushAll(): void {
    for (const p of this.pending.values()) if (p.count > 0) this.seal(p);
  }

  private seal(p: Pending): void {
    const seq = this.subjectSeqs.get(p.subject) ?? 0;
    this.subjectSeqs.set(p.subject, seq + p.count);
    const o = this.options;
    const data = encodeBatch(
      {
        count: p.count,
        publisherId: o.publisherId,
        epoch: this.epoch,
        subjectSeq: seq,
        publishTs: nowMs(),
        connectionId: 0,
        exchangeCode: p.exchangeCode,
        exchange: p.exchange,
        symbol: p.symbol,
      },
      p.buf.subarray(0, p.used),
    );
    const count = p.count;
    p.used = 0;
    p.count = 0;
    if (this.queuedBytes + data.length > o.maxBufferedBytes) {
      this.counts.dropped += count;
      return;
    }
    let lane = this.lanes.get(p.subject);
    if (lane === undefined) {
      lane = { queue: [], busy: false, pending: p };
      this.lanes.set(p.subject, lane);
    }
    lane.queue.push({ subject: p.subject, data, msgID: `${o.publisherId.toString(36)}.${this.epoch.toString(36)}.${p.subject}.${seq}`, count });
    this.queued++;
    this.queuedBytes += data.length;
    if (!lane.busy) this.ready.add(lane);
    this.pump();
  }

  /**
   * One batch per subject in flight: the next batch of a subject goes out after the last one's
   * ack, so a retry can never land behind a later batch of its subject (records pile up into the
   * next batch meanwhile, which is the batching). Subjects go out in parallel up to `maxInFlight`.
   */
  private pump(): void {
    const js = this.js;
    if (js === undefined || this.retryTimer !== undefined) return;
    for (const lane of this.ready) {
      if (this.inFlight >= this.options.maxInFlight) return;
      this.ready.delete(lane);
      this.send(js, lane);
    }
  }

  private send(js: JetStreamClient, lane: Lane): void {
    const out = lane.queue[0]!;
    lane.busy = true;
    this.inFlight++;
    js.publish(out.subject, out.data, { msgID: out.msgID, timeout: ACK_TIMEOUT_MS }).then(
      (ack) => {
        this.inFlight--;
        lane.busy = false;
        lane.queue.shift();
        this.queued--;
        this.queuedBytes -= out.data.length;
        this.counts.batches++;
        this.counts.recordsAcked += out.count;
        this.ackedSeqs.set(out.subject, ack.seq);
        if (ack.duplicate) this.counts.duplicates++;
        if (lane.queue.length > 0) this.ready.add(lane);
        else if (lane.pending !== undefined && lane.pending.count > 0) this.seal(lane.pending);
        this.pump();
        this.notifyIdle();
      },
      (err: unknown) => {
        // Not stored, or the ack was lost: the same batch again with the same id (JetStream drops a copy it has).
        this.inFlight--;
        lane.busy = false;
        this.counts.retries++;
        this.ready.add(lane);
        if (this.retryTimer === undefined) {
          this.log?.warn({ err: err instanceof Error ? err.message : String(err), stream: this.options.stream }, 'publish failed; retrying');
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.pump();
          }, RETRY_WAIT_MS);
        }
      },
    );
  }

  private notifyIdle(): void {
    if (this.queued > 0 || this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when everything handed over so far is acknowledged (or `timeoutMs` passes: false). */
  async settled(timeoutMs = 10_000): Promise<boolean> {
    this.flushAll();
    if (this.queued === 0 && this.inFlight === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stats(): PublisherStats {
    const c = this.counts;
    return {
      state: this.state,
      publisherId: this.options.publisherId,
      epoch: this.epoch,
      ...c,
      bufferedBytes: this.queuedBytes,
      inFlight: this.inFlight,
      recordsPerBatch: c.batches === 0 ? 0 : c.recordsAcked / c.batches,
    };
  }

  /** Sends what is pending (waiting up to `timeoutMs` for acks), then closes the connection. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.state === 'closed') return;
    this.onClose?.();
    await this.settled(timeoutMs);
    this.state = 'closed';
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.nc?.close();
  }
}

/** Creates the stream, or updates its limits if it exists. Limits retention, file storage. */
export async function ensureStream(
  jsm: JetStreamManager,
  o: Pick<ResolvedPublishOptions, 'stream' | 'prefix' | 'maxAgeMs' | 'maxBytes' | 'duplicateWindowMs' | 'bookSnapshotIntervalMs'>,
): Promise<void> {
  await upsertStream(jsm, o.stream, {
    subjects: [`${o.prefix}.>`],
    max_age: o.maxAgeMs * NS_PER_MS,
    max_bytes: o.maxBytes,
    duplicate_window: o.duplicateWindowMs * NS_PER_MS,
  });
  if (o.bookSnapshotIntervalMs === 0) return;
  // The last snapshot per book; one that is no longer refreshed (book gone, publisher stopped)
  // ages out after 10 intervals (at least a minute) rather than sync a joiner to an old book.
  await upsertStream(jsm, snapshotStreamName(o.stream), {
    subjects: [`${snapshotPrefix(o.prefix)}.>`],
    max_msgs_per_subject: 1,
    max_age: Math.max(10 * o.bookSnapshotIntervalMs, 60_000) * NS_PER_MS,
    max_bytes: o.maxBytes,
  });
}

async function upsertStream(
  jsm: JetStreamManager,
  name: string,
  config: { subjects: string[]; max_age: number; max_bytes: number; duplicate_window?: number; max_msgs_per_subject?: number },
): Promise<void> {
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add({ name, storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, ...config });
  }
}
