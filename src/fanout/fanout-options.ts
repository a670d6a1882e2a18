import { RingfeedError } from '../engine/errors.js';
import { checkObject, describe } from '../engine/options.js';
import { checkSubjectPrefix, DEFAULT_SUBJECT_PREFIX } from './subjects.js';

export interface PublishOptions {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** JetStream stream name. Default `RINGFEED`. */
  readonly stream?: string;
  /** First subject token(s). Default `ringfeed`. */
  readonly prefix?: string;
  /** Stream retention: max age, ms. Default 1 h. */
  readonly maxAgeMs?: number;
  /** Stream retention: max bytes. Default 1 GiB. */
  readonly maxBytes?: number;
  /** JetStream de-duplication window, ms. Default 2 min. */
  readonly duplicateWindowMs?: number;
  /** Records per NATS message at most. Default 64. */
  readonly maxBatchRecords?: number;
  /** A subject's pending records are sent after at most this long, ms. Default 1. */
  readonly flushIntervalMs?: number;
  /** Publishes awaiting their JetStream ack. Default 256. */
  readonly maxInFlight?: number;
  /** Batches kept while NATS is unreachable, bytes; beyond it new batches are dropped and counted. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** Publisher id in every batch and message id (default random). Use one per publishing process. */
  readonly publisherId?: number;
  /**
   * Every this many ms, each synced book is published whole to the snapshot stream
   * (`<stream>_SNAP`, last one per book kept) so a feed joining late syncs at once. 0 = off. Default 1000.
   */
  readonly bookSnapshotIntervalMs?: number;
}

export interface ResolvedPublishOptions {
  readonly servers: string[];
  readonly stream: string;
  readonly prefix: string;
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  readonly duplicateWindowMs: number;
  readonly maxBatchRecords: number;
  readonly flushIntervalMs: number;
  readonly maxInFlight: number;
  readonly maxBufferedBytes: number;
  readonly publisherId: number;
  readonly bookSnapshotIntervalMs: number;
}

const PUBLISH_KEYS = [
  'servers',
  'stream',
  'prefix',
  'maxAgeMs',
  'maxBytes',
  'duplicateWindowMs',
  'maxBatchRecords',
  'flushIntervalMs',
  'maxInFlight',
  'maxBufferedBytes',
  'publisherId',
  'bookSnapshotIntervalMs',
] as const;

/** Shortest snapshot interval: below it the snapshots would cost more than the deltas they save. */
export const MIN_BOOK_SNAPSHOT_INTERVAL_MS = 100;

/** Name of the stream that keeps the last snapshot of each book, next to the stream `stream`. */
export function snapshotStreamName(stream: string): string {
  return `${stream}_SNAP`;
}

function checkSnapshotInterval(value: unknown, option: string): number {
  if (value === 0) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_BOOK_SNAPSHOT_INTERVAL_MS || value > 3_600_000) {
    throw new RingfeedError(
      'ERR_BAD_OPTION',
      `${option} must be 0 (off) or an integer from ${MIN_BOOK_SNAPSHOT_INTERVAL_MS} to 3600000 (ms); got ${describe(value)}`,
    );
  }
  return value;
}

export function fanoutInt(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} must be an integer from ${min} to ${max}; got ${describe(value)}`);
  }
  return value;
}

export function checkServers(value: unknown, option: string): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (list === undefined || list.length === 0) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} must be a NATS URL or a non-empty array of them; got ${describe(value)}`);
  }
  return list.map((s, i) => {
    const where = Array.isArray(value) ? `${option}[${i}]` : option;
    let url: URL;
    try {
      url = new URL(String(s));
    } catch {
      throw new RingfeedError('ERR_BAD_OPTION', `${where} is not a valid URL: ${describe(s)}`);
    }
    if (url.protocol !== 'nats:' && url.protocol !== 'tls:') {
      throw new RingfeedError('ERR_BAD_OPTION', `${where} must use nats: or tls:; got ${url.protocol}`);
    }
    return String(s);
  });
}

export function checkStreamName(value: unknown, option: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new RingfeedError('ERR_BAD_OPTION', `${option} must be 1-64 letters, digits, _ or -; got ${describe(value)}`);
  }
  return value;
}

export function checkPrefix(value: unknown, option: string): string {
  try {
    return checkSubjectPrefix(value as string, option);
  } catch (err) {
    throw new RingfeedError('ERR_BAD_OPTION', (err as Error).message);
  }
}

export function resolvePublishOptions(input: unknown, path = 'publish'): ResolvedPublishOptions {
  const o = checkObject(input, path, PUBLISH_KEYS);
  if (input === undefined) throw new RingfeedError('ERR_BAD_OPTION', `${path} needs { servers }`);
  return {
    servers: checkServers(o.servers, `${path}.servers`),
    stream: o.stream === undefined ? 'RINGFEED' : checkStreamName(o.stream, `${path}.stream`),
    prefix: o.prefix === undefined ? DEFAULT_SUBJECT_PREFIX : checkPrefix(o.prefix, `${path}.prefix`),
    maxAgeMs: o.maxAgeMs === undefined ? 3_600_000 : fanoutInt(o.maxAgeMs, `${path}.maxAgeMs`, 1000),
    maxBytes: o.maxBytes === undefined ? 2 ** 30 : fanoutInt(o.maxBytes, `${path}.maxBytes`, 1 << 20),
    duplicateWindowMs: o.duplicateWindowMs === undefined ? 120_000 : fanoutInt(o.duplicateWindowMs, `${path}.duplicateWindowMs`, 100),
    maxBatchRecords: o.maxBatchRecords === undefined ? 64 : fanoutInt(o.maxBatchRecords, `${path}.maxBatchRecords`, 1, 0xffff),
    flushIntervalMs: o.flushIntervalMs === undefined ? 1 : fanoutInt(o.flushIntervalMs, `${path}.flushIntervalMs`, 0, 10_000),
    maxInFlight: o.maxInFlight === undefined ? 256 : fanoutInt(o.maxInFlight, `${path}.maxInFlight`, 1, 65_536),
    maxBufferedBytes: o.maxBufferedBytes === undefined ? 64 << 20 : fanoutInt(o.maxBufferedBytes, `${path}.maxBufferedBytes`, 1 << 16),
    publisherId:
      o.publisherId === undefined ? (Math.random() * 0xffffffff) >>> 0 : fanoutInt(o.publisherId, `${path}.publisherId`, 0, 0xffffffff),
    bookSnapshotIntervalMs: o.bookSnapshotIntervalMs === undefined ? 1000 : checkSnapshotInterval(o.bookSnapshotIntervalMs, `${path}.bookSnapshotIntervalMs`),
  };
}
