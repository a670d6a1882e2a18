/** Small readers shared by the venue sessions that walk `JSON.parse` output. */

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decimal string or JSON number → finite number; NaN for anything else ("", "Infinity", 1e999,
 * objects…), so a non-finite value is never written as a price, amount or time.
 */
export function dec(v: unknown): number {
  const x = typeof v === 'number' ? v : typeof v === 'string' && v.length > 0 ? +v : Number.NaN;
  return Number.isFinite(x) ? x : Number.NaN;
}

/** The start of a frame, for error messages and logs. */
export function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
