import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Logger, pino } from 'pino';
import { Piscina } from 'piscina';
import { BookKeeper, type L2Book } from '../book/book-keeper.js';
import { Consumer } from '../consumer/consumer.js';
import { type MetricsServer, serveMetrics } from '../exposition/health.js';
import { type PublishOptions, resolvePublishOptions } from '../fanout/fanout-options.js';
import { Publisher } from '../fanout/publisher.js';
import type { LatencySummary } from '../metrics/latency.js';
import { SymbolTable } from '../records/symbols.js';
import type { MarketRecord } from '../records/types.js';
import type { RecordView } from '../records/view.js';
import { Doorbell } from '../ring/doorbell.js';
import { createRing } from '../ring/ring.js';
import { type ConnectionState, ConnectionSupervisor, type StateChange, type StreamsRejected } from '../supervisor/connection-supervisor.js';
import { ccxtExchangeId } from '../venues/ccxt/adapter.js';
import { ccxtVenueOptions } from '../venues/ccxt/types.js';
import { CHANNELS, type Channel, type StreamSpec, type VenueAdapter } from '../venues/contract.js';
import { getVenue } from '../venues/registry.js';
import { CHANNEL_RECORD_TYPE } from '../venues/rejection.js';
import { type BackpressurePolicy, COUNTER_SLOTS, type ConnectionTask, CounterSlot } from '../worker/protocol.js';
import {
  checkInterval,
  checkSubscribeRequest,
  type RecordFilter,
  type SubscribeRequest,
} from './checks.js';
import { resolveEndpoints } from './endpoints.js';
import { RingfeedError } from './errors.js';
import type { EngineEvents } from './events.js';
import {
  checkEnvironment,
  checkLogger,
  checkOptionsObject,
  type EngineOptions,
  type ResolvedOptions,
  ROTATION_MARGIN_MS,
  resolveOptions,
  resolveParser,
} from './options.js';
import { isCarried, planPlacement } from './placement.js';
import { RecordDelivery } from './record-delivery.js';
import type { IteratorStats } from './record-iterator.js';

export type { RecordFilter, SubscribeRequest } from './checks.js';

export interface Subscription {
  readonly streams: readonly { exchange: string; channel: Channel; symbol: string }[];
  /** Removes these streams (connections left without streams are closed). A second call, or one after `close()`, does nothing. */
  unsubscribe(): void;
}

export interface ConnectionStats {
  readonly id: number;
  readonly exchange: string;
  readonly state: ConnectionState;
  readonly policy: BackpressurePolicy;
  readonly streams: number;
  readonly frames: number;
  readonly bytes: number;
  readonly records: number;
  readonly dropped: number;
  readonly conflated: number;
  readonly badMessages: number;
  readonly resyncs: number;
  readonly reconnects: number;
  /** Times the socket was paused for a full ring (`block`). */
  readonly pauses: number;
}

export interface StreamStats {
  readonly exchange: string;
  readonly channel: Channel;
  readonly symbol: string;
  readonly messages: number;
}

export interface EngineStats {
  readonly uptimeMs: number;
  readonly streams: number;
  /** Data records consumed. */
  readonly messages: number;
  readonly latencyUs: {
    /** Worker socket read → main-thread consumption. */
    readonly recvToConsume: LatencySummary;
    /** Exchange event time → consumption (includes network and clock offset). */
    readonly exchangeToConsume: LatencySummary;
  };
  readonly drops: number;
  readonly gaps: number;
  readonly resyncs: number;
  readonly reconnects: number;
  readonly badMessages: number;
  readonly conflated: number;
  readonly integrityErrors: number;
  /** Exceptions thrown by your `onView` / `onRecord` handlers (caught, logged, the record still reaches the other handlers). */
  readonly handlerErrors: number;
  /** `records()` iterators: a full one holds every handler back until it is read (see README). */
  readonly iterators: IteratorStats;
  readonly connections: readonly ConnectionStats[];
  readonly perStream: readonly StreamStats[];
}

export type { IteratorStats } from './record-iterator.js';

interface Connection {
  readonly supervisor: ConnectionSupervisor;
  readonly adapter: VenueAdapter;
  readonly policy: BackpressurePolicy;
  /** The adapter's connection key shared by all its streams. */
  readonly key: string;
  readonly counters: Float64Array;
}


/** Log paths that could carry secrets; censored even if a bug ever logs them. */
export const REDACT_PATHS = ['credentials', '*.credentials', 'secret', '*.secret', 'apiKey', '*.apiKey', 'passphrase', '*.passphrase'];

