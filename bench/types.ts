/**
 * Shapes shared by the bench orchestrator, its child processes and the report builders.
 * The report schema (`Report`) is documented in bench/README.md; change both together.
 */

export const REPORT_SCHEMA_VERSION = 1;

/** Latency percentiles in microseconds. */
export interface LatencyUs {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** [percentile (0..100), value µs] pairs for HDR-style plots. */
export type Distribution = ReadonlyArray<readonly [number, number]>;

export type TargetKind = 'ringfeed' | 'naive' | 'ccxt';
export type Channel = 'trades' | 'quotes' | 'book' | 'candles';
export type Policy = 'drop' | 'block';

/** One measured run of one target against one offered load. */
export interface Measurement {
  readonly streams: number;
  readonly offeredMsgsPerSec: number;
  readonly deliveredMsgsPerSec: number;
  /** Process CPU (user + system, all threads) per delivered message, µs. */
  readonly cpuUsPerMsg: number;
  /** Exchange event time → consumption (comparable across ringfeed and peers); null for micro-benchmarks. */
  readonly latencyUs: LatencyUs | null;
  /** Socket read → consumption (ringfeed: worker read → main thread; peers: 'message' event → handler). */
  readonly recvToConsumeUs: LatencyUs | null;
  readonly rssMb: number;
  /** Messages known lost (ringfeed `drop` policy counts; trade-id holes for peers). */
  readonly drops: number;
  /** Sequence gaps seen (ringfeed drop events + book resyncs; trade-id holes). */
  readonly gaps: number;
  /** Trade-id holes found by the bench's own per-symbol check (all targets). */
  readonly tradeIdHoles: number;
  readonly distribution: Distribution;
}

export interface Ratios {
  /** ringfeed ÷ peer CPU µs/msg (< 1: ringfeed cheaper). */
  readonly cpuUsPerMsg: number | null;
  /** ringfeed ÷ peer sustainable msg/s (> 1: ringfeed sustains more). Ramp scenario only. */
  readonly sustainableRate: number | null;
  /** ringfeed ÷ peer P99 exchange→consume (< 1: ringfeed faster). */
  readonly p99: number | null;
}

export interface PeerReport extends Measurement {
  readonly name: string;
  readonly sustainableMsgsPerSec: number | null;
  readonly ratioVsRingfeed: Ratios;
}

export interface ScenarioReport extends Measurement {
  readonly name: string;
  readonly description: string;
  /** Highest offered rate ringfeed sustained (ramp scenario), else null. */
  readonly sustainableMsgsPerSec: number | null;
  /** Free-form scenario details (ramp steps, block-mode check, parser rows…). */
  readonly details: Record<string, unknown>;
  readonly peers: PeerReport[];
}

export interface Report {
  readonly schemaVersion: number;
  readonly createdAt: string;
  readonly commit: string;
  /** The working tree had uncommitted changes when the bench ran. */
  readonly commitDirty: boolean;
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly quick: boolean;
  readonly scenarios: ScenarioReport[];
  readonly notes: string[];
}

/** What a target child process is asked to run. */
export interface PhaseSpec {
  readonly wsUrl: string;
  readonly restUrl: string;
  /** Normalized symbols, `BASE/QUOTE`. */
  readonly symbols: readonly string[];
  readonly channels: readonly Channel[];
  readonly policy: Policy;
  /** Kline interval for `candles`. */
  readonly candleInterval: string;
}

/** What a target child returns after `finish`. */
export interface PhaseResult {
  readonly messages: number;
  readonly seconds: number;
  readonly cpuUs: number;
  readonly rssMb: number;
  readonly drops: number;
  readonly gaps: number;
  readonly tradeIdHoles: number;
  readonly latencyUs: LatencyUs;
  readonly recvToConsumeUs: LatencyUs;
  readonly distribution: Distribution;
  /** Mean book levels per book message (heavy-books check). */
  readonly levelsPerBookMsg: number;
  /** Target-specific counters (e.g. ccxt conflated updates). */
  readonly extra: Record<string, number>;
}

/** The venues the `mixed-venues` scenario holds in one engine, each on its own simulator process. */
export type MixedVenue = 'binance' | 'futu' | 'ib';

/** What the mixed-venues target is asked to run: per venue, its endpoint and streams. */
export interface MixedSpec {
  readonly policy: Policy;
  readonly channels: readonly Channel[];
  readonly venues: ReadonlyArray<{
    readonly venue: MixedVenue;
    readonly wsUrl: string;
    readonly restUrl: string;
    readonly symbols: readonly string[];
  }>;
}

/** One venue's figures inside the mixed-venues window. */
export interface VenueResult {
  readonly venue: MixedVenue;
  /** Data records of this venue consumed in the window. */
  readonly messages: number;
  /** Socket read → consumption, µs (the consumer's clock on the record's receive time). */
  readonly recvToConsumeUs: LatencyUs | null;
  /**
   * Venue event time → consumption, µs; null when the venue's times are not usable (none, or
   * whole seconds only: IB's tick-by-tick times).
   */
  readonly exchangeToConsumeUs: LatencyUs | null;
  /** Of the records carrying a venue time, the share that are whole seconds (1 = second resolution). */
  readonly wholeSecondShare: number | null;
  readonly recvDistribution: Distribution;
  readonly tradeIdHoles: number;
  readonly connections: number;
  readonly dropped: number;
  readonly resyncs: number;
  readonly reconnects: number;
  readonly badMessages: number;
  /** Event-loop busy time of the venue's worker thread in the window, µs (null: not attributed). */
  readonly workerBusyUs: number | null;
  /** CPU time (user + system) of the venue's worker thread in the window, µs (null: not attributed). */
  readonly workerCpuUs: number | null;
}

/** What the mixed-venues target returns after `finish`. */
export interface MixedResult {
  readonly total: PhaseResult;
  readonly venues: readonly VenueResult[];
  /** CPU time of the main (consumer) thread in the window, µs; null where /proc is not readable. */
  readonly mainThreadCpuUs: number | null;
  /** How worker time was attributed to venues, or why it was not. */
  readonly attribution: string;
  readonly threads: number;
}

/** The fanout scenario's publisher: an engine on the simulator publishing to NATS JetStream. */
export interface FanoutPublisherSpec extends PhaseSpec {
  readonly servers: string;
  readonly stream: string;
  readonly prefix: string;
}

export interface FanoutPublisherResult {
  readonly seconds: number;
  /** Publisher process CPU in the window (engine and publishing). */
  readonly cpuUs: number;
  readonly rssMb: number;
  /** Records the engine consumed in the window. */
  readonly consumed: number;
  /** Records JetStream acknowledged in the window. */
  readonly ackedInWindow: number;
  /** Since start, after the close flushed the publisher. */
  readonly recordsTotal: number;
  readonly ackedTotal: number;
  readonly dropped: number;
  readonly batches: number;
  readonly recordsPerBatch: number;
}

export interface FanoutListenerSpec {
  readonly servers: string;
  readonly stream: string;
  readonly prefix: string;
}

/** A listener's window figures. */
export interface FanoutListenerWindow {
  readonly seconds: number;
  readonly cpuUs: number;
  readonly rssMb: number;
  readonly recordsInWindow: number;
  /** Publisher receive time → listener handler. */
  readonly latencyUs: LatencyUs;
}

/** A listener's totals once the publisher has closed. */
export interface FanoutListenerDrain {
  readonly recordsTotal: number;
  readonly gaps: number;
}
