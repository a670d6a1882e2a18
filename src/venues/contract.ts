/**
 * The contract between a venue adapter (runs inside a worker thread) and the connection task
 * that owns the socket. One adapter module per venue, registered by one line in `registry.ts`.
 */
import type { RecordSink } from '../records/sink.js';
import type { Framing } from '../worker/framing.js';
import type { PaceRate } from './kit/pacer.js';
import type { RejectionCode } from './rejection.js';

/** Normalized channel names a user asks for. */
export type Channel = 'trades' | 'aggTrades' | 'quotes' | 'ticker' | 'book' | 'candles' | 'funding';
export const CHANNELS: readonly Channel[] = [
  'trades',
  'aggTrades',
  'quotes',
  'ticker',
  'book',
  'candles',
  'funding',
];

/** One channel of one symbol on one connection, as resolved by the main thread. */
export interface StreamSpec {
  readonly channel: Channel;
  /** Normalized symbol, `BASE/QUOTE`. */
  readonly symbol: string;
  /** Interned symbol id (assigned on the main thread; written into every record). */
  readonly symbolId: number;
  /** Venue's own symbol spelling, e.g. `BTCUSDT`. */
  readonly native: string;
  /** Candle interval (`1m`, `5m`, `1h` …) for `candles`; ignored otherwise. */
  readonly interval?: string;
}

/** The sink contract lives with the records it writes (lower layers must not import venue code). */
export type { RecordSink, TickerFields } from '../records/sink.js';

export interface AdapterLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** `fast`: a venue's own scanner of its frame shapes (falling back to JSON.parse); `json`: JSON.parse only. */
export type FrameParser = 'fast' | 'json';

/** The limits a venue session applies: the `limits.*` options of the same names. */
export interface SessionLimits {
  /** Price levels kept per book side; beyond it the farthest level is evicted. */
  readonly maxBookLevels: number;
  /** Book updates buffered per symbol while its snapshot is pending; beyond it, refetch. */
  readonly maxBufferedUpdates: number;
}

/** What the connection task gives an adapter session. */
export interface SessionContext {
  readonly sink: RecordSink;
  readonly log: AdapterLog;
  /** REST base URL for this venue (configurable; the simulator stands in for tests). */
  readonly restUrl: string;
  /** GET a JSON document (already bounded in size and time by the connection task). */
  fetchJson(url: string): Promise<unknown>;
  /** Send a text frame on the current socket (no-op while disconnected). */
  send(text: string): void;
  /** Called when the session counts a book resync (for the connection's counters). */
  onResync(symbolId: number, reason: number): void;
  /** Credentials for this venue, when the user configured any. */
  readonly credentials?: Credentials;
  /** The engine's `limits` a session applies (each has one default, in src/engine/options.ts). */
  readonly limits: SessionLimits;
  /** Venues with a fast frame parser (`fastParser`): `json` turns it off (`venues.<id>.parser`). */
  readonly parser?: FrameParser;
  /**
   * The venue refused these streams (an error ack naming them): the task writes a `rejected`
   * status record per stream, calls `removeStreams` on the session (no retry, no resubscribe)
   * and tells the main thread, which emits the engine's `rejected` event. `message` names the
   * symbol and gives the venue's words. Absent in bare unit harnesses (sessions then only log).
   */
  reject?(streams: readonly StreamSpec[], code: RejectionCode, message: string): void;
}

/**
 * Protocol state for one logical connection. Messages from more than one socket may pass
 * through one session (e.g. during a planned rotation both the old and the new socket feed
 * it); sessions must therefore drop anything they have already emitted, by venue sequence.
 */
export interface VenueSession {
  /** Frames to send right after a socket opens (besides what `connectUrl` already carries). */
  openMessages(streams: readonly StreamSpec[]): string[];
  /** Frames to add streams on a live socket. */
  subscribeMessages(streams: readonly StreamSpec[]): string[];
  /** Frames to remove streams on a live socket. */
  unsubscribeMessages(streams: readonly StreamSpec[]): string[];
  /** Streams were added (also called for the initial set). Starts book sync etc. */
  addStreams(streams: readonly StreamSpec[]): void;
  /** Streams were removed: forget their state. */
  removeStreams(streams: readonly StreamSpec[]): void;
  /**
   * Parse and normalize one text frame, writing records to the sink. Throws an Error whose
   * message names what was wrong for a frame it cannot understand; the caller counts and
   * logs it and carries on.
   */
  onMessage(text: string): void;
  /** The socket carrying data closed: book state is no longer trustworthy. */
  onDisconnect(): void;
}

