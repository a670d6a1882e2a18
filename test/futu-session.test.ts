/** FutuSession without a socket: its requests, the queued unsubscribe and refusals. */
import { describe, expect, it } from 'vitest';
import type { StreamSpec, } from '../src/venues/contract.js';
import { encodePacket, packetBody, readHeader } from '../src/venues/futu/codec.js';
import { encode, FutuMessages as M } from '../src/venues/futu/messages.js';
import { ProtoId } from '../src/venues/futu/protocol.js';
import { FutuSession } from '../src/venues/futu/session.js';
import { waitFor } from './helpers/wait.js';
import { recordingContext } from './kit/recording-context.js';

function rig(minSubscribedMs = 60_000) {
  const rc = recordingContext();
  const session = new FutuSession(rc.tcp, { minSubscribedMs });
  const answer = (request: Buffer, type: typeof M.QotSubResponse, value: Record<string, unknown>) => {
    const h = readHeader(request);
    session.onFrame(encodePacket(h.protoId, h.serial, encode(type, value)));
  };
  return { session, sent: rc.sentBytes, rejected: rc.rejected, answer };
}

const spec = (channel: StreamSpec['channel'], native = 'HK.00700'): StreamSpec => ({ channel, symbol: native, symbolId: 1, native });
const proto = (b: Buffer) => readHeader(b).protoId;
const subOf = (b: Buffer) => (M.QotSubRequest.decode(packetBody(b)) as unknown as { c2s: { subTypeList: number[]; isSubOrUnSub: boolean } }).c2s;

describe('futu session', () => {
  it('InitConnect first; subscriptions only after its answer; RegQotPush after Qot_Sub succeeds', () => {
    const { session, sent, answer } = rig();
    const [init] = session.openMessages();
    session.addStreams([spec('trades'), spec('book'), spec('quotes')]);
    expect(proto(Buffer.from(init!))).toBe(ProtoId.InitConnect);
    expect(session.subscribeMessages([spec('trades')])).toEqual([]);
    answer(Buffer.from(init!), M.InitConnectResponse, {
      retType: 0,
      s2c: { serverVer: 1, loginUserID: 1, connID: 9, connAESKey: 'k', keepAliveInterval: 7 },
    });
    expect(session.keepAliveSec).toBe(7);
    expect(sent.map(proto)).toEqual([ProtoId.GetGlobalState, ProtoId.QotSub]);
    expect(subOf(sent[1]!).subTypeList.sort()).toEqual([2, 4]); // book and quotes share the order book type
    answer(sent[1]!, M.QotSubResponse, { retType: 0, s2c: {} });
    expect(proto(sent[2]!)).toBe(ProtoId.QotRegQotPush);
    session.onDisconnect();
  });

  it('an unsubscribe within the minute is queued and sent when the minute is up', async () => {
    const { session, sent, answer } = rig(150);
    const [init] = session.openMessages();
    session.addStreams([spec('trades'), spec('book')]);
    answer(Buffer.from(init!), M.InitConnectResponse, { retType: 0, s2c: { serverVer: 1, loginUserID: 1, connID: 9, connAESKey: 'k', keepAliveInterval: 10 } });
    answer(sent[1]!, M.QotSubResponse, { retType: 0, s2c: {} });
    session.removeStreams([spec('book')]);
    expect(session.unsubscribeMessages([spec('book')])).toEqual([]);
    expect(session.stats.queuedUnsubscribes).toBe(1);
    const before = sent.length;
    await waitFor(() => sent.length > before, 'the queued unsubscribe', 2000);
    const unsub = subOf(sent.at(-1)!);
    expect(unsub).toMatchObject({ isSubOrUnSub: false, subTypeList: [2] });
    session.onDisconnect();
  });

  it('a refused Qot_Sub rejects that security streams with a named code, without a reconnect', () => {
    const { session, sent, rejected, answer } = rig();
    const [init] = session.openMessages();
    session.addStreams([spec('trades', 'HK.99999')]);
    answer(Buffer.from(init!), M.InitConnectResponse, { retType: 0, s2c: { serverVer: 1, loginUserID: 1, connID: 9, connAESKey: 'k', keepAliveInterval: 10 } });
    answer(sent[1]!, M.QotSubResponse, { retType: -1, retMsg: 'Unknown stock HK.99999' });
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ code: 'ERR_BAD_SYMBOL' });
    expect(rejected[0]!.message).toMatch(/futu: OpenD refused HK\.99999 \(trades\): Unknown stock/);
    session.onDisconnect();
  });
});
