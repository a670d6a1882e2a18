/**
 * The venue's published instrument list (`VenueAdapter.listedSymbols`), consulted before streams
 * reach the socket. Verdicts are kept for the task's life, so each native symbol is asked about
 * once. When the list cannot be had every stream passes (logged): the check must never be what
 * stops a feed.
 */
import type { AdapterLog, InstrumentListContext, StreamSpec, VenueAdapter } from '../venues/contract.js';

export class InstrumentCheck {
  private readonly listed = new Set<string>();
  private readonly unlisted = new Set<string>();
  /** The venue's answer covered every instrument it has: a native not in `listed` is unlisted. */
  private complete = false;

  constructor(
    private readonly adapter: VenueAdapter,
    private readonly rest: InstrumentListContext,
    private readonly log: AdapterLog,
  ) {}

  /** The streams whose symbol the venue does not list, by native symbol (empty: all pass). */
  async unlistedOf(streams: readonly StreamSpec[]): Promise<Map<string, StreamSpec[]>> {
    const refused = new Map<string, StreamSpec[]>();
    const lister = this.adapter.listedSymbols;
    if (lister === undefined) return refused;
    const undecided = this.complete
      ? []
      : [...new Set(streams.map((s) => s.native).filter((n) => !this.listed.has(n) && !this.unlisted.has(n)))];
    if (undecided.length > 0) {
      try {
        const answer = await lister.call(this.adapter, undecided, this.rest);
        for (const n of answer.listed) this.listed.add(n);
        for (const n of undecided) if (!answer.listed.has(n)) this.unlisted.add(n);
        if (answer.complete) this.complete = true;
      } catch (err) {
        this.log.warn('instrument list unavailable; subscribing without checking symbols', {
          problem: (err as Error).message,
          symbols: undecided,
        });
        return refused;
      }
    }
    for (const s of streams) {
      if (this.listed.has(s.native)) continue;
      if (!this.unlisted.has(s.native) && !this.complete) continue;
      refused.set(s.native, [...(refused.get(s.native) ?? []), s]);
    }
    return refused;
  }
}
