import {
  RecordType,
  type RecordTypeName,
  Side,
  type SideName,
  StatusCode,
  type StatusName,
} from './types.js';

function byCode<N extends string>(table: Readonly<Record<N, number>>, size: number): (N | undefined)[] {
  const out: (N | undefined)[] = new Array(size).fill(undefined);
  for (const name of Object.keys(table) as N[]) out[table[name]] = name;
  return out;
}

/** Record type byte → name (undefined for padding and unknown bytes). */
export const RECORD_TYPE_NAMES: readonly (RecordTypeName | undefined)[] = byCode(RecordType, 256);
/** Side bits (flags & 3) → name; 3 is not used and reads as 'unknown'. */
export const SIDE_NAMES: readonly SideName[] = ['unknown', 'buy', 'sell', 'unknown'].map(
  (_, i) => byCode(Side, 4)[i] ?? 'unknown',
);
const STATUS_NAME_TABLE = byCode(StatusCode, 256);

/** Status code → name, or undefined for a code not in StatusCode. */
export function statusName(code: number): StatusName | undefined {
  return code >= 0 && code < 256 ? STATUS_NAME_TABLE[code] : undefined;
}
