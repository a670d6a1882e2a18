import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Logger, pino } from 'pino';
import { Piscina } from 'piscina';
import { BookKeeper, type L2Book } from './book/book-keeper.js';
import { checkPolicy, checkRestUrl, checkWsUrl, type EngineOptions, type ResolvedOptions, ROTATION_MARGIN_MS, resolveOptions } from './config.js';
import { Consumer } from './consumer/consumer.js';
import { RingfeedError } from './errors.js';
import type { LatencySummary } from './metrics/latency.js';
import { SymbolTable } from './records/symbols.js';
import type { MarketRecord, RecordTypeName } from './records/types.js';
import { RecordType } from './records/types.js';
import type { RecordView } from './records/view.js';
import { Doorbell } from './ring/doorbell.js';
import { createRing } from './ring/ring.js';
import { type ConnectionState, ConnectionSupervisor, type StateChange } from './supervisor/connection-supervisor.js';
import { getVenue } from './venues/registry.js';
import { CHANNELS, type Channel, type StreamSpec, type VenueAdapter } from './venues/types.js';
import { type BackpressurePolicy, COUNTER_SLOTS, type ConnectionTask, CounterSlot } from './worker-protocol.js';

export interface SubscribeRequest {
  /** Venue id, e.g. `binance`. */
  readonly exchange: string;
  /** Normalized channels (`depth` is accepted as an alias of `book`). */
  readonly channels: readonly (Channel | 'depth')[];
  /** Normalized symbols, `BASE/QUOTE`. */
  readonly symbols: readonly string[];
  /** Backpressure policy for these streams (default: the engine's). */
  readonly policy?: BackpressurePolicy;
  /** Candle interval for `candles` (default `1m`). */
  readonly interval?: string;
  /** `ccxt`: use the ccxt transport even where a native adapter exists; `native`: never ccxt. */
  readonly via?: 'native' | 'ccxt';
}

export interface Subscription {
  readonly streams: readonly { exchange: string; channel: Channel; symbol: string }[];
  /** Removes these streams (connections left without streams are closed). */
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
  readonly connections: readonly ConnectionStats[];
  readonly perStream: readonly StreamStats[];
}

export interface RecordFilter {
  readonly types?: readonly RecordTypeName[];
}

interface Connection {
  readonly supervisor: ConnectionSupervisor;
  readonly adapter: VenueAdapter;
  readonly policy: BackpressurePolicy;
  /** The adapter's connection key shared by all its streams. */
  readonly key: string;
  readonly counters: Float64Array;
}

const CHANNEL_RECORD: Record<Channel, number> = {
  trades: RecordType.trade,
  aggTrades: RecordType.trade,
  quotes: RecordType.quote,
  ticker: RecordType.ticker,
  book: RecordType.book,
  candles: RecordType.candle,
  funding: RecordType.ticker,
};

/** Log paths that could carry secrets; censored even if a bug ever logs them. */
export const REDACT_PATHS = ['credentials', '*.credentials', 'secret', '*.secret', 'apiKey', '*.apiKey', 'passphrase', '*.passphrase'];

