/** ringfeed exchange simulator: Binance-spot protocol over uWebSockets.js, synthetic or replayed data, faults on demand. */

export { type BookSnapshot, type BookView, DEFAULT_SYMBOLS, KLINE_INTERVALS, SyntheticMarket } from './binance/market.js';
export { binanceCaptureAdapter, handleControl, type ParsedStream, parseConnectUrl, parseStreamName } from './binance/protocol.js';
export {
  type Simulator,
  type SimulatorFaults,
  type SimulatorOptions,
  type SimulatorStats,
  type StallOptions,
  startSimulator,
} from './binance/server.js';
export { type BybitSimulator, type BybitSimulatorOptions, startBybitSimulator } from './bybit/server.js';
export { type CoinbaseSimulator, type CoinbaseSimulatorOptions, startCoinbaseSimulator } from './coinbase/server.js';
export { type FutuSimulator, type FutuSimulatorOptions, type FutuSimulatorStats, startFutuSimulator } from './futu/server.js';
export { type IbSimulator, type IbSimulatorOptions, type IbSimulatorStats, startIbSimulator } from './ib/server.js';
export { type RawFrame, type RawFrameOptions, sendRawFrames } from './kit/raw-frames.js';
export {
  type CaptureAdapter,
  type CaptureLine,
  loadReplay,
  parseCapture,
  ReplayCursor,
  type ReplayFrame,
  type ReplayOptions,
  ReplaySource,
  type ReplaySpeed,
} from './kit/replay.js';
export { mulberry32 } from './kit/rng.js';
export {
  type BaseStats,
  type CommonFaults,
  type CommonSimulatorOptions,
  type Peer,
  Refusal,
  VenueServer,
  type VenueServerOptions,
} from './kit/venue-server.js';
export { type KrakenSimulator, type KrakenSimulatorOptions, startKrakenSimulator } from './kraken/server.js';
export { type OkxSimulator, type OkxSimulatorOptions, startOkxSimulator } from './okx/server.js';
export { VENUE_SIMULATORS, type VenueSimulator, type VenueSimulatorOptions, venueSimulator } from './venues.js';
