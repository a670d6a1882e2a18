/**
 * Schema-specific scanner for Binance combined-stream frames carrying flat payloads
 * (`trade`, `aggTrade`, `bookTicker`, `depthUpdate`, spot and USD-M):
 *
 *   {"stream":"<name>","data":{"<key>":<value>,…}}
 *
 * It reads the frame in one pass without `JSON.parse` and without allocating: the stream name is
 * reported as a region plus a hash, decimal strings and numbers are converted in place
 * (`decimal.ts`), and `b` / `a` level arrays go into reusable Float64Array scratch buffers.
 *
 * It is deliberately strict and gives up (`scan` returns false) on anything irregular: whitespace
 * between tokens, any backslash, a different envelope key order, a nested object, an array under a
 * key other than `b`/`a`, a level that is not exactly `["<decimal>","<decimal>"]` with a
 * non-negative price and quantity, a decimal too long to be finite, a repeated key of interest, a
 * leading-zero number, an exponent, trailing bytes. The caller then uses `JSON.parse`, which also produces the error message for a broken
 * frame — so the scanner never decides that a frame is bad, only that it is not the easy case.
 *
 * Keys inside `data` may come in any order; what each one means is decided by the session from
 * the stream kind, exactly as on the `JSON.parse` path.
 */

import { type DecimalOut, readDecimal } from './decimal.js';

/** Value types recorded per key slot. */
export const T_ABSENT = 0;
/** A bare JSON number (`val` holds it). */
export const T_NUMBER = 1;
/** A string of the form `-?digits(.digits)?` (`val` holds its numeric value). */
export const T_DECIMAL = 2;
/** Any other string (`val` holds the index of its first character in the text). */
export const T_STRING = 3;
export const T_TRUE = 4;
export const T_FALSE = 5;
export const T_NULL = 6;
/** A level array (only under `b` and `a`; levels are in `bids` / `asks`). */
export const T_LEVELS = 7;

/** Key slots. */
export const S_E = 0; // E event time
export const S_T = 1; // T trade / transaction time
export const S_t = 2; // t trade id
export const S_a = 3; // a agg id | ask price | ask levels
export const S_p = 4; // p price
export const S_q = 5; // q quantity
export const S_m = 6; // m buyer is maker
export const S_b = 7; // b bid price | bid levels
export const S_B = 8; // B bid qty
export const S_A = 9; // A ask qty
export const S_U = 10; // U first update id
export const S_u = 11; // u last update id
export const S_pu = 12; // pu previous u (USD-M)
export const S_X = 13; // X trade kind (USD-M: MARKET, INSURANCE_FUND, ADL, NA)
const SLOTS = 14;

const KEY_SLOT = new Int8Array(128).fill(-1);
KEY_SLOT[69] = S_E; // E
KEY_SLOT[84] = S_T; // T
KEY_SLOT[116] = S_t; // t
KEY_SLOT[97] = S_a; // a
KEY_SLOT[112] = S_p; // p
KEY_SLOT[113] = S_q; // q
KEY_SLOT[109] = S_m; // m
KEY_SLOT[98] = S_b; // b
KEY_SLOT[66] = S_B; // B
KEY_SLOT[65] = S_A; // A
KEY_SLOT[85] = S_U; // U
KEY_SLOT[117] = S_u; // u
KEY_SLOT[88] = S_X; // X

const PREFIX = '{"stream":"';
const DATA = '","data":{';

const Q = 34; // "
const COMMA = 44;
const COLON = 58;
const RBRACE = 125;
const LBRACK = 91;
const RBRACK = 93;

