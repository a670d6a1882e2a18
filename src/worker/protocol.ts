/**
 * Typed messages between the main thread and connection tasks in worker threads. Only plain
 * data crosses: errors travel as `{ code, message, … }` objects, never as class instances.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CcxtVenueOptions } from '../venues/ccxt/types.js';
import type { Credentials, FrameParser, SessionLimits, StreamSpec } from '../venues/contract.js';

export type BackpressurePolicy = 'block' | 'drop' | 'conflate';

/** Timing and size limits of one connection. */
export interface ConnectionLimits extends SessionLimits {
  /** Client ping interval, ms (dead-peer check). */
  readonly pingIntervalMs: number;
  /** A ping not answered within this is a dead peer, ms. */
  readonly pongTimeoutMs: number;
  /** No data frame for this long while the peer answers pings = stale, ms (0 = never). */
  readonly staleTimeoutMs: number;
  /** Opening handshake timeout, ms. */
  readonly connectTimeoutMs: number;
  /** Largest accepted frame in bytes; larger closes the socket with 1009. */
  readonly maxFrameBytes: number;
  /** Rotate (planned, gap-free reconnect) after this connection age, ms (0 = never). */
  readonly rotateAfterMs: number;
  /** REST request timeout, ms. */
  readonly restTimeoutMs: number;
  /** Largest accepted REST body in bytes. */
  readonly maxRestBytes: number;
}

/** The task a connection runs in the pool (its input). */
export interface ConnectionTask {
  readonly connectionId: number;
  readonly venue: string;
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly streams: readonly StreamSpec[];
  readonly policy: BackpressurePolicy;
  readonly limits: ConnectionLimits;
  /** The connection's record ring (see src/ring). */
  readonly ring: SharedArrayBuffer;
  /** The engine-wide consumer doorbell. */
  readonly doorbell: SharedArrayBuffer;
  /** The connection's counters (see `CounterSlot`), written by the worker, read by main. */
  readonly counters: SharedArrayBuffer;
  /** Control channel; transferred with the task. */
  readonly port: MessagePort;
  /** Venue credentials, when configured (never logged). */
  readonly credentials?: Credentials;
  /** ccxt venues: the `venues.<id>.ccxt` option, else `RINGFEED_CCXT_OPTIONS` (resolved by the engine). */
  readonly ccxt?: CcxtVenueOptions;
  /** TCP venues with API client ids (TWS): the `venues.<id>.clientId` option. */
  readonly clientId?: number;
  /** Venues with a fast frame parser: the choice (`venues.<id>.parser`, else the env; resolved by the engine). */
  readonly parser?: FrameParser;
}

/** Slots of the per-connection Float64Array counters shared with the main thread. */
export const CounterSlot = {
  frames: 0,
  bytes: 1,
  records: 2,
  dropped: 3,
  conflated: 4,
  badMessages: 5,
  resyncs: 6,
  lastDataTs: 7,
  connectedTs: 8,
  /** Times the socket was paused because the ring was full (`block`). */
  pauses: 9,
} as const;
export const COUNTER_SLOTS = 10;

/** Why a connection task ended: the stable code of the result that crosses back to main. */
export type EndReason =
  | 'stopped'
  | 'closed'
  | 'error'
  | 'pong-timeout'
  | 'stale'
  | 'connect-failed'
  | 'too-large';

export interface ConnectionResult {
  readonly reason: EndReason;
  /** WebSocket close code when the peer closed (0 otherwise). */
  readonly closeCode: number;
  readonly message: string;
  /** How long the socket was open, ms (0 if it never opened). */
  readonly connectedMs: number;
}

/** Names one stream of a connection across the thread boundary. */
export interface StreamRef {
  readonly channel: StreamSpec['channel'];
  readonly symbolId: number;
  readonly interval?: string;
}

/** Main → worker. */
export type ControlMessage =
  | { readonly type: 'subscribe'; readonly streams: readonly StreamSpec[] }
  | { readonly type: 'unsubscribe'; readonly streams: readonly StreamSpec[] }
  | { readonly type: 'stop' };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Worker → main. */
export type WorkerMessage =
  | { readonly type: 'open' }
  | { readonly type: 'stale'; readonly idleMs: number }
  | { readonly type: 'rotating' }
  /**
   * The venue refused these streams (unknown symbol, no permission …). The supervisor drops
   * them from its stream list (no resubscribe on reconnect) and the engine emits `rejected`.
   * The task has already written a `rejected` status record per symbol and forgotten them.
   */
  | {
      readonly type: 'rejected';
      readonly streams: readonly StreamRef[];
      readonly code: 'ERR_BAD_SYMBOL' | 'ERR_BAD_CHANNEL' | 'ERR_SUBSCRIPTION_REJECTED';
      /** The venue's own words, plus the symbol (never credentials). */
      readonly message: string;
    }
  | {
      readonly type: 'log';
      readonly level: LogLevel;
      readonly msg: string;
      readonly fields?: Record<string, unknown>;
    };
