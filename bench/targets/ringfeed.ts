/**
 * ringfeed as a bench target: the engine from the built package, one subscription for every
 * channel × symbol, consumed through `onView` (the zero-allocation path) with the same per-record
 * work the peers do (count, trade-id check, touch the book levels).
 */
import { pino } from 'pino';
import { createEngine, type Engine, type EngineStats, RecordType, type RecordView, StatusCode } from '../../src/index.js';
import type { LatencyHistogram } from '../../src/metrics/latency.js';
import { distributionOf, Histograms, latencyOf, nowMs, summaryOf, TradeIdCheck, until, Window } from '../measure.js';
import type { PhaseResult, PhaseSpec } from '../types.js';
import { internals } from './engine-internals.js';
import type { Target } from './target.js';


export function ringfeedTarget(): Target {
  let engine: Engine | undefined;
  let base: EngineStats | undefined;
  let fallback: Histograms | undefined;
  const window = new Window();
  let trades = new TradeIdCheck();
  let synced = 0;
  let bookMsgs = 0;
  let bookLevels = 0;
  let checksum = 0;

  const onView = (v: RecordView): void => {
    const type = v.typeCode;
    if (type === RecordType.trade) {
      trades.see(v.symbolId, v.seq);
      checksum += v.price;
    } else if (type === RecordType.book) {
      bookMsgs++;
      const n = v.bidCount + v.askCount;
      bookLevels += n;
      if (v.bidCount > 0) checksum += v.bidPriceAt(0);
    } else if (type === RecordType.quote) {
      checksum += v.bidPrice;
    } else if (type === RecordType.status) {
      if (v.statusCode === StatusCode.synced) synced++;
      return;
    }
    if (fallback) {
      const now = nowMs();
      fallback.recv.record((now - v.recvTs) * 1000);
      const ex = v.exchangeTs;
      if (!Number.isNaN(ex)) fallback.exchange.record((now - ex) * 1000);
    }
  };

  return {
    async start(spec: PhaseSpec) {
      engine = createEngine({
        policy: spec.policy,
        logger: pino({ level: 'warn' }, pino.destination({ dest: 2, sync: false })),
        venues: { binance: { wsUrl: spec.wsUrl, restUrl: spec.restUrl } },
      });
      fallback = internals(engine) ? undefined : new Histograms();
      trades = new TradeIdCheck();
      synced = 0;
      engine.onView(onView);
      const interval = spec.channels.includes('candles') ? spec.candleInterval : undefined;
      engine.subscribe({ exchange: 'binance', channels: spec.channels, symbols: spec.symbols, interval });
      const books = spec.channels.includes('book') ? spec.symbols.length : 0;
      const e = engine;
      const ok = await until(() => e.stats().messages > 0 && synced >= books, 20_000);
      if (!ok) throw new Error(`ringfeed: not warm after 20 s (messages ${e.stats().messages}, books synced ${synced}/${books})`);
    },
    mark() {
      if (!engine) throw new Error('ringfeed: mark before start');
      const inner = internals(engine);
      inner?.recvToConsume.reset();
      inner?.exchangeToConsume.reset();
      fallback?.reset();
      trades = new TradeIdCheck();
      bookMsgs = 0;
      bookLevels = 0;
      base = engine.stats();
      window.mark();
    },
    async finish(): Promise<PhaseResult> {
      if (!engine || !base) throw new Error('ringfeed: finish before mark');
      const w = window.read();
      const s = engine.stats();
      const inner = internals(engine);
      const exchangeDist = inner ? distributionOf(inner.exchangeToConsume) : distributionOf(fallback!.exchange);
      const result: PhaseResult = {
        messages: s.messages - base.messages,
        seconds: w.seconds,
        cpuUs: w.cpuUs,
        rssMb: w.rssMb,
        drops: s.drops - base.drops,
        gaps: s.gaps - base.gaps,
        tradeIdHoles: trades.holes,
        latencyUs: inner ? latencyOf(s.latencyUs.exchangeToConsume) : summaryOf(fallback!.exchange),
        recvToConsumeUs: inner ? latencyOf(s.latencyUs.recvToConsume) : summaryOf(fallback!.recv),
        distribution: exchangeDist,
        levelsPerBookMsg: bookMsgs > 0 ? bookLevels / bookMsgs : 0,
        extra: {
          tradesMissing: trades.missing,
          resyncs: s.resyncs - base.resyncs,
          reconnects: s.reconnects - base.reconnects,
          conflated: s.conflated - base.conflated,
          integrityErrors: s.integrityErrors - base.integrityErrors,
          pauses: s.connections.reduce((a, c) => a + c.pauses, 0) - base.connections.reduce((a, c) => a + c.pauses, 0),
          latencyWindowed: inner ? 1 : 0,
          checksum: checksum % 1,
        },
      };
      await engine.close();
      engine = undefined;
      base = undefined;
      return result;
    },
  };
}