/**
 * What a venue's adapter module declares. The registry completes it into a `VenueAdapter`: it
 * assigns the exchange code and derives the endpoint environment variables from the id.
 */
export type VenueDefinition = DefinitionOf<SocketVenueAdapter> | DefinitionOf<TcpVenueAdapter> | DefinitionOf<CcxtVenueAdapter>;
/** What the registry assigns, and what has a default there (`connectUrl`: the endpoint as configured; age: 0). */
type DefinitionOf<A> = Omit<A, 'exchangeCode' | 'wsUrlEnv' | 'restUrlEnv' | 'maxConnectionAgeMs' | 'connectUrl'> &
  Partial<Pick<A, Extract<keyof A, 'maxConnectionAgeMs' | 'connectUrl'>>>;
/** A WebSocket venue's definition (most native venues). */
export type SocketVenueDefinition = DefinitionOf<SocketVenueAdapter>;
/** A TCP venue's definition (Futu OpenD, the TWS API). */
export type TcpVenueDefinition = DefinitionOf<TcpVenueAdapter>;

/** A venue adapter, by the transport the worker runs it on. */
export type VenueAdapter = SocketVenueAdapter | TcpVenueAdapter | CcxtVenueAdapter;

/** What every adapter declares, whatever its transport. */
export interface VenueCommon {
  /** Exchange id, e.g. `binance`. */
  readonly id: string;
  /** Small integer written into records (1..255). */
  readonly exchangeCode: number;
  readonly channels: readonly Channel[];
  /** The venue's endpoint: a `wss://` URL, or `tcp://host:port` for a TCP venue. */
  readonly defaultWsUrl: string;
  readonly defaultRestUrl: string;
  /** Environment variables that override the endpoints. */
  readonly wsUrlEnv: string;
  readonly restUrlEnv: string;
  /** The venue closes connections older than this; the task rotates before it (0 = never). */
  readonly maxConnectionAgeMs: number;
  /**
   * Map a normalized symbol (`BTC/USDT`) to the venue's spelling; throws an Error naming the
   * symbol when it is not a valid symbol for this venue.
   */
  nativeSymbol(symbol: string): string;
  /**
   * Streams with different keys never share a socket (e.g. Bybit spot vs linear endpoints,
   * OKX public vs business). Default: one key for all streams.
   */
  connectionKey?(stream: StreamSpec): string;
  /** Largest number of streams one socket may carry on this venue. */
  readonly maxStreamsPerConnection?: number;
  /**
   * Connections one engine may open to this venue (TWS: one per client id, a second with the same
   * id is refused with error 326). A subscribe that would need more throws `ERR_BAD_OPTION`.
   */
  readonly maxConnections?: number;
  /**
   * Candle intervals the venue offers (`1m`, `1h` …), checked at `subscribe` (`ERR_BAD_INTERVAL`
   * lists them). Undefined: the interval's form is checked, the venue decides in the worker (ccxt).
   */
  readonly candleIntervals?: readonly string[];
  /**
   * Venues that publish their instrument list: which of `natives` the venue lists. The task asks
   * once at start (and for natives it has no verdict on when streams are added later) and
   * rejects the others with `ERR_BAD_SYMBOL` before they reach the socket. Throws when the list
   * cannot be had (the task then goes on without the check).
   */
  listedSymbols?(natives: readonly string[], rest: InstrumentListContext): Promise<InstrumentList>;
}

