/**
 * Piscina task: one connection to a venue through ccxt pro (the long tail of venues without a
 * native adapter). Same contract as `connection.ts`: `ConnectionTask` in, `ConnectionResult`
 * out, control over `task.port`, records through `RecordEncoder` + `PolicySink` into the ring.
 *
 * ccxt owns the sockets; this task owns the lifecycle. One watch loop runs per stream. ccxt
 * would reconnect by itself on the next watch call; instead, the first network error ends the
 * task with a reason so that the supervisor's backoff and circuit breaker apply. Errors of one
 * stream (unknown market, venue rejects a subscription) are counted per stream and never end
 * the connection. ccxt is imported here only, lazily, once per worker thread.
 */
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { PolicySink } from '../src/backpressure/policy-sink.js';
import { nowMs } from '../src/clock.js';
import { RecordEncoder } from '../src/records/encoder.js';
import { ResyncReason, StatusCode } from '../src/records/types.js';
import { Doorbell } from '../src/ring/doorbell.js';
import { RingWriter } from '../src/ring/ring.js';
import { ccxtExchangeId } from '../src/venues/ccxt.js';
import {
  BookNormalizer,
  CandleNormalizer,
  emptyTickerFields,
  TradeNormalizer,
  timeframeSeconds,
  writeQuote,
  writeTicker,
} from '../src/venues/ccxt-normalize.js';
import { type CcxtClient, type CcxtExchange, type CcxtModule, type CcxtVenueOptions, ccxtVenueOptions } from '../src/venues/ccxt-types.js';
import { overrideUrls } from '../src/venues/ccxt-urls.js';
import { getVenue } from '../src/venues/registry.js';
import { CHANNEL_RECORD_TYPE, type RejectionCode } from '../src/venues/rejection.js';
import type { AdapterLog, StreamSpec, TickerFields, VenueAdapter } from '../src/venues/types.js';
import {
  type ConnectionResult,
  type ConnectionTask,
  type ControlMessage,
  CounterSlot,
  type EndReason,
  type WorkerMessage,
} from '../src/worker-protocol.js';

/** Consecutive failures of one stream before it is given up (the connection stays). */
const STREAM_ERROR_LIMIT = 5;
/** At most one forced book rebuild (unwatch + watch) per symbol in this period. */
const BOOK_RESYNC_INTERVAL_MS = 5000;
const BAD_FRAME_LOG_LIMIT = 20;

let ccxtLoading: Promise<CcxtModule> | undefined;

/** ccxt, imported once per worker thread (first call measures the load). */
function loadCcxt(): Promise<CcxtModule> {
  ccxtLoading ??= import('ccxt').then((m) => ((m as { default?: unknown }).default ?? m) as CcxtModule);
  return ccxtLoading;
}

export default function runCcxtConnection(task: ConnectionTask): Promise<ConnectionResult> {
  return new CcxtConnection(task).run();
}

interface StreamState {
  readonly spec: StreamSpec;
  active: boolean;
  errors: number;
  lastResyncAt: number;
  readonly handle: (result: unknown) => void;
  readonly book?: BookNormalizer;
}

class CcxtConnection {
  private readonly adapter: VenueAdapter;
  private readonly exchangeId: string;
  private readonly counters: Float64Array;
  private readonly writer: RingWriter;
  private readonly encoder: RecordEncoder;
  private readonly sink: PolicySink;
  private readonly log: AdapterLog;
  private readonly streams = new Map<string, StreamState>();
  private readonly tickerFields: TickerFields = emptyTickerFields();
  private ccxt: CcxtModule | undefined;
  private exchange: CcxtExchange | undefined;
  private options: CcxtVenueOptions = {};
  /** Streams to start once markets are loaded (the task's, plus control changes meanwhile). */
  private initial: StreamSpec[];
  private openedAt = 0;
  private started = false;
  private ended = false;
  private stopRequested = false;
  private portClosed = false;
  private publishScheduled = false;
  private badFrames = 0;
  private draining: Promise<void> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private resolveEnd!: (r: ConnectionResult) => void;
  private readonly endPromise = new Promise<ConnectionResult>((r) => {
    this.resolveEnd = r;
  });

