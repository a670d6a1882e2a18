/**
 * THE fake SessionContext of the venue tests (there is no other).
 *
 * `recordingContext()` records everything a venue session does: every sink call with every
 * argument (book levels copied out of the scratch arrays as `[price, amount]` pairs, ticker fields
 * copied), frames sent, REST URLs fetched, resyncs counted and every log line. REST answers come
 * from `rest` (a function of the URL, settable at any time; unset: the fetch never answers).
 * `tcp` is the same recording for a TCP venue's session (bytes sent in `sentBytes`, refusals in
 * `rejected`).
 *
 * `quietContext()` / `quietTcpContext()` are contexts that record nothing: for tests that only
 * need a session to run (optionally on their own sink).
 */

import { OrderBook } from '../../src/book/order-book.js';
import { DEFAULT_LIMITS } from '../../src/engine/options.js';
import type {
  Credentials,
  FrameParser,
  RecordSink,
  SessionContext,
  SessionLimits,
  TcpSessionContext,
  TickerFields,
} from '../../src/venues/contract.js';

/** One sink call, with every argument, named as in `RecordSink` (and the engine's records). */
export type Recorded =
  | {
      type: 'trade';
      symbolId: number;
      ts: number;
      seq: number;
      side: number;
      price: number;
      amount: number;
      /** Present only when the session passed one (a venue id that is not an exact integer). */
      tradeId?: string;
    }
  | {
      type: 'quote';
      symbolId: number;
      ts: number;
      seq: number;
      bidPrice: number;
      bidAmount: number;
      askPrice: number;
      askAmount: number;
    }
  | { type: 'ticker'; symbolId: number; ts: number; seq: number; fields: TickerFields }
  | {
      type: 'candle';
      symbolId: number;
      ts: number;
      seq: number;
      intervalSec: number;
      openTs: number;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number;
      closed: boolean;
    }
  | {
      type: 'book';
      symbolId: number;
      ts: number;
      firstSeq: number;
      seq: number;
      snapshot: boolean;
      bids: [number, number][];
      asks: [number, number][];
    }
  | { type: 'status'; symbolId: number; code: number; detail: number };

export type RecordedOf<T extends Recorded['type']> = Extract<Recorded, { type: T }>;

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields?: Record<string, unknown>;
}

export interface RecordingOptions {
  /** `ctx.restUrl` (default `http://127.0.0.1:1`). */
  restUrl?: string;
  credentials?: Credentials;
  parser?: FrameParser;
  limits?: SessionLimits;
  /** `tcp.clientId`. */
  clientId?: number;
  /** The initial `rest`. */
  rest?: (url: string) => Promise<unknown>;
  /** Record types this session must never write: the sink throws an Error naming the type. */
  refuse?: readonly Recorded['type'][];
}

export interface RecordingContext {
  readonly ctx: SessionContext;
  readonly tcp: TcpSessionContext;
  /** Every sink call, in order. */
  readonly recs: Recorded[];
  readonly sent: string[];
  readonly sentBytes: Buffer[];
  readonly rejected: Array<{ channels: string[]; code: string; message: string }>;
  readonly fetched: string[];
  /** `[symbolId, reason]` of every `onResync`. */
  readonly resyncs: [number, number][];
  /** Every log line, any level, with its fields. */
  readonly logs: LogLine[];
  /** The messages logged at `warn` and `error`. */
  readonly warns: string[];
  /** Answer to the next REST GET (a rejected promise for a failure); unset: never answers. */
  rest: ((url: string) => Promise<unknown>) | undefined;
  /** The sink calls of `type` (of `symbolId` only, when given). */
  of<T extends Recorded['type']>(type: T, symbolId?: number): RecordedOf<T>[];
  /** The status codes written for `symbolId`, in order. */
  statuses(symbolId: number): number[];
  /** The consumer's book of `symbolId`, rebuilt from its book records. */
  consumerBook(symbolId: number): OrderBook;
}

const quiet = () => {};

const pairs = (flat: ArrayLike<number>, n: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([flat[2 * i], flat[2 * i + 1]]);
  return out;
};

/** A consumer-side book rebuilt from book records, in order (a snapshot replaces, a delta applies). */
export function rebuildBook(records: readonly Recorded[]): OrderBook {
  const book = new OrderBook();
  for (const r of records) {
    if (r.type !== 'book') continue;
    const b = r.bids.flat();
    const a = r.asks.flat();
    if (r.snapshot) book.applySnapshot(b, r.bids.length, a, r.asks.length);
    else book.applyDelta(b, r.bids.length, a, r.asks.length);
  }
  return book;
}

