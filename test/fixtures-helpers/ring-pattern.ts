/** Deterministic record contents shared by the ring test and its worker producer. */
import type { RecordViews } from '../../src/ring/ring.js';

export type ProducerJob =
  | {
      kind: 'produce';
      id: number;
      ring: SharedArrayBuffer;
      doorbell: SharedArrayBuffer;
      sizes: number[];
      batches: number[];
      seed: number;
    }
  | { kind: 'wake'; id: number; ring: SharedArrayBuffer; doorbell: SharedArrayBuffer; seed: number };

export interface ProducerReply {
  id: number;
  ok: boolean;
  error?: string;
  waits: number;
}

function byteAt(index: number, j: number, seed: number): number {
  return (Math.imul(index, 131) + Math.imul(j, 7) + seed) & 0xff;
}

/** Type byte of record `index` (never 0, which is padding). */
function typeOf(index: number): number {
  return 1 + (index % 250);
}

/** Fill a reserved record: type at 4, index at 8, pattern bytes 5..7 and 12..size-1. */
export function fillPattern(v: RecordViews, off: number, index: number, size: number, seed: number): void {
  const u8 = v.u8;
  u8[off + 4] = typeOf(index);
  for (let j = 5; j < 8; j++) u8[off + j] = byteAt(index, j, seed);
  if (size >= 12) v.u32[(off + 8) >>> 2] = index;
  for (let j = 12; j < size; j++) u8[off + j] = byteAt(index, j, seed);
}

/** Check a record against its pattern; returns a description of the first mismatch or ''. */
export function checkPattern(v: RecordViews, off: number, index: number, size: number, seed: number): string {
  const u8 = v.u8;
  const len = v.u32[off >>> 2];
  if (len !== ((size + 7) & ~7)) return `record ${index}: length ${len}, expected ${(size + 7) & ~7}`;
  if (u8[off + 4] !== typeOf(index)) return `record ${index}: type ${u8[off + 4]}`;
  if (size >= 12 && v.u32[(off + 8) >>> 2] !== index) {
    return `record ${index}: found index ${v.u32[(off + 8) >>> 2]} (reordered or lost)`;
  }
  for (let j = 5; j < size; j++) {
    if (j >= 8 && j < 12) continue;
    if (u8[off + j] !== byteAt(index, j, seed)) return `record ${index}: byte ${j} corrupt`;
  }
  return '';
}