/** The pool task file for a transport: TypeScript through tsx when running from source. */
function workerFile(transport: 'socket' | 'ccxt'): string {
  const base = transport === 'ccxt' ? 'ccxt-connection' : 'connection';
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  const file = new URL(`../../workers/${base}.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!existsSync(file)) throw new Error(`worker entry missing: ${fileURLToPath(file)} (run npm run build)`);
  return file.href;
}

/**
 * The engine: a piscina pool of connection tasks writing into per-connection rings, one
 * supervisor per connection, and one consumer draining the rings on this thread.
 */
export class Engine extends EventEmitter<EngineEvents> {
  readonly log: Logger;
  private readonly options: ResolvedOptions;
  private readonly pool: Piscina;
  private readonly symbols = new SymbolTable();
  private readonly doorbell = Doorbell.create();
  private readonly consumer: Consumer;
  private readonly connections = new Map<number, Connection>();
  private readonly books = new BookKeeper();
  private nextConnectionId = 1;
  private readonly startedAt = Date.now();
  private closing: Promise<void> | undefined;
  /** Connections left without streams, still stopping. */
  private readonly stopping = new Set<Promise<void>>();
  private readonly delivery: RecordDelivery;
  private handlerErrors = 0;
  private lastHandlerErrorLog = 0;
  /** NATS publishers fed by the consumer (`publish()`); closed after the last drain. */
  private readonly publishers = new Set<Publisher>();
  /**
   * The `/metrics` and `/health` server of the `metrics` option: resolves once it listens (its
   * `port` is the bound one), rejects when it cannot (also logged); undefined without the option.
   * Closed by `close()`.
   */
  readonly metricsServer: Promise<MetricsServer> | undefined;

  constructor(options: EngineOptions = {}, logger?: Logger) {
    super();
    this.options = resolveOptions(checkOptionsObject(options));
    checkEnvironment(process.env);
    this.log =
      (logger === undefined ? undefined : checkLogger(logger)) ??
      pino({ name: 'ringfeed', level: 'info', redact: REDACT_PATHS }, pino.destination({ dest: 2, sync: false }));
    const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
    this.pool = new Piscina({
      filename: workerFile('socket'),
      // Running from source (tests, tsx): worker threads load TypeScript through tsx too.
      execArgv: fromSource ? ['--import', 'tsx'] : [],
      minThreads: 1,
      maxThreads: this.options.threads,
      concurrentTasksPerWorker: this.options.connectionsPerThread,
      idleTimeout: 30_000,
      // Connection tasks are long-lived async tasks: piscina's default `sync` atomics would
      // block an idle worker's event loop and freeze the sockets it runs.
      atomics: 'disabled',
      resourceLimits: { maxOldGenerationSizeMb: this.options.workerMaxOldGenerationMb },
    });
    // A worker that fails outside a task (e.g. at start-up) must not become an unhandled
    // 'error' event on the host process: the task's supervisor already sees the failure.
    this.pool.on('error', (err: unknown) => {
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'worker thread error');
    });
    this.consumer = new Consumer(this.symbols, this.doorbell, (err) => this.handlerFailed(err));
    this.consumer.addHandler(this.books.handle);
    this.delivery = new RecordDelivery({
      consumer: this.consumer,
      books: this.books,
      symbols: this.symbols,
      iteratorHighWaterMark: this.options.iteratorHighWaterMark,
      log: this.log,
      onPause: (paused, buffered) => this.emit('backpressure', { paused, buffered }),
      onClosed: (end) => {
        this.once('closed', end);
        return () => this.off('closed', end);
      },
    });
    this.consumer.start();
    const { metrics } = this.options;
    if (metrics !== undefined) {
      this.metricsServer = serveMetrics(this, metrics);
      this.metricsServer.then(
        (s) => this.log.info({ host: s.host, port: s.port }, 'metrics on /metrics and /health'),
        (err: unknown) => this.log.error({ err: (err as Error).message, port: metrics.port }, 'metrics server could not listen'),
      );
    }
  }

  /** Subscribes channels × symbols on a venue; validates everything before changing anything. */
  subscribe(subscribeRequest: SubscribeRequest): Subscription {
    this.assertOpen();
    const request = checkSubscribeRequest(subscribeRequest, this.options.policy);
    const adapter = this.venue(request.exchange, request.via);
    const policy = request.policy;
    const channels = [...new Set(request.channels.map((c) => (c === 'depth' ? 'book' : c)))];
    for (const c of channels) {
      if (!CHANNELS.includes(c) || !adapter.channels.includes(c)) {
        throw new RingfeedError(
          'ERR_BAD_CHANNEL',
          `${adapter.id} has no channel ${c}; it has ${adapter.channels.join(', ')}`,
        );
      }
    }
    const interval = channels.includes('candles') ? checkInterval(adapter, request.interval ?? '1m') : undefined;
    const natives = [...new Set(request.symbols)].map((symbol) => {
      try {
        return { symbol, native: adapter.nativeSymbol(symbol) };
      } catch (err) {
        throw new RingfeedError('ERR_BAD_SYMBOL', (err as Error).message);
      }
    });
    const streams: StreamSpec[] = [];
    for (const { symbol, native } of natives) {
      const symbolId = this.symbols.intern(adapter.id, symbol);
      for (const channel of channels) {
        streams.push({
          channel,
          symbol,
          symbolId,
          native,
          interval: channel === 'candles' ? interval : undefined,
        });
      }
    }
    for (const s of streams) {
      try {
        adapter.connectionKey?.(s);
      } catch (err) {
        throw new RingfeedError('ERR_BAD_CHANNEL', (err as Error).message);
      }
    }
    const placed = this.place(adapter, policy, streams);
    for (const s of streams) if (s.channel === 'book') this.books.track(s.symbolId, adapter.id, s.symbol);
    let active = true;
    return {
      streams: streams.map((s) => ({ exchange: adapter.id, channel: s.channel, symbol: s.symbol })),
      unsubscribe: () => {
        if (!active || this.closing) return;
        active = false;
        for (const [conn, list] of placed) this.removeStreams(conn, list);
        for (const list of placed.values()) {
          for (const s of list) if (s.channel === 'book') this.books.untrack(s.symbolId);
        }
      },
    };
  }

  /**
   * Publishes every record this engine consumes to a NATS JetStream stream (created if missing),
   * batched per subject `<prefix>.<venue>.<type>.<symbol token>`. Resolves once connected; see
   * the README's "Scale-out" section. `ERR_BAD_OPTION` names a bad option.
   */
  async publish(options: PublishOptions): Promise<Publisher> {
    this.assertOpen();
    let remove = (): void => {};
    // The engine's books are kept before the publisher's handler sees a record: its snapshots read them.
    const publisher = new Publisher(
      resolvePublishOptions(options),
      this.log,
      () => {
        remove();
        this.publishers.delete(publisher);
      },
      this.books,
    );
    await publisher.start();
    this.publishers.add(publisher);
    remove = this.consumer.addHandler(publisher.handle);
    return publisher;
  }

  /** Share of a connection's ring in use, 0 to 1 (undefined for no such connection); `/metrics` reads it. */
  ringFill(connectionId: number): number | undefined {
    this.assertOpen();
    return this.consumer.ringFill(connectionId);
  }

  /** Every record, as a reusable view (valid only during the call; no allocation). */
  onView(handler: (view: RecordView) => void): () => void {
    this.assertOpen();
    return this.delivery.onView(handler);
  }

  /** Every record as a plain read-only object (allocates one object per record). */
  onRecord(handler: (record: MarketRecord) => void, filter?: RecordFilter): () => void {
    this.assertOpen();
    return this.delivery.onRecord(handler, filter);
  }

  /**
   * Records as an async iterator. Its buffer is bounded (`iteratorHighWaterMark`): when the
   * loop body falls behind, the engine stops draining the rings and backpressure reaches the
   * sockets under each stream's policy.
   */
  records(filter?: RecordFilter): AsyncIterableIterator<MarketRecord> {
    this.assertOpen();
    return this.delivery.records(filter);
  }

  /**
   * The current L2 book of a subscribed `book` stream, kept from the records already consumed
   * (so it agrees with what handlers saw). A live accessor: reading it copies nothing.
   */
  book(exchange: string, symbol: string): L2Book | undefined {
    this.assertOpen();
    return this.delivery.book(exchange, symbol);
  }

  stats(): EngineStats {
    this.assertOpen();
    const c = this.consumer.counters;
    const connections: ConnectionStats[] = [];
    const perStream: StreamStats[] = [];
    let reconnects = 0;
    let conflated = 0;
    let streams = 0;
    for (const [id, conn] of this.connections) {
      const k = conn.counters;
      reconnects += conn.supervisor.reconnects;
      conflated += k[CounterSlot.conflated]!;
      const list = conn.supervisor.streamList;
      streams += list.length;
      connections.push({
        id,
        exchange: conn.adapter.id,
        state: conn.supervisor.state,
        policy: conn.policy,
        streams: list.length,
        frames: k[CounterSlot.frames]!,
        bytes: k[CounterSlot.bytes]!,
        records: k[CounterSlot.records]!,
        dropped: k[CounterSlot.dropped]!,
        conflated: k[CounterSlot.conflated]!,
        badMessages: k[CounterSlot.badMessages]!,
        resyncs: k[CounterSlot.resyncs]!,
        reconnects: conn.supervisor.reconnects,
        pauses: k[CounterSlot.pauses]!,
      });
      for (const s of list) {
        perStream.push({
          exchange: conn.adapter.id,
          channel: s.channel,
          symbol: s.symbol,
          messages: this.consumer.streamMessages(s.symbolId, CHANNEL_RECORD_TYPE[s.channel]),
        });
      }
    }
    return {
      uptimeMs: Date.now() - this.startedAt,
      streams,
      messages: c.messages,
      latencyUs: {
        recvToConsume: this.consumer.recvToConsume.summary(),
        exchangeToConsume: this.consumer.exchangeToConsume.summary(),
      },
      drops: c.drops,
      gaps: c.gaps,
      resyncs: c.resyncs,
      reconnects,
      badMessages: c.badMessages,
      conflated,
      integrityErrors: c.integrityErrors,
      handlerErrors: this.handlerErrors,
      iterators: this.delivery.iterators.snapshot(),
      connections,
      perStream,
    };
  }

  /**
   * Stops every connection and worker, drains what the rings still hold, releases all. A second
   * call returns the first call's promise; every other member throws `ERR_ENGINE_CLOSED` from
   * the first call on.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.supervisor.stop()));
    await Promise.all(this.stopping);
    this.consumer.drain(Number.MAX_SAFE_INTEGER);
    await Promise.all([...this.publishers].map((p) => p.close()));
    await this.metricsServer?.then(
      (s) => s.close(),
      () => undefined,
    );
    await this.consumer.stop();
    await this.pool.destroy();
    this.emit('closed');
    this.consumer.recvToConsume.destroy();
    this.consumer.exchangeToConsume.destroy();
    this.log.flush?.();
  }

  private handlerFailed(err: unknown): void {
    this.handlerErrors++;
    const now = Date.now();
    // One line per second at most: a handler that throws on every record must not flood logs.
    if (now - this.lastHandlerErrorLog < 1000) return;
    this.lastHandlerErrorLog = now;
    this.log.error(
      { err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), handlerErrors: this.handlerErrors },
      'a record handler threw; the record went on to the other handlers',
    );
  }

  private assertOpen(): void {
    if (this.closing) throw new RingfeedError('ERR_ENGINE_CLOSED', 'the engine is closed');
  }

  private venue(id: string, via?: 'native' | 'ccxt'): VenueAdapter {
    try {
      const adapter = getVenue(id, via);
      this.symbols.registerExchange(adapter.exchangeCode, adapter.id);
      return adapter;
    } catch (err) {
      throw new RingfeedError('ERR_UNKNOWN_VENUE', (err as Error).message);
    }
  }

  private endpoints(adapter: VenueAdapter): Pick<ConnectionTask, 'wsUrl' | 'restUrl' | 'credentials' | 'ccxt' | 'clientId' | 'parser'> {
    const configured = this.options.venues[adapter.id] ?? {};
    // ccxt settings: the option, else RINGFEED_CCXT_OPTIONS (checked at createEngine); the worker reads no env.
    const ccxt =
      configured.ccxt ?? (adapter.transport === 'ccxt' ? ccxtVenueOptions(ccxtExchangeId(adapter.id)) : undefined);
    return {
      ...resolveEndpoints(adapter, configured, process.env),
      credentials: configured.credentials,
      ccxt,
      clientId: configured.clientId,
      parser: resolveParser(adapter.id, configured, process.env),
    };
  }

  /** Puts new streams on connections of the same venue and policy with room, or new ones. */
  private place(adapter: VenueAdapter, policy: BackpressurePolicy, streams: StreamSpec[]): Map<Connection, StreamSpec[]> {
    const max = Math.min(this.options.maxStreamsPerConnection, adapter.maxStreamsPerConnection ?? Number.POSITIVE_INFINITY);
    const same = [...this.connections.values()].filter((c) => c.adapter === adapter);
    const carried = same.flatMap((c) => c.supervisor.streamList);
    const plan = planPlacement(
      streams.filter((s) => !isCarried(carried, s)),
      same
        .filter((c) => c.policy === policy)
        .map((c) => ({ connection: c, key: c.key, room: max - c.supervisor.streamList.length })),
      (s) => adapter.connectionKey?.(s) ?? '',
      max,
    );
    if (adapter.maxConnections !== undefined && same.length + plan.toOpen.length > adapter.maxConnections) {
      throw tooManyConnections(adapter, policy, same[0]?.policy, max);
    }
    const placed = new Map(plan.onOpen);
    for (const [conn, batch] of plan.onOpen) conn.supervisor.addStreams(batch);
    for (const { key, streams: batch } of plan.toOpen) placed.set(this.openConnection(adapter, policy, key, batch), batch);
    return placed;
  }

  private openConnection(adapter: VenueAdapter, policy: BackpressurePolicy, key: string, streams: StreamSpec[]): Connection {
    const id = this.nextConnectionId++;
    const ring = createRing(this.options.ringBytes);
    const countersSab = new SharedArrayBuffer(COUNTER_SLOTS * 8);
    const { limits } = this.options;
    const rotateAfterMs =
      limits.rotateAfterMs > 0
        ? limits.rotateAfterMs
        : adapter.maxConnectionAgeMs > 0
          ? Math.max(1000, adapter.maxConnectionAgeMs - ROTATION_MARGIN_MS)
          : 0;
    const supervisor = new ConnectionSupervisor(
      this.pool,
      {
        connectionId: id,
        venue: adapter.id,
        ...this.endpoints(adapter),
        policy,
        limits: { ...limits, rotateAfterMs },
        ring,
        doorbell: this.doorbell,
        counters: countersSab,
      },
      {
        backoff: this.options.backoff,
        circuitBreaker: this.options.circuitBreaker,
        stableAfterMs: this.options.stableAfterMs,
      },
      this.log,
      adapter.transport === 'ccxt' ? workerFile('ccxt') : undefined,
    );
    supervisor.on('state', (change: StateChange) => this.emit('state', change));
    const conn: Connection = { supervisor, adapter, policy, key, counters: new Float64Array(countersSab) };
    // Refused streams are already out of the supervisor's list; one event per stream.
    supervisor.on('rejected', ({ streams: refused, code, message }: StreamsRejected) => {
      for (const s of refused) {
        if (s.channel === 'book') this.books.untrack(s.symbolId);
        this.emit('rejected', { code, message, exchange: adapter.id, channel: s.channel, symbol: s.symbol, connectionId: id });
      }
      if (supervisor.streamList.length === 0 && this.connections.get(id) === conn) this.removeStreams(conn, []);
    });
    this.connections.set(id, conn);
    this.consumer.addRing(id, ring);
    supervisor.start(streams);
    return conn;
  }

  private removeStreams(conn: Connection, streams: StreamSpec[]): void {
    conn.supervisor.removeStreams(streams);
    if (conn.supervisor.streamList.length > 0) return;
    this.connections.delete(conn.supervisor.id);
    // close() waits for these too: destroying the pool under a task still ending would kill it.
    const stopping = conn.supervisor.stop().then(() => {
      this.consumer.drain(Number.MAX_SAFE_INTEGER);
      this.consumer.removeRing(conn.supervisor.id);
    });
    this.stopping.add(stopping);
    void stopping.finally(() => this.stopping.delete(stopping));
  }
}

/** Creates an engine. Options are validated up front (`ERR_BAD_OPTION` names the option). */
export function createEngine(options?: EngineOptions & { logger?: Logger }): Engine {
  const { logger, ...rest } = checkOptionsObject(options) as EngineOptions & { logger?: Logger };
  return new Engine(rest, logger);
}

/**
 * A venue that knows a connection by its client id (TWS) cannot take a second one from the
 * same engine: say why this subscribe would need one.
 */
function tooManyConnections(adapter: VenueAdapter, policy: BackpressurePolicy, open: BackpressurePolicy | undefined, max: number): RingfeedError {
  const n = adapter.maxConnections ?? 1;
  const why =
    open !== undefined && open !== policy
      ? `this subscribe asks for policy '${policy}' and the open connection runs '${open}' (a connection has one policy); subscribe with policy '${open}'`
      : `the streams would not fit (at most ${max} per connection, maxStreamsPerConnection)`;
  return new RingfeedError(
    'ERR_BAD_OPTION',
    `${adapter.id}: one engine opens at most ${n} connection${n === 1 ? '' : 's'} to this venue (it knows a connection by its client id, venues.${adapter.id}.clientId); ${why}, or run another engine with another client id`,
  );
}