  constructor(private readonly task: ConnectionTask) {
    this.adapter = getVenue(task.venue);
    if (this.adapter.transport !== 'ccxt') throw new Error(`venue ${task.venue} is not a ccxt venue`);
    this.exchangeId = ccxtExchangeId(this.adapter.id);
    this.initial = [...task.streams];
    this.counters = new Float64Array(task.counters);
    this.writer = new RingWriter(task.ring, new Doorbell(task.doorbell));
    this.encoder = new RecordEncoder(this.writer, this.adapter.exchangeCode, this.counters[CounterSlot.records]!);
    this.sink = new PolicySink(this.encoder, task.policy);
    this.log = {
      debug: (msg, fields) => this.post({ type: 'log', level: 'debug', msg, fields }),
      info: (msg, fields) => this.post({ type: 'log', level: 'info', msg, fields }),
      warn: (msg, fields) => this.post({ type: 'log', level: 'warn', msg, fields }),
      error: (msg, fields) => this.post({ type: 'log', level: 'error', msg, fields }),
    };
  }

  async run(): Promise<ConnectionResult> {
    this.task.port.on('message', (m: ControlMessage) => this.onControl(m));
    try {
      await this.connect();
    } catch (err) {
      const e = err as Error;
      const network = this.ccxt !== undefined && e instanceof this.ccxt.NetworkError;
      this.end(network ? 'connect-failed' : 'error', 0, `${this.adapter.id}: ${e.message}`);
    }
    return this.endPromise;
  }

  private async connect(): Promise<void> {
    this.options = this.task.ccxt ?? ccxtVenueOptions(this.exchangeId);
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    const ccxt = await loadCcxt();
    this.ccxt = ccxt;
    this.log.debug('ccxt loaded', {
      ms: Math.round(performance.now() - t0),
      heapMb: Math.round((process.memoryUsage().heapUsed - heap0) / 1e5) / 10,
      version: ccxt.version,
    });
    if (this.ended) return;
    const Exchange = ccxt.pro[this.exchangeId];
    if (Exchange === undefined) throw new Error(`ccxt ${ccxt.version} has no pro exchange ${this.exchangeId}`);
    const exchange = new Exchange({ timeout: this.task.limits.restTimeoutMs, ...this.options.config });
    this.exchange = exchange;
    // ccxt hands `options.ws.options` to its `ws` client: the same frame cap as native sockets
    // (closes with 1009 above it) and no compression negotiated.
    const wsOptions = (exchange.options.ws ?? {}) as { options?: Record<string, unknown> };
    wsOptions.options = { ...wsOptions.options, maxPayload: this.task.limits.maxFrameBytes, perMessageDeflate: false };
    exchange.options.ws = wsOptions;
    overrideUrls(exchange.urls, this.task.wsUrl, this.task.restUrl);
    this.hookClients(exchange);
    // ccxt refuses plain ws:// URLs (loopback simulators, proxies) until its http agent is loaded.
    if (this.task.wsUrl.startsWith('ws://') && typeof exchange.loadHttpProxyAgent === 'function') {
      await (exchange.loadHttpProxyAgent as () => Promise<unknown>).call(exchange);
    }
    if (this.options.markets) exchange.setMarkets(this.options.markets);
    else await exchange.loadMarkets();
    if (this.ended) return;
    this.started = true;
    this.counters[CounterSlot.lastDataTs] = nowMs();
    this.addStreams(this.initial);
    this.startWatchdog();
  }

  /**
   * Inflates a compressed frame ourselves, capped at `limits.maxFrameBytes` of output (ccxt's
   * own inflate has no cap: a small frame could expand to gigabytes). Over the cap, or corrupt,
   * the socket is ended as ccxt ends it for a corrupt frame; undefined is returned.
   */
  private inflate(client: CcxtClient, data: Uint8Array): string | undefined {
    const maxOutputLength = this.task.limits.maxFrameBytes;
    try {
      const out = client.gunzip ? gunzipSync(data, { maxOutputLength }) : inflateRawSync(data, { maxOutputLength });
      return out.toString('utf8');
    } catch (err) {
      const why = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? `inflates beyond limits.maxFrameBytes (${maxOutputLength} bytes)` : `is corrupt (${(err as Error).message})`;
      client.onError(new Error(`${this.exchangeId}: a compressed frame ${why}`));
      client.close();
      return undefined;
    }
  }

