import type { RecordView } from '../records/view.js';

/**
 * The bytes of the record a view is bound to, without copying. RecordView keeps its typed
 * arrays private; this reads them (TypeScript `private` is not enforced at run time) rather than
 * re-encode every field. A public accessor on RecordView would replace this one function.
 */
export function recordBytes(view: RecordView): Uint8Array {
  const u8 = (view as unknown as { u8: Uint8Array }).u8;
  return u8.subarray(view.offset, view.offset + view.length);
}
