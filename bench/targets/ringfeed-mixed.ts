/**
 * ringfeed holding several venues at once (the `mixed-venues` scenario): one engine, one
 * subscription per venue, consumed through `onView` with the same per-record work as the
 * single-venue target, plus per-venue counts and latency histograms kept by the consumer.
 *
 * Per-venue CPU: the engine runs with one connection per worker thread (`connectionsPerThread: 1`,
 * as many threads as venues) and the venues are subscribed one after the other, so the worker that
 * starts working when a venue is subscribed is that venue's. Its event-loop busy time comes from
 * the Worker object (piscina's `threads`, reached from outside like the consumer's histograms in
 * ringfeed.ts) and, on Linux, its CPU time from /proc/self/task/<tid>/schedstat (the thread that
 * appeared with it). Whatever cannot be attributed is reported as null with the reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { createEngine, type Engine, type EngineStats, RecordType, type RecordView, StatusCode } from '../../src/index.js';
import { LatencyHistogram } from '../../src/metrics/latency.js';
import { distributionOf, latencyOf, nowMs, summaryOf, TradeIdCheck, until, Window } from '../measure.js';
import type { MixedResult, MixedSpec, MixedVenue, PhaseResult, VenueResult } from '../types.js';
import { internals } from './engine-internals.js';
import type { Target } from './target.js';


/** The engine's piscina workers, if reachable. */
function workersOf(engine: Engine): Worker[] | undefined {
  const threads = (engine as unknown as { pool?: { threads?: unknown } }).pool?.threads;
  return Array.isArray(threads) ? (threads as Worker[]) : undefined;
}

/** CPU time of one thread of this process, µs (schedstat: ns on CPU; else stat's clock ticks). */
function threadCpuUs(tid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * 10_000; // USER_HZ 100 on Linux
    } catch {
      return undefined;
    }
  }
}

function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
}

/** Per-venue state kept on the consumer thread. */
class VenueCounters {
  readonly recv = new LatencyHistogram();
  readonly exchange = new LatencyHistogram();
  messages = 0;
  stamped = 0;
  wholeSeconds = 0;
  trades = new TradeIdCheck();

  reset(): void {
    this.recv.reset();
    this.exchange.reset();
    this.messages = 0;
    this.stamped = 0;
    this.wholeSeconds = 0;
    this.trades = new TradeIdCheck();
  }
}

interface Attributed {
  worker?: Worker;
  tid?: number;
  elu0?: EventLoopUtilization;
  cpu0?: number;
}

/** One venue's slice of the connection counters. */
function connectionSums(s: EngineStats, venue: string) {
  const conns = s.connections.filter((c) => c.exchange === venue);
  const sum = (k: 'dropped' | 'resyncs' | 'reconnects' | 'badMessages') => conns.reduce((a, c) => a + c[k], 0);
  return { connections: conns.length, dropped: sum('dropped'), resyncs: sum('resyncs'), reconnects: sum('reconnects'), badMessages: sum('badMessages') };
}

