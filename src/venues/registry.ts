/** Venue registry: one line per venue adapter. */

import { binance } from './binance.js';
import type { VenueAdapter } from './types.js';

export const venues: Record<string, VenueAdapter> = {
  binance,
};

/** The adapter registered under `id`; throws an Error listing the known venues otherwise. */
export function getVenue(id: string): VenueAdapter {
  const v = Object.hasOwn(venues, id) ? venues[id] : undefined;
  if (v === undefined) {
    throw new Error(
      `unknown venue ${JSON.stringify(id)}; known venues: ${Object.keys(venues).join(', ')}`,
    );
  }
  return v;
}