/** A venue spoken over a WebSocket the task owns (`src/worker/ws-task.ts`). */
export interface SocketVenueAdapter extends VenueCommon {
  readonly transport?: 'socket';
  /** The URL to open for these streams (Binance puts combined streams in the URL). */
  connectUrl(wsBaseUrl: string, streams: readonly StreamSpec[]): string;
  createSession(ctx: SessionContext): VenueSession;
  /** An application-level ping the connection task sends on a timer (e.g. OKX `ping`). */
  readonly appPing?: { readonly intervalMs: number; readonly text: string };
  /** The session has a fast frame parser that `ctx.parser === 'json'` replaces with JSON.parse (Binance). */
  readonly fastParser?: true;
  /**
   * The venue's limit on messages a client sends on one connection, with a margin (Binance spot
   * closes a connection above 5 a second): the task paces every message the session sends and
   * folds subscribe (and unsubscribe) requests that wait into one. Default: unpaced.
   */
  readonly outgoing?: PaceRate;
}

/** A venue spoken over a framed TCP socket (`src/worker/tcp-task.ts`); frames are Buffers. */
export interface TcpVenueAdapter extends VenueCommon {
  readonly transport: 'tcp';
  readonly framing: Framing<Buffer>;
  /** The dead-peer check: a request the peer must answer, and how its answer is recognised. */
  readonly keepAlive?: TcpKeepAlive<Buffer>;
  createSession(ctx: TcpSessionContext): TcpSession<Buffer>;
}

/** The venues ccxt pro speaks for us (`src/worker/ccxt-task.ts`); ccxt owns their sockets. */
export interface CcxtVenueAdapter extends VenueCommon {
  readonly transport: 'ccxt';
}

/** The parts of a TCP venue the TCP task uses (generic in what its framing yields). */
export interface TcpVenue<F> {
  readonly id: string;
  readonly exchangeCode: number;
  readonly framing: Framing<F>;
  readonly keepAlive?: TcpKeepAlive<F>;
  createSession(ctx: TcpSessionContext): TcpSession<F>;
}

export interface TcpKeepAlive<F> {
  request(): Uint8Array;
  isAnswer(frame: F): boolean;
}

/** What the TCP task gives a venue session. */
export interface TcpSessionContext {
  readonly sink: RecordSink;
  readonly log: AdapterLog;
  /** Writes bytes on the socket (no-op while disconnected). */
  send(bytes: Uint8Array): void;
  onResync(symbolId: number, reason: number): void;
  /** The venue refused these streams (see `SessionContext.reject`). */
  reject(streams: readonly StreamSpec[], code: RejectionCode, message: string): void;
  readonly limits: SessionLimits;
  /** Credentials for this venue, when the user configured any. */
  readonly credentials?: Credentials;
  /** The API client id the venue's peer knows this connection by (`venues.<id>.clientId`; TWS). */
  readonly clientId?: number;
}

/** Protocol state of one TCP connection; `F` is what the venue's framing yields. */
export interface TcpSession<F> {
  /** Bytes to write once connected (handshake, login, the initial subscriptions). */
  openMessages(streams: readonly StreamSpec[]): Uint8Array[];
  subscribeMessages(streams: readonly StreamSpec[]): Uint8Array[];
  unsubscribeMessages(streams: readonly StreamSpec[]): Uint8Array[];
  addStreams(streams: readonly StreamSpec[]): void;
  removeStreams(streams: readonly StreamSpec[]): void;
  /** One whole frame (valid only during the call); throws for a frame it cannot understand. */
  onFrame(frame: F): void;
  onDisconnect(): void;
  /** No data is expected now (e.g. every market of its streams is closed): the stale watchdog waits. */
  quietExpected?(): boolean;
}

export interface InstrumentList {
  /** Native symbols the venue lists (at least those of the asked ones that exist). */
  readonly listed: ReadonlySet<string>;
  /** `listed` is the venue's whole list: anything else is unknown too (no need to ask again). */
  readonly complete: boolean;
}

/** What `listedSymbols` may use: the task's bounded REST access. */
export interface InstrumentListContext {
  readonly restUrl: string;
  fetchJson(url: string): Promise<unknown>;
}

/**
 * API credentials for authenticated channels. They are handed to the worker task only, used to
 * sign requests there, and never logged, included in errors or stats.
 */
export interface Credentials {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase?: string;
}