export function ringfeedMixedTarget(): Target<MixedSpec, MixedResult> {
  let engine: Engine | undefined;
  let base: EngineStats | undefined;
  let venues: MixedVenue[] = [];
  /** Indexed by the record's exchange code. */
  let byCode: Array<VenueCounters | undefined> = [];
  const byName = new Map<MixedVenue, VenueCounters>();
  const attributed = new Map<MixedVenue, Attributed>();
  let attribution = '';
  let main0: number | undefined;
  const window = new Window();
  let synced = 0;
  let checksum = 0;

  const counters = (v: RecordView): VenueCounters | undefined => {
    const code = v.exchangeCode;
    let c = byCode[code];
    if (c === undefined) {
      c = byName.get(v.exchange as MixedVenue);
      byCode[code] = c;
    }
    return c;
  };

  const onView = (v: RecordView): void => {
    const type = v.typeCode;
    if (type === RecordType.status) {
      if (v.statusCode === StatusCode.synced) synced++;
      return;
    }
    const c = counters(v);
    if (type === RecordType.trade) {
      const seq = v.seq;
      if (c && !Number.isNaN(seq)) c.trades.see(v.symbolId, seq);
      checksum += v.price;
    } else if (type === RecordType.book) {
      if (v.bidCount > 0) checksum += v.bidPriceAt(0);
    } else if (type === RecordType.quote) {
      checksum += v.bidPrice;
    }
    if (!c) return;
    c.messages++;
    const now = nowMs();
    c.recv.record((now - v.recvTs) * 1000);
    const ex = v.exchangeTs;
    if (!Number.isNaN(ex)) {
      c.stamped++;
      if (ex % 1000 === 0) c.wholeSeconds++;
      c.exchange.record((now - ex) * 1000);
    }
  };

  /** Subscribes one venue and waits for its data (and books); then finds its worker and thread. */
  async function startVenue(e: Engine, spec: MixedSpec, entry: MixedSpec['venues'][number]): Promise<void> {
    const workersBefore = new Set(workersOf(e) ?? []);
    const tidsBefore = new Set(threadIds());
    const busyBefore = new Map([...workersBefore].map((w) => [w, w.performance.eventLoopUtilization().active]));
    const c = byName.get(entry.venue)!;
    const books = spec.channels.includes('book') ? entry.symbols.length : 0;
    const syncedBefore = synced;
    e.subscribe({ exchange: entry.venue, channels: spec.channels, symbols: entry.symbols });
    const ok = await until(() => c.messages > 0 && synced - syncedBefore >= books, 20_000);
    if (!ok) throw new Error(`ringfeed-mixed: ${entry.venue} not warm after 20 s (messages ${c.messages}, books synced ${synced - syncedBefore}/${books})`);
    const taken = new Set([...attributed.values()].map((a) => a.worker));
    // The venue's worker: the free one whose event loop did the most since the subscribe (a new
    // one, or minThreads' first worker for the first venue).
    let best: Worker | undefined;
    let bestBusy = 0;
    for (const w of workersOf(e) ?? []) {
      if (taken.has(w)) continue;
      const busy = w.performance.eventLoopUtilization().active - (busyBefore.get(w) ?? 0);
      if (busy > bestBusy) {
        best = w;
        bestBusy = busy;
      }
    }
    const newTids = threadIds().filter((t) => !tidsBefore.has(t));
    const a: Attributed = { worker: best };
    // A worker that existed before (the first venue's) has no new thread: its tid is the one thread
    // that appeared with the engine's first worker, found in start().
    if (best && !workersBefore.has(best) && newTids.length === 1) a.tid = newTids[0];
    attributed.set(entry.venue, a);
  }

  return {
    async start(spec: MixedSpec) {
      venues = spec.venues.map((v) => v.venue);
      byCode = [];
      byName.clear();
      attributed.clear();
      for (const v of venues) byName.set(v, new VenueCounters());
      const tidsBefore = new Set(threadIds());
      const endpoints: Record<string, { wsUrl: string; restUrl?: string; clientId?: number }> = {};
      for (const v of spec.venues) endpoints[v.venue] = v.venue === 'ib' ? { wsUrl: v.wsUrl, clientId: 11 } : { wsUrl: v.wsUrl, restUrl: v.restUrl };
      engine = createEngine({
        policy: spec.policy,
        threads: spec.venues.length,
        connectionsPerThread: 1,
        logger: pino({ level: 'warn' }, pino.destination({ dest: 2, sync: false })),
        venues: endpoints,
      });
      const e = engine;
      e.onView(onView);
      synced = 0;
      // piscina starts its first worker (minThreads 1) with the pool: the thread(s) new now.
      await until(() => (workersOf(e)?.length ?? 0) > 0, 5000);
      const firstTids = threadIds().filter((t) => !tidsBefore.has(t));
      for (const v of spec.venues) await startVenue(e, spec, v);
      const first = attributed.get(spec.venues[0]!.venue);
      const workers = workersOf(e);
      if (first && first.worker === workers?.[0] && firstTids.length === 1) first.tid = firstTids[0];
      const notes: string[] = [];
      if (!workers) notes.push('the engine pool is not reachable: no per-venue worker time');
      else {
        const distinct = new Set([...attributed.values()].map((x) => x.worker).filter(Boolean));
        if (distinct.size !== venues.length) notes.push(`only ${distinct.size} of ${venues.length} venues matched to their own worker`);
      }
      const noTid = venues.filter((v) => attributed.get(v)?.tid === undefined);
      if (noTid.length > 0) notes.push(`no thread CPU for ${noTid.join(', ')} (${threadIds().length === 0 ? 'no /proc/self/task' : 'worker thread not identified unambiguously'}): worker event-loop busy time only`);
      attribution =
        notes.length === 0
          ? 'one connection per worker thread; each venue subscribed alone, its worker = the one that started working, its thread = the one that appeared with it (CPU from /proc/self/task/<tid>/schedstat)'
          : notes.join('; ');
    },
    mark() {
      if (!engine) throw new Error('ringfeed-mixed: mark before start');
      const inner = internals(engine);
      inner?.recvToConsume.reset();
      inner?.exchangeToConsume.reset();
      for (const c of byName.values()) c.reset();
      for (const a of attributed.values()) {
        a.elu0 = a.worker?.performance.eventLoopUtilization();
        a.cpu0 = a.tid === undefined ? undefined : threadCpuUs(a.tid);
      }
      main0 = threadCpuUs(process.pid);
      base = engine.stats();
      window.mark();
    },
    async finish(): Promise<MixedResult> {
      if (!engine || !base) throw new Error('ringfeed-mixed: finish before mark');
      const w = window.read();
      const mainCpu = threadCpuUs(process.pid);
      const perVenue: VenueResult[] = venues.map((venue) => {
        const c = byName.get(venue)!;
        const a = attributed.get(venue);
        const elu = a?.worker && a.elu0 ? a.worker.performance.eventLoopUtilization(a.elu0) : undefined;
        const cpu = a?.tid === undefined ? undefined : threadCpuUs(a.tid);
        const now = connectionSums(engine!.stats(), venue);
        const was = connectionSums(base!, venue);
        const wholeSecondShare = c.stamped > 0 ? c.wholeSeconds / c.stamped : null;
        const usable = wholeSecondShare !== null && wholeSecondShare < 0.99;
        return {
          venue,
          messages: c.messages,
          recvToConsumeUs: c.messages > 0 ? summaryOf(c.recv) : null,
          exchangeToConsumeUs: usable ? summaryOf(c.exchange) : null,
          wholeSecondShare,
          recvDistribution: distributionOf(c.recv),
          tradeIdHoles: c.trades.holes,
          connections: now.connections,
          dropped: now.dropped - was.dropped,
          resyncs: now.resyncs - was.resyncs,
          reconnects: now.reconnects - was.reconnects,
          badMessages: now.badMessages - was.badMessages,
          workerBusyUs: elu ? elu.active * 1000 : null,
          workerCpuUs: cpu !== undefined && a?.cpu0 !== undefined ? cpu - a.cpu0 : null,
        };
      });
      const s = engine.stats();
      const inner = internals(engine);
      const total: PhaseResult = {
        messages: s.messages - base.messages,
        seconds: w.seconds,
        cpuUs: w.cpuUs,
        rssMb: w.rssMb,
        drops: s.drops - base.drops,
        gaps: s.gaps - base.gaps,
        tradeIdHoles: perVenue.reduce((n, v) => n + v.tradeIdHoles, 0),
        latencyUs: latencyOf(s.latencyUs.exchangeToConsume),
        recvToConsumeUs: latencyOf(s.latencyUs.recvToConsume),
        distribution: inner ? distributionOf(inner.recvToConsume) : [],
        levelsPerBookMsg: 0,
        extra: {
          resyncs: s.resyncs - base.resyncs,
          reconnects: s.reconnects - base.reconnects,
          integrityErrors: s.integrityErrors - base.integrityErrors,
          badMessages: s.badMessages - base.badMessages,
          checksum: checksum % 1,
        },
      };
      const threads = workersOf(engine)?.length ?? 0;
      await engine.close();
      engine = undefined;
      base = undefined;
      return {
        total,
        venues: perVenue,
        mainThreadCpuUs: mainCpu !== undefined && main0 !== undefined ? mainCpu - main0 : null,
        attribution,
        threads,
      };
    },
  };
}
