/**
 * The counters every venue session keeps, under one name each; a venue's stats extend them with
 * what is particular to it (`unverified` checksums, `resubscribes` …).
 */
export interface SessionStats {
  /** Items dropped because they were already emitted (a second socket during a rotation …). */
  duplicates: number;
  /** Book desyncs (gaps, checksums, crossed books, rejected book frames), each resynced. */
  resyncs: number;
  /** Requests the venue acknowledged. */
  acks: number;
  /** Requests the venue refused. */
  errorAcks: number;
}

export function sessionStats(): SessionStats {
  return { duplicates: 0, resyncs: 0, acks: 0, errorAcks: 0 };
}
