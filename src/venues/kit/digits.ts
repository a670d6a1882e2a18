/** Fixed-width decimal digits inside a string (timestamps), read by char code: no allocation. */

/** The `n` digits of `s` from `from` as a number; NaN when any of them is not a digit. */
export function digitsAt(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}
