/** A session's reusable ticker record: every field NaN until the venue's frame sets it. */

import type { TickerFields } from '../contract.js';

export function emptyTickerFields(): TickerFields {
  const nan = Number.NaN;
  return {
    last: nan,
    open: nan,
    high: nan,
    low: nan,
    baseVolume: nan,
    quoteVolume: nan,
    bidPrice: nan,
    askPrice: nan,
    markPrice: nan,
    indexPrice: nan,
    fundingRate: nan,
    nextFundingTs: nan,
  };
}
