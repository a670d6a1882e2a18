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
  /** Data frames for streams (topics, products) this session does not know: ignored. */
  unknownStream: number;
}

/**
 * The base counters and a venue's `extra` ones, all zero. Typed so that a venue's stats
 * interface without one of its counters in `extra` does not compile.
 */
export function sessionStats<K extends string = never>(...extra: readonly K[]): SessionStats & Record<K, number> {
  const stats: Record<string, number> = { duplicates: 0, resyncs: 0, acks: 0, errorAcks: 0, unknownStream: 0 };
  for (const k of extra) stats[k] = 0;
  return stats as SessionStats & Record<K, number>;
}
