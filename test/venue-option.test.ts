/**
 * Regression: unknown venue ids in `venues` are refused (found by the reliability suite).
 * `venues: { <id>: … }` with an id no adapter has is accepted silently, so a typo such as
 * `binnace` leaves the real venue on its default (production) endpoints without a word.
 */
import { expect, it } from 'vitest';
import { resolveOptions } from '../src/engine/options.js';

it('rejects endpoint overrides for an unknown venue id, naming it', () => {
  expect(() => resolveOptions({ venues: { binnace: { wsUrl: 'ws://127.0.0.1:1' } } })).toThrow(
    expect.objectContaining({ code: 'ERR_BAD_OPTION', message: expect.stringContaining('venues.binnace') }),
  );
});
