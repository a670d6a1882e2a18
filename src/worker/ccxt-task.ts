/**
 * The ccxt pro transport on the task base (the long tail of venues without a native adapter).
 *
 * ccxt owns the sockets; this transport owns the lifecycle. One watch loop runs per stream. ccxt
 * would reconnect by itself on the next watch call; instead, the first network error ends the
 * task with a reason so that the supervisor's backoff and circuit breaker apply. Errors of one
 * stream (unknown market, venue rejects a subscription) are counted per stream and never end
 * the connection.
 *
 * A watch result's records carry the receive time of the latest socket message ccxt read (its
 * watch promises resolve after the read, so they are run through `TaskBase.read` with that time).
 */
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { nowMs } from '../clock.js';
import { ResyncReason } from '../records/types.js';
import { ccxtExchangeId } from '../venues/ccxt/adapter.js';
import {
  BookNormalizer,
  CandleNormalizer,
  emptyTickerFields,
  TradeNormalizer,
  timeframeSeconds,
  writeQuote,
  writeTicker,
} from '../venues/ccxt/normalize.js';
import type { CcxtClient, CcxtExchange, CcxtModule, CcxtVenueOptions } from '../venues/ccxt/types.js';
import { overrideUrls } from '../venues/ccxt/urls.js';
import type { StreamSpec, TickerFields, VenueAdapter } from '../venues/contract.js';
import { getVenue } from '../venues/registry.js';
import type { RejectionCode } from '../venues/rejection.js';
import type { ConnectionResult, ConnectionTask, ControlMessage } from './protocol.js';
import { TaskBase, type Transport } from './task-base.js';

/** Consecutive failures of one stream before it is given up (the connection stays). */
const STREAM_ERROR_LIMIT = 5;
/** At most one forced book rebuild (unwatch + watch) per symbol in this period. */
const BOOK_RESYNC_INTERVAL_MS = 5000;

/**
 * `loadCcxt` imports ccxt (the worker entry `workers/ccxt-connection.ts` does, once per thread:
 * it is the only module that loads ccxt).
 */
export function runCcxtTask(task: ConnectionTask, loadCcxt: () => Promise<CcxtModule>): Promise<ConnectionResult> {
  const adapter = getVenue(task.venue);
  if (adapter.transport !== 'ccxt') throw new Error(`venue ${task.venue} is not a ccxt venue`);
  const base = new TaskBase(task, adapter.exchangeCode);
  return base.run(new CcxtTransport(base, adapter, loadCcxt));
}

interface StreamState {
  readonly spec: StreamSpec;
  active: boolean;
  errors: number;
  lastResyncAt: number;
  readonly handle: (result: unknown) => void;
  readonly book?: BookNormalizer;
}

class CcxtTransport implements Transport {
  private readonly task: ConnectionTask;
  private readonly exchangeId: string;
  private readonly streams = new Map<string, StreamState>();
  private readonly tickerFields: TickerFields = emptyTickerFields();
  private ccxt: CcxtModule | undefined;
  private exchange: CcxtExchange | undefined;
  private options: CcxtVenueOptions = {};
  /** Streams to start once markets are loaded (the task's, plus control changes meanwhile). */
  private initial: StreamSpec[];
  private started = false;
  /** When ccxt last read a socket message (the receive time of the watch results it resolves). */
  private lastRecvTs = 0;

  constructor(
    private readonly base: TaskBase,
    private readonly adapter: VenueAdapter,
    private readonly loadCcxt: () => Promise<CcxtModule>,
  ) {
    this.task = base.task;
    this.exchangeId = ccxtExchangeId(adapter.id);
    this.initial = [...this.task.streams];
  }

  start(): void {
    this.connect().catch((err: Error) => {
      const network = this.ccxt !== undefined && err instanceof this.ccxt.NetworkError;
      this.base.end(network ? 'connect-failed' : 'error', 0, `${this.adapter.id}: ${err.message}`);
    });
  }

