/**
 * A SessionContext that records everything a venue session does: records written to the sink
 * (book levels copied out of the scratch arrays), frames sent, REST URLs fetched, resyncs counted
 * and warnings logged. REST answers come from `rest` (a function of the URL; unset: never answers).
 * `tcp` is the same recording for a TCP venue's session (bytes sent in `sentBytes`, refusals in
 * `rejected`).
 */

import { OrderBook } from '../../src/book/order-book.js';
import { DEFAULT_LIMITS } from '../../src/engine/options.js';
import type { SessionContext, TcpSessionContext, TickerFields } from '../../src/venues/contract.js';

export type Recorded =
  | { type: 'trade'; symbolId: number; seq: number; side: number; price: number; amount: number }
  | { type: 'quote'; symbolId: number }
  | { type: 'ticker'; symbolId: number; fields: TickerFields }
  | { type: 'candle'; symbolId: number }
  | {
      type: 'book';
      symbolId: number;
      firstSeq: number;
      seq: number;
      snapshot: boolean;
      bids: [number, number][];
      asks: [number, number][];
    }
  | { type: 'status'; symbolId: number; code: number; detail: number };

export interface RecordingContext {
  readonly ctx: SessionContext;
  readonly tcp: TcpSessionContext;
  readonly recs: Recorded[];
  readonly sent: string[];
  readonly sentBytes: Buffer[];
  readonly rejected: Array<{ channels: string[]; code: string; message: string }>;
  readonly fetched: string[];
  readonly resyncs: [number, number][];
  readonly warns: string[];
  /** Answer to the next REST GET (a rejected promise for a failure). */
  rest: ((url: string) => Promise<unknown>) | undefined;
  statuses(symbolId: number): number[];
  /** The consumer's book of `symbolId`, rebuilt from the book records since the last snapshot. */
  consumerBook(symbolId: number): OrderBook;
}

const pairs = (flat: ArrayLike<number>, n: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([flat[2 * i], flat[2 * i + 1]]);
  return out;
};

export function recordingContext(tcpOptions: Pick<TcpSessionContext, 'clientId'> = {}): RecordingContext {
  const quiet = () => {};
  const rc: RecordingContext = {
    recs: [],
    sent: [],
    sentBytes: [],
    rejected: [],
    fetched: [],
    resyncs: [],
    warns: [],
    rest: undefined,
    ctx: undefined as unknown as SessionContext,
    tcp: undefined as unknown as TcpSessionContext,
    statuses: (symbolId) =>
      rc.recs.flatMap((r) => (r.type === 'status' && r.symbolId === symbolId ? [r.code] : [])),
    consumerBook(symbolId) {
      const book = new OrderBook();
      for (const r of rc.recs) {
        if (r.type !== 'book' || r.symbolId !== symbolId) continue;
        const b = r.bids.flat();
        const a = r.asks.flat();
        if (r.snapshot) book.applySnapshot(b, r.bids.length, a, r.asks.length);
        else book.applyDelta(b, r.bids.length, a, r.asks.length);
      }
      return book;
    },
  };
  const recs = rc.recs;
  (rc as { ctx: SessionContext }).ctx = {
    limits: DEFAULT_LIMITS,
    sink: {
      trade: (symbolId, _ts, seq, side, price, amount) => recs.push({ type: 'trade', symbolId, seq, side, price, amount }),
      quote: (symbolId) => recs.push({ type: 'quote', symbolId }),
      ticker: (symbolId, _ts, _seq, fields) => recs.push({ type: 'ticker', symbolId, fields: { ...fields } }),
      candle: (symbolId) => recs.push({ type: 'candle', symbolId }),
      book: (symbolId, _ts, firstSeq, seq, snapshot, bids, nb, asks, na) =>
        recs.push({ type: 'book', symbolId, firstSeq, seq, snapshot, bids: pairs(bids, nb), asks: pairs(asks, na) }),
      status: (symbolId, code, detail) => recs.push({ type: 'status', symbolId, code, detail }),
    },
    log: { debug: quiet, info: quiet, warn: (msg) => rc.warns.push(msg), error: quiet },
    restUrl: 'http://127.0.0.1:1',
    fetchJson: (url) => {
      rc.fetched.push(url);
      return rc.rest === undefined ? new Promise(() => {}) : rc.rest(url);
    },
    send: (text) => rc.sent.push(text),
    onResync: (symbolId, reason) => rc.resyncs.push([symbolId, reason]),
  };
  const { sink, log, limits, onResync } = rc.ctx;
  (rc as { tcp: TcpSessionContext }).tcp = {
    ...tcpOptions,
    sink,
    log,
    limits,
    onResync,
    send: (bytes) => rc.sentBytes.push(Buffer.from(bytes)),
    reject: (streams, code, message) => rc.rejected.push({ channels: streams.map((s) => s.channel), code, message }),
  };
  return rc;
}