/** A sink that pushes every call onto `recs`; a call of a `refuse`d type throws instead. */
export function recordingSink(recs: Recorded[], refuse: readonly Recorded['type'][] = []): RecordSink {
  const sink: RecordSink = {
    trade: (symbolId, ts, seq, side, price, amount, tradeId?: string) =>
      recs.push(
        tradeId === undefined
          ? { type: 'trade', symbolId, ts, seq, side, price, amount }
          : { type: 'trade', symbolId, ts, seq, side, price, amount, tradeId },
      ),
    quote: (symbolId, ts, seq, bidPrice, bidAmount, askPrice, askAmount) =>
      recs.push({ type: 'quote', symbolId, ts, seq, bidPrice, bidAmount, askPrice, askAmount }),
    ticker: (symbolId, ts, seq, fields) => recs.push({ type: 'ticker', symbolId, ts, seq, fields: { ...fields } }),
    candle: (symbolId, ts, seq, intervalSec, openTs, open, high, low, close, volume, closed) =>
      recs.push({ type: 'candle', symbolId, ts, seq, intervalSec, openTs, open, high, low, close, volume, closed }),
    book: (symbolId, ts, firstSeq, seq, snapshot, bids, nb, asks, na) =>
      recs.push({ type: 'book', symbolId, ts, firstSeq, seq, snapshot, bids: pairs(bids, nb), asks: pairs(asks, na) }),
    status: (symbolId, code, detail) => recs.push({ type: 'status', symbolId, code, detail }),
  };
  for (const type of refuse) {
    sink[type] = () => {
      throw new Error(`recording context: this session must not write a ${type} record`);
    };
  }
  return sink;
}

export function recordingContext(options: RecordingOptions = {}): RecordingContext {
  const recs: Recorded[] = [];
  const logs: LogLine[] = [];
  const warns: string[] = [];
  const line =
    (level: LogLine['level']) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      logs.push(fields === undefined ? { level, msg } : { level, msg, fields });
      if (level === 'warn' || level === 'error') warns.push(msg);
    };
  const ctx: SessionContext = {
    limits: options.limits ?? DEFAULT_LIMITS,
    sink: recordingSink(recs, options.refuse),
    log: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
    restUrl: options.restUrl ?? 'http://127.0.0.1:1',
    fetchJson: (url) => {
      rc.fetched.push(url);
      return rc.rest === undefined ? new Promise(() => {}) : rc.rest(url);
    },
    send: (text) => rc.sent.push(text),
    onResync: (symbolId, reason) => rc.resyncs.push([symbolId, reason]),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.parser === undefined ? {} : { parser: options.parser }),
  };
  const tcp: TcpSessionContext = {
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    sink: ctx.sink,
    log: ctx.log,
    limits: ctx.limits,
    onResync: ctx.onResync,
    send: (bytes) => rc.sentBytes.push(Buffer.from(bytes)),
    reject: (streams, code, message) => rc.rejected.push({ channels: streams.map((s) => s.channel), code, message }),
  };
  const rc: RecordingContext = {
    ctx,
    tcp,
    recs,
    sent: [],
    sentBytes: [],
    rejected: [],
    fetched: [],
    resyncs: [],
    logs,
    warns,
    rest: options.rest,
    of: <T extends Recorded['type']>(type: T, symbolId?: number) =>
      recs.filter((r): r is RecordedOf<T> => r.type === type && (symbolId === undefined || r.symbolId === symbolId)),
    statuses: (symbolId) => rc.of('status', symbolId).map((r) => r.code),
    consumerBook: (symbolId) => rebuildBook(rc.of('book', symbolId)),
  };
  return rc;
}

/** A sink that does nothing. */
export const NO_SINK: RecordSink = { trade: quiet, quote: quiet, ticker: quiet, book: quiet, candle: quiet, status: quiet };
const QUIET_LOG = { debug: quiet, info: quiet, warn: quiet, error: quiet };

/**
 * A context that records nothing: `sink` (default: one that does nothing), a silent log, REST
 * fetches that never answer (book streams stay buffering diffs), `send` and `onResync` no-ops.
 */
export function quietContext(sink: RecordSink = NO_SINK): SessionContext {
  return {
    limits: DEFAULT_LIMITS,
    sink,
    log: QUIET_LOG,
    restUrl: 'http://127.0.0.1:1',
    fetchJson: () => new Promise(() => {}),
    send: quiet,
    onResync: quiet,
  };
}

/** The TCP form of `quietContext`: bytes go to `send` (default: nowhere), refusals nowhere. */
export function quietTcpContext(sink: RecordSink = NO_SINK, send: (bytes: Uint8Array) => void = quiet): TcpSessionContext {
  return { limits: DEFAULT_LIMITS, sink, log: QUIET_LOG, send, onResync: quiet, reject: quiet };
}

/** Feed frames to a text session: strings as they are, anything else as its JSON. */
export function feedFrames(session: { onMessage(text: string): void }, ...frames: unknown[]): void {
  for (const f of frames) session.onMessage(typeof f === 'string' ? f : JSON.stringify(f));
}
