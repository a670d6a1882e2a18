/**
 * Book levels and sizes as venues send them, checked and written into reusable scratch arrays.
 *
 * Invariants:
 *  - A level written to a scratch array has a finite price > 0 and a finite amount >= 0; anything
 *    else throws a plain Error. (Trade prices and amounts: `FieldReader.size` in fields.ts.)
 *  - One wording for every venue: `<venue>: <kind> <symbol>: <bids|asks> level <i> <problem>:
 *    <value>`, the value as a bounded preview (`previewValue`), so a hostile frame cannot make
 *    the message huge.
 *  - The message is only built when a value is refused: the accepted path allocates nothing
 *    (scratch arrays grow by doubling and are kept).
 *  - A parse fills the scratch of one side from index 0 and returns the level count; the caller
 *    reads `scratch.bids` / `scratch.asks` after the parse (growth replaces the array).
 */

import { dec, isObj, previewValue } from './json-fields.js';

export const BIDS = 0;
export const ASKS = 1;
export type BookSide = typeof BIDS | typeof ASKS;
const SIDE_NAME = ['bids', 'asks'] as const;
const LEVEL_OF_SIDE = ['bids level', 'asks level'] as const;

/** Flat `[price0, amount0, price1, amount1, …]` arrays, one per side, reused frame after frame. */
export class LevelScratch {
  bids = new Float64Array(256);
  asks = new Float64Array(256);

  /** The side's array with room for `levels` levels (contents are not kept when it grows). */
  room(side: BookSide, levels: number): Float64Array {
    const out = side === BIDS ? this.bids : this.asks;
    if (out.length >= 2 * levels) return out;
    let cap = out.length;
    while (cap < 2 * levels) cap *= 2;
    const grown = new Float64Array(cap);
    if (side === BIDS) this.bids = grown;
    else this.asks = grown;
    return grown;
  }
}

/** Throws unless `price` > 0 and `amount` >= 0 (both finite: NaN stands for "not a number"). */
export function checkLevel(
  venue: string,
  kind: string,
  symbol: string,
  what: string,
  i: number,
  raw: unknown,
  price: number,
  amount: number,
): void {
  if (price > 0 && amount >= 0) return;
  const problem = Number.isNaN(price)
    ? 'has a price that is not a finite number'
    : !(price > 0)
      ? 'has a price that is not positive'
      : Number.isNaN(amount)
        ? 'has an amount that is not a finite number'
        : 'has a negative amount';
  throw new Error(`${venue}: ${kind} ${symbol}: ${what} ${i} ${problem}: ${previewValue(raw)}`);
}

function shapeError(venue: string, kind: string, symbol: string, side: BookSide, i: number, shape: string, raw: unknown): Error {
  return new Error(`${venue}: ${kind} ${symbol}: ${SIDE_NAME[side]} level ${i} is not ${shape}: ${previewValue(raw)}`);
}

/**
 * `[[price, amount, …], …]` (decimal strings or numbers; extra elements ignored; `strings`: both
 * must be strings, e.g. when the checksum is built from them) into one side of `scratch`.
 * `room` ≥ levels.length reserves space for levels the caller appends. Returns the count.
 */
export function parsePairLevels(
  venue: string,
  kind: string,
  symbol: string,
  side: BookSide,
  levels: readonly unknown[],
  scratch: LevelScratch,
  strings = false,
  room = levels.length,
): number {
  const n = levels.length;
  const out = scratch.room(side, room);
  for (let i = 0; i < n; i++) {
    const lv = levels[i];
    if (!Array.isArray(lv) || lv.length < 2 || (strings && (typeof lv[0] !== 'string' || typeof lv[1] !== 'string'))) {
      throw shapeError(venue, kind, symbol, side, i, strings ? '[price, amount] strings' : '[price, amount]', lv);
    }
    const p = dec(lv[0]);
    const q = dec(lv[1]);
    checkLevel(venue, kind, symbol, LEVEL_OF_SIDE[side], i, lv, p, q);
    out[2 * i] = p;
    out[2 * i + 1] = q;
  }
  return n;
}

/** `[{<priceKey>, <amountKey>}, …]` into one side of `scratch`; as `parsePairLevels`. */
export function parseObjectLevels(
  venue: string,
  kind: string,
  symbol: string,
  side: BookSide,
  levels: readonly unknown[],
  scratch: LevelScratch,
  priceKey: string,
  amountKey: string,
  room = levels.length,
): number {
  const n = levels.length;
  const out = scratch.room(side, room);
  for (let i = 0; i < n; i++) {
    const lv = levels[i];
    if (!isObj(lv)) throw shapeError(venue, kind, symbol, side, i, `{${priceKey}, ${amountKey}}`, lv);
    const p = dec(lv[priceKey]);
    const q = dec(lv[amountKey]);
    checkLevel(venue, kind, symbol, LEVEL_OF_SIDE[side], i, lv, p, q);
    out[2 * i] = p;
    out[2 * i + 1] = q;
  }
  return n;
}