  /** Counts frames and bytes and stamps the receive time once per socket message. */
  private hookClients(exchange: CcxtExchange): void {
    const makeClient = exchange.client.bind(exchange);
    const hooked = new WeakSet<object>();
    exchange.client = (url: string) => {
      const client = makeClient(url);
      if (!hooked.has(client)) {
        hooked.add(client);
        const onMessage = client.onMessage.bind(client);
        client.onMessage = (event: { data: unknown }) => {
          const recvTs = nowMs();
          const data = event.data;
          this.counters[CounterSlot.frames]!++;
          this.counters[CounterSlot.bytes]! +=
            typeof data === 'string' ? data.length : ((data as { byteLength?: number })?.byteLength ?? 0);
          this.encoder.recvTs = recvTs;
          let text: string | undefined;
          if (typeof data !== 'string' && (client.gunzip || client.inflate)) {
            text = this.inflate(client, data as Uint8Array);
            if (text === undefined) return;
          }
          try {
            onMessage(text === undefined ? event : { data: text });
          } catch (err) {
            this.badFrame((err as Error).message);
          }
          this.schedulePublish();
        };
      }
      return client;
    };
  }

  private startWatchdog(): void {
    const stale = this.task.limits.staleTimeoutMs;
    if (stale <= 0) return;
    const every = Math.max(10, Math.min(1000, stale / 4));
    this.timers.push(setInterval(() => this.checkStale(), every));
  }

  private checkStale(): void {
    if (this.ended || ![...this.streams.values()].some((s) => s.active)) return;
    const idle = nowMs() - this.counters[CounterSlot.lastDataTs]!;
    if (idle < this.task.limits.staleTimeoutMs || this.sink.queued) return;
    this.encoder.recvTs = nowMs();
    this.sink.status(0, StatusCode.stale, Math.round(idle));
    this.writer.publish();
    this.post({ type: 'stale', idleMs: Math.round(idle) });
    this.end('stale', 0, `no update from ccxt for ${Math.round(idle)} ms`);
  }

  private addStreams(specs: readonly StreamSpec[]): void {
    const markets = this.exchange!.markets;
    for (const spec of specs) {
      const key = streamKey(spec);
      if (this.streams.get(key)?.active) continue;
      if (markets !== undefined && !Object.hasOwn(markets, spec.symbol)) {
        const message = `${this.adapter.id}: unknown symbol ${spec.symbol} (not in ccxt's markets for ${this.exchangeId}); ${spec.channel} not subscribed`;
        this.reject(spec, 'ERR_BAD_SYMBOL', message);
        continue;
      }
      const state = this.createStream(spec);
      this.streams.set(key, state);
      void this.loop(state);
    }
  }

  private createStream(spec: StreamSpec): StreamState {
    const { sink } = this;
    switch (spec.channel) {
      case 'trades': {
        const n = new TradeNormalizer(sink, spec.symbolId);
        return this.state(spec, (r) => n.apply(r as never));
      }
      case 'book': {
        const book = new BookNormalizer(sink, spec.symbolId, () => {
          this.counters[CounterSlot.resyncs]!++;
        });
        const state: StreamState = {
          ...this.state(spec, (r) => {
            if (book.apply(r as never) === 'crossed') this.forceBookRebuild(state);
          }),
          book,
        };
        return state;
      }
      case 'ticker':
        return this.state(spec, (r) => writeTicker(sink, spec.symbolId, r as never, this.tickerFields));
      case 'candles': {
        const n = new CandleNormalizer(sink, spec.symbolId, timeframeSeconds(spec.interval ?? '1m'));
        return this.state(spec, (r) => n.apply(r as never));
      }
      case 'quotes':
        return this.state(spec, (r) => {
          const t = (r as Record<string, never>)[spec.symbol];
          if (t !== undefined) writeQuote(sink, spec.symbolId, t);
        });
      default:
        throw new Error(`${this.adapter.id}: channel ${spec.channel} is not available through ccxt`);
    }
  }

  private state(spec: StreamSpec, handle: (result: unknown) => void): StreamState {
    return { spec, active: true, errors: 0, lastResyncAt: 0, handle };
  }