  private async connect(): Promise<void> {
    const { base, task } = this;
    this.options = task.ccxt ?? {};
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    const ccxt = await this.loadCcxt();
    this.ccxt = ccxt;
    base.log.debug('ccxt loaded', {
      ms: Math.round(performance.now() - t0),
      heapMb: Math.round((process.memoryUsage().heapUsed - heap0) / 1e5) / 10,
      version: ccxt.version,
    });
    if (base.ended) return;
    const Exchange = ccxt.pro[this.exchangeId];
    if (Exchange === undefined) throw new Error(`ccxt ${ccxt.version} has no pro exchange ${this.exchangeId}`);
    const exchange = new Exchange({ timeout: task.limits.restTimeoutMs, ...this.options.config });
    this.exchange = exchange;
    // ccxt hands `options.ws.options` to its `ws` client: the same frame cap as native sockets
    // (closes with 1009 above it) and no compression negotiated.
    const wsOptions = (exchange.options.ws ?? {}) as { options?: Record<string, unknown> };
    wsOptions.options = { ...wsOptions.options, maxPayload: task.limits.maxFrameBytes, perMessageDeflate: false };
    exchange.options.ws = wsOptions;
    overrideUrls(exchange.urls, task.wsUrl, task.restUrl);
    this.hookClients(exchange);
    // ccxt refuses plain ws:// URLs (loopback simulators, proxies) until its http agent is loaded.
    if (task.wsUrl.startsWith('ws://') && typeof exchange.loadHttpProxyAgent === 'function') {
      await (exchange.loadHttpProxyAgent as () => Promise<unknown>).call(exchange);
    }
    if (this.options.markets) exchange.setMarkets(this.options.markets);
    else await exchange.loadMarkets();
    if (base.ended) return;
    this.started = true;
    base.startStaleWatchdog(
      (idle) => `no update from ccxt for ${idle} ms`,
      () => [...this.streams.values()].some((s) => s.active),
    );
    this.addStreams(this.initial);
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
      const why =
        (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
          ? `inflates beyond limits.maxFrameBytes (${maxOutputLength} bytes)`
          : `is corrupt (${(err as Error).message})`;
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
          this.base.countFrames(
            1,
            typeof data === 'string' ? data.length : ((data as { byteLength?: number })?.byteLength ?? 0),
          );
          this.lastRecvTs = recvTs;
          let text: string | undefined;
          if (typeof data !== 'string' && (client.gunzip || client.inflate)) {
            text = this.inflate(client, data as Uint8Array);
            if (text === undefined) return;
          }
          this.base.read(recvTs, onMessage, text === undefined ? event : { data: text });
        };
      }
      return client;
    };
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
    const { sink } = this.base;
    switch (spec.channel) {
      case 'trades': {
        const n = new TradeNormalizer(sink, spec.symbolId);
        return this.state(spec, (r) => n.apply(r as never));
      }
      case 'book': {
        const book = new BookNormalizer(sink, spec.symbolId, () => this.base.countResync());
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

  /** A stream's state; a result its handler cannot use is a bad frame naming the stream. */
  private state(spec: StreamSpec, apply: (result: unknown) => void): StreamState {
    const handle = (result: unknown): void => {
      try {
        apply(result);
      } catch (err) {
        throw new Error(`${spec.channel} ${spec.symbol}: ${(err as Error).message}`);
      }
    };
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
    const { base } = this;
    while (!base.ended && s.active) {
      if (base.policy.backlogged) await base.drain();
      let result: unknown;
      try {
        result = await this.watch(s.spec);
      } catch (err) {
        if (base.ended || !s.active) return;
        if (err instanceof this.ccxt!.NetworkError) {
          base.end(base.openedAt ? 'closed' : 'connect-failed', 0, `${this.adapter.id}: ${(err as Error).message}`);
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
      if (base.ended || !s.active) return;
      s.errors = 0;
      this.onUpdate();
      base.read(this.lastRecvTs || nowMs(), s.handle, result);
    }
  }

  /** ccxt's verdict that retrying cannot help: BadSymbol (unknown symbol), NotSupported (channel). */
  private refusalOf(err: unknown): RejectionCode | undefined {
    const ccxt = this.ccxt!;
    if (ccxt.BadSymbol !== undefined && err instanceof ccxt.BadSymbol) return 'ERR_BAD_SYMBOL';
    if (ccxt.NotSupported !== undefined && err instanceof ccxt.NotSupported) return 'ERR_BAD_CHANNEL';
    return undefined;
  }

  /** The stream is refused for good: forgotten, reported by the base. */
  private reject(spec: StreamSpec, code: RejectionCode, message: string): void {
    const key = streamKey(spec);
    const s = this.streams.get(key);
    if (s !== undefined) s.active = false;
    this.streams.delete(key);
    this.initial = this.initial.filter((t) => streamKey(t) !== key);
    this.base.reportRejected([spec], code, message);
  }

  /** A stream's watch failed for a reason other than the connection: retry a few times, then give it up. */
  private async streamFailed(s: StreamState, err: Error): Promise<void> {
    s.errors++;
    const fields = { symbol: s.spec.symbol, channel: s.spec.channel, errors: s.errors, problem: err.message };
    if (s.errors >= STREAM_ERROR_LIMIT) {
      s.active = false;
      const message = `${this.adapter.id}: ${s.spec.channel} ${s.spec.symbol} given up after ${s.errors} failures: ${err.message}`;
      this.base.log.error(message, fields);
      return;
    }
    this.base.log.warn('ccxt stream failed; retrying', fields);
    await this.base.sleep(Math.min(5000, 100 * 2 ** s.errors));
  }

  /** Any watch result counts as data; the first proves the connection: report it open (once). */
  private onUpdate(): void {
    this.base.noteData(nowMs());
    if (!this.base.openedAt) this.base.opened();
  }

  /** ccxt's own book went crossed: unwatch so that the next watch rebuilds it from a snapshot. */
  private forceBookRebuild(s: StreamState): void {
    const now = nowMs();
    const unwatch = this.exchange?.unWatchOrderBook;
    if (now - s.lastResyncAt < BOOK_RESYNC_INTERVAL_MS || typeof unwatch !== 'function') return;
    s.lastResyncAt = now;
    this.base.log.warn('crossed book from ccxt; rebuilding', { symbol: s.spec.symbol, reason: ResyncReason.crossedBook });
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
      const args =
        spec.channel === 'quotes'
          ? [[spec.symbol]]
          : spec.channel === 'candles'
            ? [spec.symbol, spec.interval ?? '1m']
            : [spec.symbol];
      void (fn as (...a: unknown[]) => Promise<unknown>).apply(this.exchange, args).catch((err: Error) => {
        this.base.log.debug('ccxt unwatch failed', { symbol: spec.symbol, channel: spec.channel, problem: err.message });
      });
    }
  }

  onControl(m: Exclude<ControlMessage, { type: 'stop' }>): void {
    if (m.type === 'subscribe') {
      if (this.base.ended) return;
      if (this.started) this.addStreams(m.streams);
      else this.initial.push(...m.streams);
      return;
    }
    if (this.started) this.removeStreams(m.streams);
    else this.initial = this.initial.filter((t) => !m.streams.some((s) => streamKey(s) === streamKey(t)));
  }

  close(): Promise<void> {
    for (const s of this.streams.values()) {
      s.active = false;
      s.book?.reset();
    }
    return this.exchange ? this.exchange.close().then(
      () => {},
      () => {},
    ) : Promise.resolve();
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