/** The pool task file for a transport: TypeScript through tsx when running from source. */
function workerFile(transport: 'socket' | 'ccxt'): string {
  const base = transport === 'ccxt' ? 'ccxt-connection' : 'connection';
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  const file = new URL(`../workers/${base}.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!existsSync(file)) throw new Error(`worker entry missing: ${fileURLToPath(file)} (run npm run build)`);
  return file.href;
}

/**
 * The engine: a piscina pool of connection tasks writing into per-connection rings, one
 * supervisor per connection, and one consumer draining the rings on this thread.
 */
export class Engine extends EventEmitter {
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
  private closed = false;

  constructor(options: EngineOptions = {}, logger?: Logger) {
    super();
    this.options = resolveOptions(options);
    this.log =
      logger ??
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
    this.consumer = new Consumer(this.symbols, this.doorbell);
    this.consumer.addHandler(this.books.handle);
    this.consumer.start();
  }

  /** Subscribes channels × symbols on a venue; validates everything before changing anything. */
  subscribe(request: SubscribeRequest): Subscription {
    this.assertOpen();
    const adapter = this.venue(request.exchange, request.via);
    const policy = checkPolicy(request.policy ?? this.options.policy, 'policy');
    if (!Array.isArray(request.channels) || request.channels.length === 0) {
      throw new RingfeedError('ERR_BAD_CHANNEL', 'channels must be a non-empty array');
    }
    if (!Array.isArray(request.symbols) || request.symbols.length === 0) {
      throw new RingfeedError('ERR_BAD_SYMBOL', 'symbols must be a non-empty array');
    }
    const channels = request.channels.map((c) => (c === 'depth' ? 'book' : c));
    for (const c of channels) {
      if (!CHANNELS.includes(c) || !adapter.channels.includes(c)) {
        throw new RingfeedError(
          'ERR_BAD_CHANNEL',
          `${adapter.id} has no channel ${String(c)}; it has ${adapter.channels.join(', ')}`,
        );
      }
    }
    const natives = request.symbols.map((symbol) => {
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
          interval: channel === 'candles' ? (request.interval ?? '1m') : undefined,
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
    return {
      streams: streams.map((s) => ({ exchange: adapter.id, channel: s.channel, symbol: s.symbol })),
      unsubscribe: () => {
        for (const [conn, list] of placed) this.removeStreams(conn, list);
      },
    };
  }

  /** Every record, as a reusable view (valid only during the call; no allocation). */
  onView(handler: (view: RecordView) => void): () => void {
    return this.consumer.addHandler(handler);
  }

  /** Every record as a plain read-only object (allocates one object per record). */
  onRecord(handler: (record: MarketRecord) => void, filter?: RecordFilter): () => void {
    const wanted = typeFilter(filter);
    return this.consumer.addHandler((view) => {
      if (wanted === undefined || wanted.has(view.typeCode)) handler(view.toObject());
    });
  }

  /**
   * Records as an async iterator. Its buffer is bounded (`iteratorHighWaterMark`): when the
   * loop body falls behind, the engine stops draining the rings and backpressure reaches the
   * sockets under each stream's policy.
   */
  records(filter?: RecordFilter): AsyncIterableIterator<MarketRecord> {
    const wanted = typeFilter(filter);
    const limit = this.options.iteratorHighWaterMark;
    const buffer: MarketRecord[] = [];
    let head = 0;
    let waiting: ((r: IteratorResult<MarketRecord>) => void) | undefined;
    let paused = false;
    let done = false;
    const consumer = this.consumer;
    const finish = () => {
      if (done) return;
      done = true;
      remove();
      this.off('closed', finish);
      if (paused) consumer.resume();
      waiting?.({ value: undefined, done: true });
    };
    const remove = consumer.addHandler((view) => {
      if (wanted !== undefined && !wanted.has(view.typeCode)) return;
      const record = view.toObject();
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w({ value: record, done: false });
        return;
      }
      buffer.push(record);
      if (buffer.length - head >= limit && !paused) {
        paused = true;
        consumer.pause();
      }
    });
    this.once('closed', finish);
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next(): Promise<IteratorResult<MarketRecord>> {
        if (head < buffer.length) {
          const value = buffer[head++]!;
          if (head > 4096 && head * 2 > buffer.length) {
            buffer.splice(0, head);
            head = 0;
          }
          if (paused && buffer.length - head < limit / 2) {
            paused = false;
            consumer.resume();
          }
          return Promise.resolve({ value, done: false });
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return(): Promise<IteratorResult<MarketRecord>> {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /**
   * The current L2 book of a subscribed `book` stream, kept from the records already consumed
   * (so it agrees with what handlers saw). A live accessor: reading it copies nothing.
   */
  book(exchange: string, symbol: string): L2Book | undefined {
    const id = this.symbols.lookup(exchange, symbol);
    return id === undefined ? undefined : this.books.get(id);
  }

  stats(): EngineStats {
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
          messages: this.consumer.streamMessages(s.symbolId, CHANNEL_RECORD[s.channel]),
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
      connections,
      perStream,
    };
  }

  /** Stops every connection and worker, drains what the rings still hold, releases all. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.connections.values()].map((c) => c.supervisor.stop()));
    this.consumer.drain(Number.MAX_SAFE_INTEGER);
    await this.consumer.stop();
    await this.pool.destroy();
    this.emit('closed');
    this.consumer.recvToConsume.destroy();
    this.consumer.exchangeToConsume.destroy();
    this.log.flush?.();
  }

  private assertOpen(): void {
    if (this.closed) throw new RingfeedError('ERR_ENGINE_CLOSED', 'the engine is closed');
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

  private endpoints(adapter: VenueAdapter): Pick<ConnectionTask, 'wsUrl' | 'restUrl' | 'credentials' | 'ccxt'> {
    const configured = this.options.venues[adapter.id] ?? {};
    const wsEnv = process.env[adapter.wsUrlEnv];
    const restEnv = process.env[adapter.restUrlEnv];
    return {
      wsUrl: configured.wsUrl ?? (wsEnv ? checkWsUrl(wsEnv, adapter.wsUrlEnv) : adapter.defaultWsUrl),
      restUrl: configured.restUrl ?? (restEnv ? checkRestUrl(restEnv, adapter.restUrlEnv) : adapter.defaultRestUrl),
      credentials: configured.credentials,
      ccxt: configured.ccxt,
    };
  }

  /** Puts new streams on connections of the same venue and policy with room, or new ones. */
  private place(adapter: VenueAdapter, policy: BackpressurePolicy, streams: StreamSpec[]): Map<Connection, StreamSpec[]> {
    const placed = new Map<Connection, StreamSpec[]>();
    const max = Math.min(this.options.maxStreamsPerConnection, adapter.maxStreamsPerConnection ?? Number.POSITIVE_INFINITY);
    const rest = streams.filter((s) => !this.isSubscribed(adapter, s));
    const keyOf = (s: StreamSpec) => adapter.connectionKey?.(s) ?? '';
    for (const key of new Set(rest.map(keyOf))) {
      let group = rest.filter((s) => keyOf(s) === key);
      for (const conn of this.connections.values()) {
        if (group.length === 0) break;
        if (conn.adapter !== adapter || conn.policy !== policy || conn.key !== key) continue;
        const room = max - conn.supervisor.streamList.length;
        if (room <= 0) continue;
        const batch = group.slice(0, room);
        group = group.slice(room);
        conn.supervisor.addStreams(batch);
        placed.set(conn, batch);
      }
      while (group.length > 0) {
        const batch = group.slice(0, max);
        group = group.slice(max);
        placed.set(this.openConnection(adapter, policy, key, batch), batch);
      }
    }
    return placed;
  }

  private isSubscribed(adapter: VenueAdapter, s: StreamSpec): boolean {
    for (const conn of this.connections.values()) {
      if (conn.adapter !== adapter) continue;
      if (conn.supervisor.streamList.some((t) => t.channel === s.channel && t.symbolId === s.symbolId && t.interval === s.interval)) {
        return true;
      }
    }
    return false;
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
    this.connections.set(id, conn);
    this.consumer.addRing(id, ring);
    supervisor.start(streams);
    return conn;
  }

  private removeStreams(conn: Connection, streams: StreamSpec[]): void {
    conn.supervisor.removeStreams(streams);
    if (conn.supervisor.streamList.length > 0) return;
    this.connections.delete(conn.supervisor.id);
    void conn.supervisor.stop().then(() => {
      this.consumer.drain(Number.MAX_SAFE_INTEGER);
      this.consumer.removeRing(conn.supervisor.id);
    });
  }
}

function typeFilter(filter: RecordFilter | undefined): Set<number> | undefined {
  if (!filter?.types) return undefined;
  return new Set(filter.types.map((t) => RecordType[t]));
}

/** Creates an engine. Options are validated up front (`ERR_BAD_OPTION` names the option). */
export function createEngine(options?: EngineOptions & { logger?: Logger }): Engine {
  const { logger, ...rest } = options ?? {};
  return new Engine(rest, logger);
}
