/** A session's reusable ticker record: every field NaN until the venue's frame sets it. */

import type { TickerFields } from '../contract.js';

export function emptyTickerFields(): TickerFields {
  return clearTickerFields({} as TickerFields);
}

/** Sets every field of `f` to NaN (a record that carries one or two of them); returns `f`. */
export function clearTickerFields(f: TickerFields): TickerFields {
  f.last = f.open = f.high = f.low = f.baseVolume = f.quoteVolume = Number.NaN;
  f.bidPrice = f.askPrice = f.markPrice = f.indexPrice = f.fundingRate = f.nextFundingTs = Number.NaN;
  return f;
}
