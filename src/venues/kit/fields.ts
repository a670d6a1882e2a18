/**
 * Numbers read out of `JSON.parse` objects, with one wording for every venue:
 * `<subject>: field "<key>" <problem>, got <value>`, the value as a bounded preview. The session
 * says what the subject is (`okx: malformed trades frame for BTC-USDT` …) by a function that is
 * only called when a field is refused, so the accepted path builds no string.
 *
 * Invariants: `decimal` returns a finite number (a decimal string or a JSON number); `integer`
 * an integer JSON number; `finite` a finite JSON number; `size` a finite decimal >= 0 (a price
 * or an amount). Anything else throws a plain Error.
 */

import { dec, type Obj, previewValue } from './json-fields.js';

export class FieldReader<C> {
  constructor(private readonly subject: (c: C, d: Obj) => string) {}

  error(c: C, d: Obj, key: string, what: string): Error {
    return new Error(`${this.subject(c, d)}: field "${key}" ${what}, got ${previewValue(d[key])}`);
  }

  decimal(c: C, d: Obj, key: string): number {
    const v = dec(d[key]);
    if (Number.isNaN(v)) throw this.error(c, d, key, 'is not a finite decimal number');
    return v;
  }

  integer(c: C, d: Obj, key: string): number {
    const v = d[key];
    // A non-integer id (e.g. 1e999 → Infinity) would become a dedupe mark and mute the stream.
    if (typeof v !== 'number' || !Number.isInteger(v)) throw this.error(c, d, key, 'is not an integer');
    return v;
  }

  finite(c: C, d: Obj, key: string): number {
    const v = d[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.error(c, d, key, 'is not a finite number');
    return v;
  }

  /** A price or an amount: a finite decimal, not negative. */
  size(c: C, d: Obj, key: string): number {
    const v = this.decimal(c, d, key);
    if (v < 0) throw this.error(c, d, key, 'is negative');
    return v;
  }
}
