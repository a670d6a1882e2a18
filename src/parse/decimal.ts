/**
 * Allocation-free decimal reading from a region of a string, bit-identical to `Number(slice)` /
 * `JSON.parse` for the forms it accepts.
 *
 * Why it is exact: with at most 15 significant digits the mantissa m is an exact double, and
 * 10^k for k <= 22 is exact too; IEEE division is correctly rounded, so m / 10^k is the double
 * nearest the decimal, which is what `Number()` and `JSON.parse` return (Clinger's fast path).
 * Longer numbers take `Number(text.slice(…))` (allocates; rare on Binance).
 */

const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

/** Result of the last `readDecimal`: the value, and where the number ended. */
export interface DecimalOut {
  value: number;
  end: number;
}

/**
 * Read `-?[0-9]+(\.[0-9]+)?` starting at `i`. Returns false (and leaves `out` undefined) when the
 * text there is not of that form, or when its value is not finite (309+ integer digits).
 * `leadingZero`: when false, a JSON-illegal leading zero (`01`) is rejected. Does not look at what follows the number: the caller checks the delimiter.
 */
export function readDecimal(text: string, i: number, out: DecimalOut, leadingZero: boolean): boolean {
  const start = i;
  const n = text.length;
  let neg = false;
  if (i < n && text.charCodeAt(i) === 45 /* - */) {
    neg = true;
    i++;
  }
  const intStart = i;
  let m = 0;
  let sig = 0;
  while (i < n) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    if (m !== 0 || c !== 0) {
      m = m * 10 + c;
      sig++;
    }
    i++;
  }
  const intDigits = i - intStart;
  if (intDigits === 0) return false;
  if (!leadingZero && intDigits > 1 && text.charCodeAt(intStart) === 48) return false;
  let k = 0;
  if (i < n && text.charCodeAt(i) === 46 /* . */) {
    i++;
    const fracStart = i;
    while (i < n) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (m !== 0 || c !== 0) {
        m = m * 10 + c;
        sig++;
      }
      i++;
    }
    k = i - fracStart;
    if (k === 0) return false;
  }
  out.end = i;
  if (sig > 15 || k > 22) {
    // Over 308 integer digits is Infinity: not a number this reader accepts.
    out.value = Number(text.slice(start, i));
    return Number.isFinite(out.value);
  }
  const v = k === 0 ? m : m / POW10[k];
  out.value = neg ? -v : v;
  return true;
}