  private watch(spec: StreamSpec): Promise<unknown> {
    const ex = this.exchange!;
    switch (spec.channel) {
      case 'trades':
        return ex.watchTrades(spec.symbol);
      case 'book':
        return ex.watchOrderBook(spec.symbol, this.options.bookLimit);
      case 'ticker':
        return ex.watchTicker(spec.symbol);
      case 'candles':
        return ex.watchOHLCV(spec.symbol, spec.interval ?? '1m');
      case 'quotes':
        return ex.watchBidsAsks([spec.symbol]);
      default:
        return Promise.reject(new Error(`channel ${spec.channel} is not available through ccxt`));
    }
  }

  private async loop(s: StreamState): Promise<void> {
    while (!this.ended && s.active) {
      if (this.sink.backlogged) await this.drain();
      let result: unknown;
      try {
        result = await this.watch(s.spec);
      } catch (err) {
        if (this.ended || !s.active) return;
        if (err instanceof this.ccxt!.NetworkError) {
          this.end(this.openedAt ? 'closed' : 'connect-failed', 0, `${this.adapter.id}: ${(err as Error).message}`);
          return;
        }
        const refusal = this.refusalOf(err);
        if (refusal !== undefined) {
          const why = `${this.adapter.id}: ${s.spec.channel} ${s.spec.symbol} refused: ${(err as Error).message}`;
          this.reject(s.spec, refusal, why);
          return;
        }
        await this.streamFailed(s, err as Error);
        continue;
      }
      if (this.ended || !s.active) return;
      s.errors = 0;
      this.onUpdate();
      try {
        s.handle(result);
      } catch (err) {
        this.badFrame(`${s.spec.channel} ${s.spec.symbol}: ${(err as Error).message}`);
      }
      this.schedulePublish();
    }
  }

  /** ccxt's verdict that retrying cannot help: BadSymbol (unknown symbol), NotSupported (channel). */
  private refusalOf(err: unknown): RejectionCode | undefined {
    const ccxt = this.ccxt!;
    if (ccxt.BadSymbol !== undefined && err instanceof ccxt.BadSymbol) return 'ERR_BAD_SYMBOL';
    if (ccxt.NotSupported !== undefined && err instanceof ccxt.NotSupported) return 'ERR_BAD_CHANNEL';
    return undefined;
  }

  /** The stream is refused for good: a `rejected` status record, forgotten, and main is told. */
  private reject(spec: StreamSpec, code: RejectionCode, message: string): void {
    const key = streamKey(spec);
    const s = this.streams.get(key);
    if (s !== undefined) s.active = false;
    this.streams.delete(key);
    this.initial = this.initial.filter((t) => streamKey(t) !== key);
    this.encoder.recvTs = nowMs();
    this.sink.status(spec.symbolId, StatusCode.rejected, CHANNEL_RECORD_TYPE[spec.channel]);
    this.schedulePublish();
    this.post({ type: 'rejected', streams: [{ channel: spec.channel, symbolId: spec.symbolId, interval: spec.interval }], code, message });
  }

  /** A stream's watch failed for a reason other than the connection: retry a few times, then give it up. */
  private async streamFailed(s: StreamState, err: Error): Promise<void> {
    s.errors++;
    const fields = { symbol: s.spec.symbol, channel: s.spec.channel, errors: s.errors, problem: err.message };
    if (s.errors >= STREAM_ERROR_LIMIT) {
      s.active = false;
      const message = `${this.adapter.id}: ${s.spec.channel} ${s.spec.symbol} given up after ${s.errors} failures: ${err.message}`;
      this.log.error(message, fields);
      return;
    }
    this.log.warn('ccxt stream failed; retrying', fields);
    await this.sleep(Math.min(5000, 100 * 2 ** s.errors));
  }

  /** First data proves the connection: report it open (once). */
  private onUpdate(): void {
    const now = nowMs();
    this.counters[CounterSlot.lastDataTs] = now;
    if (this.openedAt) return;
    this.openedAt = now;
    this.counters[CounterSlot.connectedTs] = now;
    this.sink.status(0, StatusCode.connected, 0);
    this.post({ type: 'open' });
  }

  /** ccxt's own book went crossed: unwatch so that the next watch rebuilds it from a snapshot. */
  private forceBookRebuild(s: StreamState): void {
    const now = nowMs();
    const unwatch = this.exchange?.unWatchOrderBook;
    if (now - s.lastResyncAt < BOOK_RESYNC_INTERVAL_MS || typeof unwatch !== 'function') return;
    s.lastResyncAt = now;
    this.log.warn('crossed book from ccxt; rebuilding', { symbol: s.spec.symbol, reason: ResyncReason.crossedBook });
    void (unwatch as (symbol: string) => Promise<unknown>).call(this.exchange, s.spec.symbol).catch(() => {});
  }

