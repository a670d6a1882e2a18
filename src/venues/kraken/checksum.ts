/**
 * Kraken WebSocket v2 book checksum (https://docs.kraken.com/api/docs/guides/spot-ws-book-v2):
 * CRC32 (unsigned) of the top 10 asks (price low → high) followed by the top 10 bids (high → low),
 * each level written as price then qty, both formatted at the pair's precision (from the
 * `instrument` channel) with the decimal point and leading zeros removed.
 *
 * "Formatted at precision p, '.' and leading zeros removed" is the decimal digits of the integer
 * round(value · 10^p), so the digits are fed into a table-driven CRC32 straight from numbers: no
 * string is built per message (zlib.crc32 would need one). Exact while value · 10^p stays well
 * below 2^53 (prices and quantities with up to ~15 significant digits); beyond that a level may
 * format differently from Kraken's decimal text and the check fails safe (a resync).
 */

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

const POW10: readonly number[] = Array.from({ length: 19 }, (_, i) => 10 ** i);
/** Digits of one integer, least significant first (a number has at most 22 digits here). */
const digits = new Uint8Array(24);

/** CRC state (pre-inverted) after feeding the decimal digits of round(value · 10^precision). */
function feed(crc: number, value: number, precision: number): number {
  let v = Math.round(value * POW10[precision]!);
  let n = 0;
  while (v >= 1 && n < digits.length) {
    const q = Math.floor(v / 10);
    digits[n++] = 48 + (v - q * 10);
    v = q;
  }
  for (let i = n - 1; i >= 0; i--) crc = TABLE[(crc ^ digits[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

/** Largest precision accepted (10^18 is still an exact double). */
export const MAX_PRECISION = POW10.length - 1;

/**
 * Checksum over flat best-first level arrays `[price, qty, …]` (as `OrderBook.top` writes them):
 * up to 10 asks, then up to 10 bids. Returns the unsigned CRC32.
 */
export function krakenBookChecksum(
  asks: ArrayLike<number>,
  askCount: number,
  bids: ArrayLike<number>,
  bidCount: number,
  pricePrecision: number,
  qtyPrecision: number,
): number {
  let crc = -1;
  const na = Math.min(10, askCount);
  for (let i = 0; i < na; i++) {
    crc = feed(crc, asks[2 * i]!, pricePrecision);
    crc = feed(crc, asks[2 * i + 1]!, qtyPrecision);
  }
  const nb = Math.min(10, bidCount);
  for (let i = 0; i < nb; i++) {
    crc = feed(crc, bids[2 * i]!, pricePrecision);
    crc = feed(crc, bids[2 * i + 1]!, qtyPrecision);
  }
  return (crc ^ -1) >>> 0;
}

/** Plain CRC32 of an ASCII string (for tests and tools; the hot path uses `krakenBookChecksum`). */
export function crc32Ascii(text: string): number {
  let crc = -1;
  for (let i = 0; i < text.length; i++) crc = TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
