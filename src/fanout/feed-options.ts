import { RingfeedError } from '../engine/errors.js';
import { checkObject, describe } from '../engine/options.js';
import { checkPrefix, checkServers, checkStreamName, fanoutInt } from './fanout-options.js';
import { DEFAULT_SUBJECT_PREFIX } from './subjects.js';

/** Where a feed starts: `new` (live only), `all` (the whole stream), or a JetStream stream sequence. */
export type FeedStart = 'new' | 'all' | number;

/**
 * `jetstream`: one ordered JetStream consumer per subject filter (replay, resume, no loss).
 * `core`: plain NATS subscriptions, live only, lowest latency; what it misses (a server restart,
 * a slow connection) is counted as gaps and written as status records, never hidden.
 */
export type FeedMode = 'jetstream' | 'core';

export interface FeedOptions {
  readonly servers: string | readonly string[];
  /** Subject filters (NATS wildcards allowed), e.g. `ringfeed.binance.trade.>`. Default `<prefix>.>`. */
  readonly subjects?: string | readonly string[];
  /** JetStream stream name. Default `RINGFEED`. */
  readonly stream?: string;
  /** Subject prefix the publisher used (for the default filter). Default `ringfeed`. */
  readonly prefix?: string;
  /** Default `new`. A `core` feed is live only: `new`. */
  readonly from?: FeedStart;
  /** Default `jetstream`. */
  readonly mode?: FeedMode;
  /** Wait between reconnect attempts to the same NATS server, ms. Default 250. */
  readonly reconnectWaitMs?: number;
  /** Local ring size, bytes (a power of two). Default 4 MiB. */
  readonly ringBytes?: number;
  /** Messages left in the stream past which a subscription is `behind` (too slow for the rate). Default 10 000. */
  readonly behindMessages?: number;
  /** Records the async iterator buffers before the feed stops reading. Default 10 000. */
  readonly iteratorHighWaterMark?: number;
}

export interface ResolvedFeedOptions {
  readonly servers: string[];
  readonly subjects: string[];
  readonly stream: string;
  readonly prefix: string;
  readonly from: FeedStart;
  readonly mode: FeedMode;
  readonly reconnectWaitMs: number;
  readonly ringBytes: number;
  readonly behindMessages: number;
  readonly iteratorHighWaterMark: number;
}

const FEED_KEYS = [
  'servers',
  'subjects',
  'stream',
  'prefix',
  'from',
  'mode',
  'reconnectWaitMs',
  'ringBytes',
  'behindMessages',
  'iteratorHighWaterMark',
] as const;

function checkSubjects(value: unknown, option: string): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (list === undefined || list.length === 0) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} must be a subject or a non-empty array of them; got ${describe(value)}`);
  }
  for (const s of list) {
    if (typeof s !== 'string' || !/^[^\s.]+(?:\.[^\s.]+)*$/.test(s) || /(?:^|\.)>\./.test(s)) {
      throw new RingfeedError('ERR_BAD_OPTION', `${option}: ${describe(s)} is not a NATS subject filter`);
    }
  }
  return [...new Set(list as string[])];
}

export function resolveFeedOptions(input: unknown): ResolvedFeedOptions {
  if (input === undefined) throw new RingfeedError('ERR_BAD_OPTION', 'connectFeed needs { servers }');
  const o = checkObject(input, 'connectFeed', FEED_KEYS);
  const prefix = o.prefix === undefined ? DEFAULT_SUBJECT_PREFIX : checkPrefix(o.prefix, 'connectFeed.prefix');
  const from = o.from ?? 'new';
  if (from !== 'new' && from !== 'all') fanoutInt(from, 'connectFeed.from', 1);
  const mode = o.mode ?? 'jetstream';
  if (mode !== 'jetstream' && mode !== 'core') {
    throw new RingfeedError('ERR_BAD_OPTION', `connectFeed.mode must be "jetstream" or "core"; got ${describe(mode)}`);
  }
  if (mode === 'core' && from !== 'new') {
    throw new RingfeedError('ERR_BAD_OPTION', `connectFeed.from must be "new" with mode "core" (core NATS keeps no history); got ${describe(from)}`);
  }
  const ringBytes = o.ringBytes === undefined ? 4 << 20 : fanoutInt(o.ringBytes, 'connectFeed.ringBytes', 4096, 2 ** 30);
  if ((ringBytes & (ringBytes - 1)) !== 0) throw new RingfeedError('ERR_BAD_OPTION', `connectFeed.ringBytes must be a power of two; got ${ringBytes}`);
  return {
    servers: checkServers(o.servers, 'connectFeed.servers'),
    subjects: o.subjects === undefined ? [`${prefix}.>`] : checkSubjects(o.subjects, 'connectFeed.subjects'),
    stream: o.stream === undefined ? 'RINGFEED' : checkStreamName(o.stream, 'connectFeed.stream'),
    prefix,
    from: from as FeedStart,
    mode,
    reconnectWaitMs: o.reconnectWaitMs === undefined ? 250 : fanoutInt(o.reconnectWaitMs, 'connectFeed.reconnectWaitMs', 10, 60_000),
    ringBytes,
    behindMessages: o.behindMessages === undefined ? 10_000 : fanoutInt(o.behindMessages, 'connectFeed.behindMessages', 1),
    iteratorHighWaterMark: o.iteratorHighWaterMark === undefined ? 10_000 : fanoutInt(o.iteratorHighWaterMark, 'connectFeed.iteratorHighWaterMark', 1),
  };
}
