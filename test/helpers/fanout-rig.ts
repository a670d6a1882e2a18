/**
 * Publishers and feeds for fan-out tests, closed after each test (last made, first closed).
 * Call `fanoutRig()` at the top level of a test file.
 */
import { afterEach } from 'vitest';
import { type PublishOptions, resolvePublishOptions } from '../../src/fanout/fanout-options.js';
import { connectFeed, type RemoteFeed } from '../../src/fanout/feed.js';
import { Publisher } from '../../src/fanout/publisher.js';
import type { MarketRecord } from '../../src/records/types.js';

export interface StreamNames {
  readonly stream: string;
  readonly prefix: string;
}

export function fanoutRig(publisherDefaults: { maxBatchRecords: number; closeTimeoutMs?: number }) {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });
  return {
    cleanups,
    async publisherOn(
      servers: string,
      names: StreamNames,
      publisherId = 1,
      extra: Omit<PublishOptions, 'servers'> = {},
      bookSource?: ConstructorParameters<typeof Publisher>[3],
    ): Promise<Publisher> {
      const { maxBatchRecords, closeTimeoutMs } = publisherDefaults;
      const p = new Publisher(resolvePublishOptions({ servers, ...names, publisherId, maxBatchRecords, ...extra }), undefined, undefined, bookSource);
      await p.start();
      cleanups.push(() => p.close(closeTimeoutMs));
      return p;
    },
    /** A feed from the start of the stream, collecting every record it delivers. */
    async feedOn(servers: string, names: StreamNames, extra: Record<string, unknown> = {}): Promise<{ feed: RemoteFeed; got: MarketRecord[] }> {
      const feed = await connectFeed({ servers, stream: names.stream, prefix: names.prefix, from: 'all', ...extra });
      cleanups.push(() => feed.close());
      const got: MarketRecord[] = [];
      feed.onRecord((r) => got.push(r));
      return { feed, got };
    },
  };
}
