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

/**
 * A venue value as it may appear in an error message: JSON, cut to a preview. A hostile value
 * can be megabytes long or nested too deep for `JSON.stringify` (RangeError); neither may make
 * the message huge or throw while the frame is being reported.
 */
export function previewValue(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? '[an array nested too deep to print]' : '[a value too deep to print]';
  }
  return text === undefined ? 'nothing' : preview(text);
}
