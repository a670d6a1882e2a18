import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordConsumer } from '../engine/consumer-api.js';
import { RingfeedMetrics } from './prometheus.js';

export interface HealthReport {
  readonly healthy: boolean;
  /** Why not, one line per connection or book (empty when healthy). */
  readonly reasons: readonly string[];
}

/** Healthy when there is at least one connection, every one is `connected` and every book stream is synced. */
export function healthOf(source: RecordConsumer): HealthReport {
  const s = source.stats();
  const reasons: string[] = [];
  if (s.connections.length === 0) reasons.push('no connections');
  for (const c of s.connections) {
    if (c.state !== 'connected') reasons.push(`connection ${c.id} (${c.exchange}) is ${c.state === 'stale' ? 'stale or behind' : c.state}`);
  }
  for (const st of s.perStream) {
    if (st.channel !== 'book') continue;
    const book = source.book(st.exchange, st.symbol);
    if (book !== undefined && !book.synced) reasons.push(`book ${st.exchange} ${st.symbol} is not synced`);
  }
  return { healthy: reasons.length === 0, reasons };
}

export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Default 127.0.0.1 (not reachable from other machines unless you say so). */
  readonly host?: string;
}

export interface MetricsServer {
  readonly port: number;
  readonly host: string;
  readonly metrics: RingfeedMetrics;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text) and `GET /health` (200 / 503 with reasons, JSON). */
export async function serveMetrics(source: RecordConsumer, options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const metrics = new RingfeedMetrics(source);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}`),
      );
    } else if (path === '/health') {
      let report: HealthReport;
      try {
        report = healthOf(source);
      } catch (err) {
        report = { healthy: false, reasons: [(err as Error).message] };
      }
      res.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /health\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        metrics.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
