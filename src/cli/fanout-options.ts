import type { RecordConsumer } from '../engine/consumer-api.js';
import type { Engine } from '../engine/engine.js';
import { type MetricsServer, serveMetrics } from '../exposition/health.js';
import type { Args } from './args.js';
import * as arg from './args.js';

/** `--publish URL` (with `--stream`, `--prefix`) and `--metrics-port N` for run and stream; returns what to close. */
export async function startFanout(engine: Engine, args: Args): Promise<() => Promise<void>> {
  const metricsPort = args['metrics-port'] === undefined ? undefined : arg.metricsPort(args['metrics-port']);
  const snapshots = args['book-snapshot-ms'] === undefined ? undefined : arg.bookSnapshotMs(args['book-snapshot-ms']);
  if (snapshots !== undefined && args.publish === undefined) throw arg.badArgument('--book-snapshot-ms needs --publish');
  if (args.publish !== undefined) {
    await engine.publish({
      servers: args.publish,
      stream: args.stream,
      prefix: args.prefix,
      ...(snapshots === undefined ? {} : { bookSnapshotIntervalMs: snapshots }),
    });
  }
  const server = metricsPort === undefined ? undefined : await startMetrics(engine, metricsPort);
  return async () => {
    await server?.close();
  };
}

/** Serves /metrics and /health on 127.0.0.1 and says where on stderr. */
export async function startMetrics(source: RecordConsumer, port: number): Promise<MetricsServer> {
  const server = await serveMetrics(source, { port });
  process.stderr.write(`ringfeed: metrics on http://${server.host}:${server.port}/metrics and /health\n`);
  return server;
}
