export type { L2Book } from './book/book-keeper.js';
export type { RecordConsumer } from './engine/consumer-api.js';
export type {
  ConnectionStats,
  EngineStats,
  RecordFilter,
  StreamStats,
  SubscribeRequest,
  Subscription,
} from './engine/engine.js';
export { createEngine, Engine } from './engine/engine.js';
export type { RingfeedErrorCode } from './engine/errors.js';
export { RingfeedError } from './engine/errors.js';
export type { EngineEvents, IteratorBackpressure, SubscriptionRejection } from './engine/events.js';
export type { EngineOptions, VenueEndpoints } from './engine/options.js';
export { DEFAULT_LIMITS } from './engine/options.js';
export type { HealthReport, MetricsServer, MetricsServerOptions } from './exposition/health.js';
export { healthOf, serveMetrics } from './exposition/health.js';
export { RingfeedMetrics } from './exposition/prometheus.js';
export type { PublishOptions } from './fanout/fanout-options.js';
export type { FeedCounters, FeedStats, FeedSubscriptionStats, FeedSubscriptionStatus } from './fanout/feed.js';
export { connectFeed, RemoteFeed } from './fanout/feed.js';
export type { FeedMode, FeedOptions, FeedStart } from './fanout/feed-options.js';
export type { PublisherState, PublisherStats } from './fanout/publisher.js';
export { Publisher } from './fanout/publisher.js';
export { escapeToken, unescapeToken } from './fanout/subjects.js';
export type { LatencySummary } from './metrics/latency.js';
export type {
  BookRecord,
  CandleRecord,
  Level,
  MarketRecord,
  QuoteRecord,
  RecordTypeName,
  SideName,
  StatusName,
  StatusRecord,
  TickerRecord,
  TradeRecord,
} from './records/types.js';
export { RecordType, ResyncReason, Side, StatusCode } from './records/types.js';
export { RecordView } from './records/view.js';
export type { BackoffOptions } from './supervisor/backoff.js';
export type { CircuitBreakerOptions } from './supervisor/circuit-breaker.js';
export type { ConnectionState, StateChange } from './supervisor/connection-supervisor.js';
export type { CcxtVenueOptions } from './venues/ccxt/types.js';
export type { Channel, Credentials } from './venues/contract.js';
export type { BackpressurePolicy, ConnectionLimits } from './worker/protocol.js';
