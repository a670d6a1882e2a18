/**
 * Channels as small integers for hot-path dispatch (`switch` on a number, bit sets of the
 * channels one venue topic carries). A channel's kind is its index in `CHANNELS`; a venue's own
 * kinds (OKX `books5`, `mark-price` …) start at `K_VENUE`.
 */
import { CHANNELS, type Channel } from '../contract.js';

export const K_TRADES = 0;
export const K_AGG_TRADES = 1;
export const K_QUOTES = 2;
export const K_TICKER = 3;
export const K_BOOK = 4;
export const K_CANDLES = 5;
export const K_FUNDING = 6;
/** The first kind free for a venue's own channels. */
export const K_VENUE = 7;

/** Each channel's kind. */
export const CHANNEL_KIND: Readonly<Record<Channel, number>> = Object.fromEntries(
  CHANNELS.map((c, i) => [c, i]),
) as Record<Channel, number>;

/** A channel's bit in a set of channels (`bits & channelBit('book')`). */
export function channelBit(channel: Channel): number {
  return 1 << CHANNEL_KIND[channel];
}

export const BIT_TICKER = 1 << K_TICKER;
export const BIT_QUOTES = 1 << K_QUOTES;
export const BIT_BOOK = 1 << K_BOOK;