/** FNV-1a over a string region (also used by the session to index its stream names). */
export function hashRegion(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class BinanceScanner {
  streamStart = 0;
  streamEnd = 0;
  streamHash = 0;
  /** Per-slot value type (`T_*`). */
  readonly type = new Uint8Array(SLOTS);
  /** Per-slot numeric value (for T_NUMBER / T_DECIMAL). */
  readonly val = new Float64Array(SLOTS);
  /** Flat [price, qty, …] for `b` / `a` level arrays; only the first `bidCount` / `askCount` pairs count. */
  bids = new Float64Array(256);
  asks = new Float64Array(256);
  bidCount = 0;
  askCount = 0;
  private readonly num: DecimalOut = { value: 0, end: 0 };

  /** Scan one frame; true when it is a well-formed combined-stream frame with a flat payload. */
  scan(text: string): boolean {
    if (!text.startsWith(PREFIX)) return false;
    // One native pass rules out escapes everywhere, so strings below end at the next quote.
    if (text.indexOf('\\') !== -1) return false;
    const n = text.length;
    let i = PREFIX.length;
    const streamStart = i;
    let h = 0x811c9dc5;
    for (;;) {
      if (i >= n) return false;
      const c = text.charCodeAt(i);
      if (c === Q) break;
      h = Math.imul(h ^ c, 0x01000193);
      i++;
    }
    if (i === streamStart) return false;
    this.streamStart = streamStart;
    this.streamEnd = i;
    this.streamHash = h >>> 0;
    if (!text.startsWith(DATA, i)) return false;
    i += DATA.length;
    this.type.fill(T_ABSENT);
    this.bidCount = 0;
    this.askCount = 0;
    if (text.charCodeAt(i) === RBRACE) {
      i++;
    } else {
      for (;;) {
        // key
        if (text.charCodeAt(i) !== Q) return false;
        const ks = ++i;
        i = text.indexOf('"', i);
        if (i < 0) return false;
        const klen = i - ks;
        let slot = -1;
        if (klen === 1) {
          const c = text.charCodeAt(ks);
          slot = c < 128 ? KEY_SLOT[c] : -1;
        } else if (klen === 2 && text.charCodeAt(ks) === 112 && text.charCodeAt(ks + 1) === 117) {
          slot = S_pu;
        }
        i++;
        if (text.charCodeAt(i) !== COLON) return false;
        i++;
        i = this.value(text, i, slot);
        if (i < 0) return false;
        const c = text.charCodeAt(i);
        if (c === COMMA) {
          i++;
          continue;
        }
        if (c === RBRACE) {
          i++;
          break;
        }
        return false;
      }
    }
    return i === n - 1 && text.charCodeAt(i) === RBRACE;
  }

  /** Read one value at `i` into `slot` (-1: not of interest); returns the index after it, or -1. */
  private value(text: string, i: number, slot: number): number {
    if (slot >= 0 && this.type[slot] !== T_ABSENT) return -1; // repeated key: JSON.parse keeps the last
    const c = text.charCodeAt(i);
    if (c === Q) {
      const s = i + 1;
      const j = text.indexOf('"', s);
      if (j < 0) return -1;
      if (slot >= 0) {
        const out = this.num;
        if (j > s && readDecimal(text, s, out, true) && out.end === j) {
          this.type[slot] = T_DECIMAL;
          this.val[slot] = out.value;
        } else {
          this.type[slot] = T_STRING;
          this.val[slot] = s;
        }
      }
      return j + 1;
    }
    if (c === LBRACK) {
      if (slot === S_b) return this.levels(text, i, true);
      if (slot === S_a) return this.levels(text, i, false);
      return -1;
    }
    if (c === 116 /* t */) {
      if (!text.startsWith('true', i)) return -1;
      if (slot >= 0) this.type[slot] = T_TRUE;
      return i + 4;
    }
    if (c === 102 /* f */) {
      if (!text.startsWith('false', i)) return -1;
      if (slot >= 0) this.type[slot] = T_FALSE;
      return i + 5;
    }
    if (c === 110 /* n */) {
      if (!text.startsWith('null', i)) return -1;
      if (slot >= 0) this.type[slot] = T_NULL;
      return i + 4;
    }
    const out = this.num;
    if (!readDecimal(text, i, out, false)) return -1;
    // Every bare number Binance sends is an id or a time; anything else takes the checked path.
    if (!Number.isInteger(out.value)) return -1;
    if (slot >= 0) {
      this.type[slot] = T_NUMBER;
      this.val[slot] = out.value;
    }
    return out.end;
  }

  /** `[["p","q"],…]` into the bid or ask scratch array; returns the index after `]`, or -1. */
  private levels(text: string, i: number, bid: boolean): number {
    const slot = bid ? S_b : S_a;
    let buf = bid ? this.bids : this.asks;
    let count = 0;
    const out = this.num;
    i++; // [
    if (text.charCodeAt(i) === RBRACK) {
      i++;
    } else {
      for (;;) {
        if (text.charCodeAt(i) !== LBRACK || text.charCodeAt(i + 1) !== Q) return -1;
        i += 2;
        if (text.charCodeAt(i) === 45 /* - */) return -1; // negative price: let JSON.parse path report it
        if (!readDecimal(text, i, out, true) || text.charCodeAt(out.end) !== Q) return -1;
        const price = out.value;
        i = out.end + 1;
        if (text.charCodeAt(i) !== COMMA || text.charCodeAt(i + 1) !== Q) return -1;
        i += 2;
        if (text.charCodeAt(i) === 45 /* - */) return -1; // negative qty: let JSON.parse path report it
        if (!readDecimal(text, i, out, true) || text.charCodeAt(out.end) !== Q) return -1;
        i = out.end + 1;
        if (text.charCodeAt(i) !== RBRACK) return -1;
        i++;
        if (2 * count + 2 > buf.length) {
          const bigger = new Float64Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
          if (bid) this.bids = buf;
          else this.asks = buf;
        }
        buf[2 * count] = price;
        buf[2 * count + 1] = out.value;
        count++;
        const c = text.charCodeAt(i);
        if (c === COMMA) {
          i++;
          continue;
        }
        if (c === RBRACK) {
          i++;
          break;
        }
        return -1;
      }
    }
    this.type[slot] = T_LEVELS;
    if (bid) this.bidCount = count;
    else this.askCount = count;
    return i;
  }
}
