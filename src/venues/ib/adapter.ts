/**
 * Interactive Brokers through TWS or IB Gateway: the TWS API socket protocol (our own lean
 * codec in `codec.ts`; `@stoqey/ib` only in tests) on the TCP task. The endpoint is the API
 * port of a running TWS / Gateway (`tcp://127.0.0.1:7497`, TWS paper trading).
 */

import { lengthPrefixed } from '../../worker/framing.js';
import type { TcpSession, TcpSessionContext, TcpVenueDefinition } from '../contract.js';
import { In, messageId, REQ_CURRENT_TIME } from './codec.js';
import { canonicalSymbol, parseContractSpec } from './contract-spec.js';
import { createIbSession } from './session.js';

export const ib: TcpVenueDefinition = {
  id: 'ib',
  transport: 'tcp',
  channels: ['trades', 'quotes', 'ticker', 'book', 'candles'],
  defaultWsUrl: 'tcp://127.0.0.1:7497',
  /** The TWS API has no REST side; the origin is never contacted. */
  defaultRestUrl: 'http://127.0.0.1:7497',
  maxConnectionAgeMs: 0,
  /** TWS knows an API connection by its client id: a second one with the same id gets error 326. */
  maxConnections: 1,
  /** reqRealTimeBars has one bar size. */
  candleIntervals: ['5s'],
  framing: lengthPrefixed({ headerBytes: 4, lengthAt: 0 }),
  /** The TWS API has no heartbeat: the current time is a request TWS always answers. */
  keepAlive: { request: () => REQ_CURRENT_TIME, isAnswer: (frame: Buffer) => messageId(frame) === In.currentTime },

  nativeSymbol(symbol: string): string {
    return canonicalSymbol(parseContractSpec(symbol));
  },

  createSession(ctx: TcpSessionContext): TcpSession<Buffer> {
    return createIbSession(ctx);
  },
};
