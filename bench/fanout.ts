/**
 * The `fanout` scenario (issue 13): one ringfeed engine on the Binance simulator publishing every
 * record to NATS JetStream, and `listeners` other processes consuming it with `connectFeed`.
 * Reports records/s delivered per listener, the publisher's CPU per record, publisher receive →
 * listener handler P99, and loss: after the publisher closes (flushed), every listener must hold
 * every record JetStream acknowledged (they read the stream from its start). Needs a NATS server
 * with JetStream (`servers`, default nats://127.0.0.1:4222); the stream is deleted afterwards.
 * ringfeed only: the peers have no fan-out.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { fmt, log, progress, tableRow } from './console.js';
import { Child } from './ipc.js';
import { MIX_CHANNELS, MIX_SYMBOLS, mixedLoad } from './load.js';
import { buildScenario } from './report.js';
import type {
  FanoutListenerDrain,
  FanoutListenerWindow,
  FanoutPublisherResult,
  FanoutPublisherSpec,
  LatencyUs,
  Measurement,
  ScenarioReport,
} from './types.js';

export interface FanoutConfig {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly msgsPerSec: number;
  readonly listeners: number;
  readonly servers: string;
}

/** One listener's row in `details.listeners`. */
export interface ListenerRow {
  readonly deliveredRecordsPerSec: number;
  readonly cpuUsPerRecord: number | null;
  readonly latencyUs: LatencyUs;
  readonly recordsTotal: number;
  /** Records JetStream acknowledged that this listener never got. */
  readonly lost: number;
  readonly gaps: number;
}

/** Pure: the processes' figures → the scenario report (tested in test/bench.test.ts). */
export function buildFanoutScenario(
  c: FanoutConfig,
  offeredMsgsPerSec: number,
  pub: FanoutPublisherResult,
  listeners: ReadonlyArray<{ window: FanoutListenerWindow; drain: FanoutListenerDrain }>,
): ScenarioReport {
  const rows: ListenerRow[] = listeners.map(({ window: w, drain: d }) => ({
    deliveredRecordsPerSec: w.seconds > 0 ? w.recordsInWindow / w.seconds : 0,
    cpuUsPerRecord: w.recordsInWindow > 0 ? w.cpuUs / w.recordsInWindow : null,
    latencyUs: w.latencyUs,
    recordsTotal: d.recordsTotal,
    lost: Math.max(0, pub.ackedTotal - d.recordsTotal),
    gaps: d.gaps,
  }));
  const worst = (pick: (l: LatencyUs) => number): number => Math.max(...rows.map((r) => pick(r.latencyUs)));
  const latency: LatencyUs = {
    p50: worst((l) => l.p50),
    p95: worst((l) => l.p95),
    p99: worst((l) => l.p99),
    p999: worst((l) => l.p999),
    max: worst((l) => l.max),
  };
  const lost = rows.reduce((n, r) => n + r.lost, 0);
  const ringfeed: Measurement = {
    streams: MIX_SYMBOLS.length * MIX_CHANNELS.length,
    offeredMsgsPerSec,
    deliveredMsgsPerSec: pub.seconds > 0 ? pub.consumed / pub.seconds : 0,
    cpuUsPerMsg: pub.consumed > 0 ? pub.cpuUs / pub.consumed : Number.NaN,
    // Publisher receive → the slowest listener's handler, per percentile.
    latencyUs: latency,
    recvToConsumeUs: null,
    rssMb: pub.rssMb,
    drops: pub.dropped + lost,
    gaps: rows.reduce((n, r) => n + r.gaps, 0),
    tradeIdHoles: 0,
    distribution: [],
  };
  return buildScenario({
    name: 'fanout',
    description:
      `One engine on the Binance simulator (~${fmt(c.msgsPerSec)} msg/s, ${ringfeed.streams} streams) publishing every record to NATS JetStream; ` +
      `${c.listeners} listener processes consume it with connectFeed from the stream's start. CPU µs/msg is the publisher process (engine + publishing) per record; ` +
      'latency is publisher receive → listener handler, the worst listener per percentile; drops are records dropped by the publisher plus records a listener never got. ' +
      `${c.seconds} s window. ringfeed only: the peers have no fan-out.`,
    ringfeed,
    peers: [],
    compareCpu: false,
    compareP99: false,
    details: {
      listeners: rows,
      publisher: {
        recordsPerSecPublished: pub.seconds > 0 ? pub.ackedInWindow / pub.seconds : 0,
        recordsPerBatch: pub.recordsPerBatch,
        recordsTotal: pub.recordsTotal,
        ackedTotal: pub.ackedTotal,
        dropped: pub.dropped,
      },
      lost,
      config: c,
    },
  });
}

