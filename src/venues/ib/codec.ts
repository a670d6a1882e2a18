/**
 * The TWS API socket protocol (text era, server versions up to 193): message ids, the handshake,
 * and a field reader over one framed message.
 *
 * A message is a 4-byte big-endian length, then fields, each ended by a NUL. The client opens
 * with `API\0`, then (length-prefixed, no NUL) `v<min>..<max>`; the server answers with its
 * version and connection time, and the client sends `startApi` with its client id.
 */
import { twsFrame, twsMessage } from '../../worker/framing.js';

/**
 * The server versions we speak: 176 is TWS/Gateway 10.19 (2022); 193 is the last text-only one
 * and the most `@stoqey/ib` negotiates (above 201 TWS speaks protobuf).
 */
export const TWS_MIN_VERSION = 176;
export const TWS_MAX_VERSION = 193;
/** From this version on, contract details carry `lastTradeDate` after the contract month. */
export const VERSION_LAST_TRADE_DATE = 182;

/** Client → TWS message ids. */
export const Out = {
  reqMktData: 1,
  cancelMktData: 2,
  reqContractDetails: 9,
  reqMktDepth: 10,
  cancelMktDepth: 11,
  reqCurrentTime: 49,
  reqRealTimeBars: 50,
  cancelRealTimeBars: 51,
  startApi: 71,
  reqTickByTick: 97,
  cancelTickByTick: 98,
} as const;

/** TWS → client message ids. */
export const In = {
  tickPrice: 1,
  tickSize: 2,
  error: 4,
  nextValidId: 9,
  contractData: 10,
  marketDepth: 12,
  marketDepthL2: 13,
  managedAccounts: 15,
  currentTime: 49,
  realTimeBars: 50,
  contractDataEnd: 52,
  tickByTick: 99,
} as const;

/** `reqMktData` tick types we read (the TWS API's TickType). */
export const TickType = {
  bidSize: 0,
  bid: 1,
  ask: 2,
  askSize: 3,
  last: 4,
  lastSize: 5,
  high: 6,
  low: 7,
  volume: 8,
  close: 9,
  open: 14,
} as const;

/** tickByTick tick types. */
export const TickByTick = { last: 1, allLast: 2, bidAsk: 3, midPoint: 4 } as const;

/** The opening bytes: `API\0` and the version range. */
export function handshake(min = TWS_MIN_VERSION, max = TWS_MAX_VERSION): Buffer {
  return Buffer.concat([Buffer.from('API\0', 'latin1'), twsFrame(Buffer.from(`v${min}..${max}`, 'latin1'))]);
}

/** `startApi`: version 2, the client id, no optional capabilities. */
export function startApi(clientId: number): Buffer {
  return twsMessage([Out.startApi, 2, clientId, '']);
}

export const REQ_CURRENT_TIME = twsMessage([Out.reqCurrentTime, 1]);

/** A frame's message id (the first field) without decoding the rest; NaN when it has none. */
export function messageId(frame: Buffer): number {
  let id = 0;
  let i = 4;
  for (; i < frame.length; i++) {
    const c = frame[i]!;
    if (c === 0) break;
    if (c < 48 || c > 57 || i > 12) return Number.NaN;
    id = id * 10 + (c - 48);
  }
  return i === 4 || i === frame.length ? Number.NaN : id;
}

/**
 * Reads one message's fields in order, straight from the frame's bytes (no split, no array).
 * Valid only while the frame is (the framing reuses its memory). Errors name the field.
 */
export class FieldReader {
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;

  /** Starts on a framed message (4-byte length, then fields). */
  reset(frame: Buffer): this {
    this.buf = frame;
    this.at = 4;
    return this;
  }

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  private end(what: string): number {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw new Error(`ib: message ends before field ${what}`);
    return end;
  }

  skip(n = 1): void {
    for (let k = 0; k < n; k++) this.at = this.end('(skipped)') + 1;
  }

  str(what: string): string {
    const end = this.end(what);
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }

  /** A decimal integer (optionally negative); empty is `empty`. */
  int(what: string, empty = 0): number {
    const end = this.end(what);
    const start = this.at;
    let i = start;
    this.at = end + 1;
    if (i === end) return empty;
    let neg = false;
    if (this.buf[i] === 45) {
      neg = true;
      i++;
    }
    let v = 0;
    if (end - i > 15 || i === end) throw this.bad(what, start, end);
    for (; i < end; i++) {
      const c = this.buf[i]! - 48;
      if (c < 0 || c > 9) throw this.bad(what, start, end);
      v = v * 10 + c;
    }
    return neg ? -v : v;
  }

  /** A decimal number; empty (and IB's "unset" Double.MAX_VALUE) is NaN. */
  num(what: string): number {
    const end = this.end(what);
    const start = this.at;
    this.at = end + 1;
    if (start === end) return Number.NaN;
    if (end - start > 40) throw this.bad(what, start, end);
    const v = Number(this.buf.toString('latin1', start, end));
    // Infinity, 1e999 and the like are not prices or sizes; only Double.MAX_VALUE means unset.
    if (!Number.isFinite(v)) throw this.bad(what, start, end);
    return v === Number.MAX_VALUE ? Number.NaN : v;
  }

  private bad(what: string, start: number, end: number): Error {
    const preview = this.buf.toString('utf8', start, Math.min(end, start + 24));
    return new Error(`ib: field ${what} is not a finite number: ${JSON.stringify(preview)}`);
  }
}
