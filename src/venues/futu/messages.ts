/**
 * OpenD's protobuf messages, built once per thread from the generated descriptor (see
 * `vendor/futu-proto/NOTICE.md` and `scripts/futu-descriptor.mjs`).
 */
import protobuf from 'protobufjs';
import { FUTU_DESCRIPTOR } from './descriptor.js';

const root = protobuf.Root.fromJSON(FUTU_DESCRIPTOR);

function type(name: string): protobuf.Type {
  return root.lookupType(name);
}

export const FutuMessages = {
  InitConnectRequest: type('InitConnect.Request'),
  InitConnectResponse: type('InitConnect.Response'),
  InitWebSocketRequest: type('InitWebSocket.Request'),
  InitWebSocketResponse: type('InitWebSocket.Response'),
  KeepAliveRequest: type('KeepAlive.Request'),
  KeepAliveResponse: type('KeepAlive.Response'),
  GetGlobalStateRequest: type('GetGlobalState.Request'),
  GetGlobalStateResponse: type('GetGlobalState.Response'),
  QotSubRequest: type('Qot_Sub.Request'),
  QotSubResponse: type('Qot_Sub.Response'),
  QotRegQotPushRequest: type('Qot_RegQotPush.Request'),
  QotRegQotPushResponse: type('Qot_RegQotPush.Response'),
  QotGetTickerRequest: type('Qot_GetTicker.Request'),
  QotGetTickerResponse: type('Qot_GetTicker.Response'),
  QotUpdateBasicQot: type('Qot_UpdateBasicQot.Response'),
  QotUpdateKL: type('Qot_UpdateKL.Response'),
  QotUpdateTicker: type('Qot_UpdateTicker.Response'),
  QotUpdateOrderBook: type('Qot_UpdateOrderBook.Response'),
} as const;

/** What decoded int64 fields are (protobufjs gives a Long when the `long` package is present). */
export type Int64 = number | { toNumber(): number };

export function int64(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return Number.NaN;
  return typeof v === 'number' ? v : v.toNumber();
}

export function encode(t: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  return t.encode(t.fromObject(value)).finish();
}

/** `body` decoded as `t`; a body that is not one (truncated, wrong wire types) is an Error naming futu and the message. */
export function decode(t: protobuf.Type, body: Uint8Array): unknown {
  try {
    return t.decode(body);
  } catch (err) {
    const detail = (err as Error).message || (err as Error).constructor.name;
    throw new Error(`futu: ${t.fullName.replace(/^\./, '')} does not decode: ${detail}`);
  }
}
