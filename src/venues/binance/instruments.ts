/**
 * Which symbols Binance lists, from `exchangeInfo`. Binance's WebSocket accepts a stream of a
 * symbol it does not have and simply never sends anything for it, so this is the only place an
 * unknown symbol can be told apart from a quiet one.
 *
 * Spot (`/api/v3/exchangeInfo`) is asked about the wanted symbols only (`symbols=[…]`, a small
 * answer instead of the multi-megabyte full list). Binance answers -1121 "Invalid symbol" for
 * the whole request when one of them does not exist; the symbols are then asked about one by
 * one. USD-M (`/fapi/v1/exchangeInfo`) takes no filter: the full list is read once.
 */

import type { InstrumentList, InstrumentListContext } from '../contract.js';
import { isObj } from '../kit/json-fields.js';

/** Binance's error code for a symbol it does not have. */
const INVALID_SYMBOL = -1121;

function symbolsOf(body: unknown, path: string): Set<string> {
  const list = isObj(body) ? body.symbols : undefined;
  if (!Array.isArray(list)) throw new Error(`${path}: no "symbols" array in the answer`);
  const out = new Set<string>();
  for (const entry of list) if (isObj(entry) && typeof entry.symbol === 'string') out.add(entry.symbol);
  return out;
}

/** fetch-json's error for an HTTP error carries the body: is it Binance's "invalid symbol"? */
function isInvalidSymbol(err: unknown): boolean {
  return err instanceof Error && /^HTTP 400 /.test(err.message) && err.message.includes(`"code":${INVALID_SYMBOL}`);
}

export async function spotListedSymbols(natives: readonly string[], rest: InstrumentListContext): Promise<InstrumentList> {
  const path = '/api/v3/exchangeInfo';
  const ask = (symbols: readonly string[]) =>
    rest.fetchJson(`${rest.restUrl}${path}?symbols=${encodeURIComponent(JSON.stringify(symbols))}&showPermissionSets=false`);
  try {
    return { listed: symbolsOf(await ask(natives), path), complete: false };
  } catch (err) {
    if (!isInvalidSymbol(err)) throw err;
    if (natives.length === 1) return { listed: new Set(), complete: false };
  }
  const listed = new Set<string>();
  for (const native of natives) {
    try {
      for (const s of symbolsOf(await ask([native]), path)) listed.add(s);
    } catch (err) {
      if (!isInvalidSymbol(err)) throw err;
    }
  }
  return { listed, complete: false };
}

export async function usdmListedSymbols(_natives: readonly string[], rest: InstrumentListContext): Promise<InstrumentList> {
  const path = '/fapi/v1/exchangeInfo';
  return { listed: symbolsOf(await rest.fetchJson(`${rest.restUrl}${path}`), path), complete: true };
}