type SimStats = { framesSent: number; framesDropped: number; cpuUs: number };

export async function fanout(c: FanoutConfig, notes: string[]): Promise<ScenarioReport | undefined> {
  const tag = `${process.pid}${Date.now().toString(36)}`;
  const names = { stream: `BENCH_FANOUT_${tag}`, prefix: `benchfanout${tag}` };
  const sim = Child.fork('simulator', new URL('./sim-host.js', import.meta.url));
  const pub = Child.fork('fanout-publisher', new URL('./target-host.js', import.meta.url), ['fanout-publisher']);
  const listeners = Array.from({ length: c.listeners }, (_, i) =>
    Child.fork(`fanout-listener ${i + 1}`, new URL('./target-host.js', import.meta.url), ['fanout-listener']),
  );
  try {
    const urls = await sim.call<{ wsUrl: string; restUrl: string }>('start', mixedLoad(c.msgsPerSec));
    const spec: FanoutPublisherSpec = {
      ...urls,
      symbols: MIX_SYMBOLS,
      channels: MIX_CHANNELS,
      candleInterval: '1m',
      policy: 'block',
      servers: c.servers,
      ...names,
    };
    await pub.call('start', spec, 30_000);
    await Promise.all(listeners.map((l) => l.call('start', { servers: c.servers, ...names }, 30_000)));
    await new Promise((r) => setTimeout(r, c.warmupSeconds * 1000));
    const s0 = await sim.call<SimStats>('stats');
    const t0 = performance.now();
    await Promise.all([pub.call('mark'), ...listeners.map((l) => l.call('mark'))]);
    await progress(`fanout ${c.listeners} listeners`, c.seconds * 1000);
    const windows = await Promise.all(listeners.map((l) => l.call<FanoutListenerWindow>('finish')));
    const s1 = await sim.call<SimStats>('stats');
    const offered = (s1.framesSent - s0.framesSent) / ((performance.now() - t0) / 1000);
    const result = await pub.call<FanoutPublisherResult>('finish', undefined, 30_000);
    const drains = await Promise.all(listeners.map((l) => l.call<FanoutListenerDrain>('drain', result.ackedTotal, 30_000)));
    const report = buildFanoutScenario(
      c,
      offered,
      result,
      windows.map((w, i) => ({ window: w, drain: drains[i]! })),
    );
    const rows = report.details.listeners as ListenerRow[];
    const perListener = rows.map((r) => r.deliveredRecordsPerSec);
    log(tableRow('fanout', 'ringfeed', report, `${c.listeners} listeners; lost ${report.details.lost}`));
    log(
      `  per listener ${fmt(Math.min(...perListener))}–${fmt(Math.max(...perListener))} records/s, ` +
        `listener cpu ${fmt(Math.min(...rows.map((r) => r.cpuUsPerRecord ?? Number.NaN)), 2)}–${fmt(Math.max(...rows.map((r) => r.cpuUsPerRecord ?? Number.NaN)), 2)} µs/record, ` +
        `publisher→listener p99 ${fmt(report.latencyUs?.p99 ?? Number.NaN)} µs (worst listener), ${fmt(result.recordsPerBatch, 1)} records/batch`,
    );
    if ((report.details.lost as number) > 0) notes.push(`fanout: listeners missed ${report.details.lost} acknowledged records`);
    return report;
  } catch (err) {
    const msg = `fanout/ringfeed: ${(err as Error).message.split('\n')[0]}`;
    log(`${'fanout'.padEnd(16)}${'ringfeed'.padEnd(9)}FAILED ${msg}`);
    notes.push(msg);
    return undefined;
  } finally {
    await Promise.all([pub.close(), ...listeners.map((l) => l.close())]);
    await sim.call('stop').catch(() => undefined);
    await sim.close();
    await deleteStream(c.servers, names.stream).catch((err: unknown) => notes.push(`fanout: stream ${names.stream} not deleted: ${(err as Error).message}`));
  }
}

async function deleteStream(servers: string, stream: string): Promise<void> {
  const nc = await connect({ servers, timeout: 2000 });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream);
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
  } finally {
    await nc.close();
  }
}
