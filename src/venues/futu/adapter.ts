/**
 * Futu through OpenD's TCP API (default `tcp://127.0.0.1:11111`, no encryption: OpenD runs on
 * loopback or a private network). Symbols are Futu's own: `HK.00700`, `US.AAPL`, `SH.600519`,
 * `SZ.000001`. Protocol state lives in `session.ts`, OpenD's tables in `protocol.ts`, the packet
 * header in `codec.ts`.
 */
import type { TcpSessionContext, TcpVenueDefinition } from '../contract.js';
import { futuFraming, readHeader } from './codec.js';
import { FUTU_CANDLE_INTERVALS, ProtoId, parseFutuSymbol } from './protocol.js';
import { FutuSession, type FutuSessionOptions, keepAliveRequest } from './session.js';

export function createFutuAdapter(options: FutuSessionOptions = {}): TcpVenueDefinition {
  return {
    id: 'futu',
    transport: 'tcp',
    channels: ['trades', 'quotes', 'ticker', 'book', 'candles'],
    defaultWsUrl: 'tcp://127.0.0.1:11111',
    // OpenD has no REST side; nothing is ever fetched from here.
    defaultRestUrl: 'http://127.0.0.1:11111',
    candleIntervals: Object.keys(FUTU_CANDLE_INTERVALS),
    framing: futuFraming,
    keepAlive: {
      request: keepAliveRequest,
      isAnswer: (frame) => readHeader(frame).protoId === ProtoId.KeepAlive,
    },

    nativeSymbol(symbol: string): string {
      parseFutuSymbol(symbol);
      return symbol;
    },

    createSession(ctx: TcpSessionContext): FutuSession {
      return new FutuSession(ctx, options);
    },
  };
}

export const futu: TcpVenueDefinition = createFutuAdapter();
