/**
 * The futu row's kit rules (test/kit-rules.test.ts): a FutuSession on HK.00700's book and
 * trades, past InitConnect and Qot_Sub, fed OpenD packets built with the vendored protos. A
 * snapshot is any order book push while the book awaits one; an ask is a Qot_RegQotPush of the
 * order book alone (isFirstPush); a refusal is that request answered with retType -1.
 */
import type { TcpSession } from '../../src/venues/contract.js';
import { encodePacket, packetBody, readHeader } from '../../src/venues/futu/codec.js';
import { encode, FutuMessages as M } from '../../src/venues/futu/messages.js';
import { ProtoId, SubType } from '../../src/venues/futu/protocol.js';
import { FutuSession } from '../../src/venues/futu/session.js';
import type { KitRuleCase, KitRuleEnv, Level } from './kit-rule-case.js';
import { ruleSpec } from './kit-rule-case.js';
import type { RecordingContext } from './recording-context.js';

const SECURITY = { market: 1, code: '00700' };
const NATIVE = 'HK.00700';

/** The answer to `request` (same proto id and serial). */
function answer(request: Buffer, type: typeof M.QotSubResponse, value: Record<string, unknown>): Buffer {
  const h = readHeader(request);
  return encodePacket(h.protoId, h.serial, encode(type, value));
}

const sentOf = (rc: RecordingContext, protoId: number) => rc.sentBytes.filter((b) => readHeader(b).protoId === protoId);

/** RegQotPush requests of the order book alone: the resync's asks (the subscription's own carries tickers too). */
const bookAsks = (rc: RecordingContext) =>
  sentOf(rc, ProtoId.QotRegQotPush).filter((b) => {
    const { subTypeList } = (M.QotRegQotPushRequest.decode(packetBody(b)) as unknown as { c2s: { subTypeList: number[] } }).c2s;
    return subTypeList.length === 1 && subTypeList[0] === SubType.OrderBook;
  });

/** OpenD levels from ringfeed's string levels; the amount as hpVolume, so that any number survives the encoding. */
const level = ([price, amount]: Level) => ({ price: Number(price), volume: 0, hpVolume: Number(amount), orederCount: 1 });

const push = (protoId: number, type: typeof M.QotUpdateOrderBook, s2c: Record<string, unknown>) =>
  encodePacket(protoId, 0, encode(type, { retType: 0, s2c }));

const orderBook = (bids: Level[], asks: Level[]) =>
  push(ProtoId.QotUpdateOrderBook, M.QotUpdateOrderBook, {
    security: SECURITY,
    orderBookBidList: bids.map(level),
    orderBookAskList: asks.map(level),
    svrRecvTimeBidTimestamp: 1_704_067_200,
    svrRecvTimeAskTimestamp: 1_704_067_200,
  });

export function futuKitRules(env: KitRuleEnv): KitRuleCase<TcpSession<Buffer>, Buffer> {
  let tickerSeq = 0;
  return {
    open(rc) {
      const s = new FutuSession(rc.tcp, env.timing);
      s.addStreams([ruleSpec('book', NATIVE, NATIVE), ruleSpec('trades', NATIVE, NATIVE)]);
      const [init] = s.openMessages();
      s.onFrame(
        answer(Buffer.from(init!), M.InitConnectResponse, {
          retType: 0,
          s2c: { serverVer: 1, loginUserID: 1, connID: 1, connAESKey: 'k', keepAliveInterval: 3600 },
        }),
      );
      s.onFrame(answer(sentOf(rc, ProtoId.QotSub)[0]!, M.QotSubResponse, { retType: 0, s2c: {} }));
      return s;
    },
    async snapshot(_rc, s) {
      s.onFrame(orderBook([['100', '1']], [['101', '1']]));
    },
    badSnapshot: (bad) => orderBook([['100', '1'], bad], [['101', '1']]),
    update: (_n, bad) => orderBook([['100', '2'], bad], [['101', '1']]),
    trade: (price, amount) =>
      push(ProtoId.QotUpdateTicker, M.QotUpdateTicker, {
        security: SECURITY,
        tickerList: [
          { time: '2024-01-01 00:00:00', sequence: ++tickerSeq, dir: 1, price: Number(price), volume: 0, hpVolume: Number(amount), turnover: 0, timestamp: 1_704_067_200 },
        ],
      }),
    asks: (rc) => bookAsks(rc).length,
    refuse(rc, s) {
      s.onFrame(answer(bookAsks(rc).at(-1)!, M.QotRegQotPushResponse, { retType: -1, retMsg: 'busy' }));
    },
  };
}
