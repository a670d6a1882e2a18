/**
 * Where new streams go: onto open connections of the same venue, policy and connection key that
 * have room, in order, then onto as few new connections as the per-connection limit allows.
 * A pure plan; the engine carries it out.
 */
import type { StreamSpec } from '../venues/contract.js';

/** An open connection that may take streams. */
export interface PlacementSlot<C> {
  readonly connection: C;
  /** Its connection key (streams with different keys never share a socket). */
  readonly key: string;
  /** Streams it can still take. */
  readonly room: number;
}

export interface PlacementPlan<C> {
  /** Streams to add to open connections. */
  readonly onOpen: ReadonlyMap<C, StreamSpec[]>;
  /** Connections to open, each with its key and streams. */
  readonly toOpen: readonly { readonly key: string; readonly streams: StreamSpec[] }[];
}

export function planPlacement<C>(
  streams: readonly StreamSpec[],
  open: readonly PlacementSlot<C>[],
  keyOf: (s: StreamSpec) => string,
  maxPerConnection: number,
): PlacementPlan<C> {
  const onOpen = new Map<C, StreamSpec[]>();
  const toOpen: { key: string; streams: StreamSpec[] }[] = [];
  for (const key of new Set(streams.map(keyOf))) {
    let group = streams.filter((s) => keyOf(s) === key);
    for (const slot of open) {
      if (group.length === 0) break;
      if (slot.key !== key || slot.room <= 0) continue;
      onOpen.set(slot.connection, group.slice(0, slot.room));
      group = group.slice(slot.room);
    }
    while (group.length > 0) {
      toOpen.push({ key, streams: group.slice(0, maxPerConnection) });
      group = group.slice(maxPerConnection);
    }
  }
  return { onOpen, toOpen };
}

/** The same stream (channel, symbol, interval) is already carried by one of `carried`. */
export function isCarried(carried: readonly StreamSpec[], s: StreamSpec): boolean {
  return carried.some((t) => t.channel === s.channel && t.symbolId === s.symbolId && t.interval === s.interval);
}
