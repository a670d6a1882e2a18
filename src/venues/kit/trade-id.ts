/**
 * A venue's trade id as a trade record carries it: an exact integer goes in `seq`; anything
 * else (a UUID, digits beyond 2^53) goes in `tradeId` as text, so that no id is ever rounded.
 *
 * Invariants: `tradeIdSeq(id)` is an integer ≤ Number.MAX_SAFE_INTEGER exactly equal to the
 * decimal `id`, or NaN; `tradeIdText(id)` is '' exactly when `tradeIdSeq(id)` is not NaN.
 */
import { MAX_TRADE_ID_LENGTH } from '../../records/layout.js';

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;
const PRINTABLE = new RegExp(`^[\\x21-\\x7e]{1,${MAX_TRADE_ID_LENGTH}}$`);

/** `id` as an exact integer, or NaN when it is not one. */
export function tradeIdSeq(id: string): number {
  if (!DECIMAL.test(id)) return Number.NaN;
  const n = Number(id);
  return n <= Number.MAX_SAFE_INTEGER ? n : Number.NaN;
}

/** `id` where it cannot be `seq`, else ''. */
export function tradeIdText(id: string): string {
  return Number.isNaN(tradeIdSeq(id)) ? id : '';
}

/** Whether a record can carry `id` (printable ASCII, 1 to 64 characters). */
export function isTradeId(id: unknown): id is string {
  return typeof id === 'string' && PRINTABLE.test(id);
}
