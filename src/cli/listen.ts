import { connectFeed } from '../fanout/feed.js';
import type { Args } from './args.js';
import * as arg from './args.js';
import { dashboardHeader, summaryLine, terminalSize } from './dashboard.js';
import { startMetrics } from './fanout-options.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/**
 * `ringfeed listen [nats://host:port] [--subjects a,b] [--stream S] [--from new|all|SEQ] [--core]
 * [--seconds N] [--json] [--metrics-port N]` (`--core`: live-only core NATS, gaps reported): consumes a published feed and prints the same
 * JSON summary as `run` at the end (a status line per second unless --json).
 */
export async function listen(args: Args, positionals: string[], untilStopped: (seconds: number) => Promise<void>): Promise<void> {
  const servers = positionals[0] ?? DEFAULT_NATS_URL;
  const seconds = arg.seconds(args.seconds ?? '0');
  const from = args.from === undefined ? 'new' : arg.feedStart(args.from);
  const subjects = args.subjects === undefined ? undefined : arg.listOption(args.subjects, '--subjects');
  const metricsPort = args['metrics-port'] === undefined ? undefined : arg.metricsPort(args['metrics-port']);
  if (args.core && args.from !== undefined && from !== 'new') throw arg.badArgument('--core reads live messages only: --from must be new (or left out)');
  const feed = await connectFeed({ servers, subjects, stream: args.stream, prefix: args.prefix, from, ...(args.core ? { mode: 'core' as const } : {}) });
  const metrics = metricsPort === undefined ? undefined : await startMetrics(feed, metricsPort);
  const started = Date.now();
  let previous = feed.stats();
  let previousAt = started;
  const view = args.json
    ? undefined
    : setInterval(() => {
        const stats = feed.stats();
        const now = Date.now();
        process.stdout.write(`${dashboardHeader(stats, previous, now - previousAt, terminalSize(process.stdout).columns).join('\n')}\n`);
        previous = stats;
        previousAt = now;
      }, 1000);
  await untilStopped(seconds);
  clearInterval(view);
  const stats = feed.stats();
  const elapsed = (Date.now() - started) / 1000;
  await metrics?.close();
  await feed.close();
  process.stdout.write(`${summaryLine(stats, elapsed)}\n`);
}
