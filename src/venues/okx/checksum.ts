/**
 * OKX v5 order-book checksum (channels `books`, `books-l2-tbt`, `books50-l2-tbt`).
 *
 * The text is the top 25 levels of each side, interleaved best-first as
 * `bidPx:bidSz:askPx:askSz:bidPx:bidSz:…`; when one side has fewer levels the other simply
 * continues (`…:askPx:askSz:askPx:askSz`). Prices and sizes are the venue's original strings
 * (`"0.10"` is not `"0.1"`), so they must be kept as received. The value is the CRC32 of that
 * text as a signed 32-bit integer.
 *
 * Since 2026-06-23 OKX sends `checksum: 0` on every frame (deprecated in favour of
 * seqId/prevSeqId); a 0 is therefore treated as "no checksum".
 */

import { crc32 } from 'node:zlib';

export const OKX_CHECKSUM_LEVELS = 25;

/**
 * Checksum over flat best-first string arrays `[px0, sz0, px1, sz1, …]`; only the first
 * `min(count, 25)` levels of each side are used.
 */
export function okxChecksum(
  bids: ArrayLike<string>,
  bidCount: number,
  asks: ArrayLike<string>,
  askCount: number,
): number {
  const nb = Math.min(bidCount, OKX_CHECKSUM_LEVELS);
  const na = Math.min(askCount, OKX_CHECKSUM_LEVELS);
  const n = Math.max(nb, na);
  let text = '';
  for (let i = 0; i < n; i++) {
    if (i < nb) text += text.length === 0 ? `${bids[2 * i]}:${bids[2 * i + 1]}` : `:${bids[2 * i]}:${bids[2 * i + 1]}`;
    if (i < na) text += text.length === 0 ? `${asks[2 * i]}:${asks[2 * i + 1]}` : `:${asks[2 * i]}:${asks[2 * i + 1]}`;
  }
  return crc32(text) | 0;
}