  private removeStreams(specs: readonly StreamSpec[]): void {
    for (const spec of specs) {
      const key = streamKey(spec);
      const s = this.streams.get(key);
      if (!s) continue;
      s.active = false;
      this.streams.delete(key);
      const method = UNWATCH[spec.channel];
      const fn = method === undefined ? undefined : this.exchange?.[method];
      if (typeof fn !== 'function' || this.exchange?.has[method!] !== true) continue;
      const args = spec.channel === 'quotes' ? [[spec.symbol]] : spec.channel === 'candles' ? [spec.symbol, spec.interval ?? '1m'] : [spec.symbol];
      void (fn as (...a: unknown[]) => Promise<unknown>).apply(this.exchange, args).catch((err: Error) => {
        this.log.debug('ccxt unwatch failed', { symbol: spec.symbol, channel: spec.channel, problem: err.message });
      });
    }
  }

  private onControl(m: ControlMessage): void {
    switch (m.type) {
      case 'subscribe':
        if (this.ended) return;
        if (this.started) this.addStreams(m.streams);
        else this.initial.push(...m.streams);
        return;
      case 'unsubscribe':
        if (this.started) this.removeStreams(m.streams);
        else this.initial = this.initial.filter((t) => !m.streams.some((s) => streamKey(s) === streamKey(t)));
        return;
      case 'stop':
        this.stopRequested = true;
        this.end('stopped', 1000, 'stopped by the engine');
    }
  }

  private badFrame(problem: string): void {
    const n = ++this.badFrames;
    this.counters[CounterSlot.badMessages]!++;
    this.sink.status(0, StatusCode.badMessage, n);
    if (n <= BAD_FRAME_LOG_LIMIT || n % 1000 === 0) this.log.warn('bad ccxt message skipped', { problem, badFrames: n });
  }

  private schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    queueMicrotask(() => {
      this.publishScheduled = false;
      this.publish();
    });
  }

  private publish(): void {
    this.writer.publish();
    this.counters[CounterSlot.records] = this.encoder.recordsWritten;
    this.counters[CounterSlot.dropped] = this.sink.dropped;
    this.counters[CounterSlot.conflated] = this.sink.conflated;
  }

  /**
   * `block`: watch loops stop asking ccxt for more until the ring has room. ccxt keeps reading
   * its socket meanwhile, into caches bounded by its own limits (e.g. 1000 trades).
   */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      this.counters[CounterSlot.pauses]!++;
      while (!this.ended && !this.sink.flush()) {
        this.publish();
        await this.writer.waitForSpace(this.writer.capacity / 4, 100);
      }
      this.publish();
      this.draining = undefined;
    })();
    return this.draining;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.timers.push(t);
    });
  }

  private post(message: WorkerMessage): void {
    if (!this.portClosed) {
      this.task.port.postMessage(message);
    }
  }

  private end(reason: EndReason, closeCode: number, message: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.streams.values()) {
      s.active = false;
      s.book?.reset();
    }
    const connectedMs = this.openedAt ? Math.round(nowMs() - this.openedAt) : 0;
    this.encoder.recvTs = nowMs();
    if (this.openedAt) this.sink.status(0, StatusCode.disconnected, closeCode);
    const closing = this.exchange ? this.exchange.close().catch(() => {}) : Promise.resolve();
    void Promise.all([closing, this.drainBacklog()]).then(() => {
      this.portClosed = true;
      this.task.port.close();
      this.resolveEnd({ reason, closeCode, message, connectedMs });
    });
  }

  private async drainBacklog(): Promise<void> {
    while (!this.sink.flush() && !this.stopRequested) {
      this.publish();
      await this.writer.waitForSpace(this.writer.capacity / 4, 100);
    }
    this.publish();
  }
}

const UNWATCH: Partial<Record<StreamSpec['channel'], string>> = {
  trades: 'unWatchTrades',
  book: 'unWatchOrderBook',
  ticker: 'unWatchTicker',
  candles: 'unWatchOHLCV',
  quotes: 'unWatchBidsAsks',
};

function streamKey(s: StreamSpec): string {
  return `${s.channel}|${s.symbolId}|${s.interval ?? ''}`;
}
