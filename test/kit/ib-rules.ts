/**
 * The ib row's kit rules (test/kit-rules.test.ts): an IbSession on AAPL's book and trades, past
 * the handshake and contract resolution, fed TWS messages. Depth is one row per message: the
 * first row of a depth request is the book's snapshot, so a "frame with one bad level" is that
 * row alone. An ask is a fresh reqMktDepth; a refusal is a TWS error on the depth request.
 */
import type { TcpSession } from '../../src/venues/contract.js';
import { In, Out } from '../../src/venues/ib/codec.js';
import { createIbSession } from '../../src/venues/ib/session.js';
import { twsMessage } from '../../src/worker/framing.js';
import type { KitRuleCase, KitRuleEnv } from './kit-rule-case.js';
import { ruleSpec } from './kit-rule-case.js';
import type { RecordingContext } from './recording-context.js';

const NATIVE = 'STK:AAPL@SMART/USD';
const CON_ID = 265598;
const BID = 1;
const ASK = 0;
const INSERT = 0;

/** The fields of each request the session sent (after the handshake, which has no message id). */
const requests = (rc: RecordingContext) =>
  rc.sentBytes.filter((b) => b.subarray(0, 4).toString('latin1') !== 'API\0').map((b) => b.subarray(4).toString('latin1').split('\0'));
const depthRequests = (rc: RecordingContext) => requests(rc).filter((f) => Number(f[0]) === Out.reqMktDepth);
/** reqMktDepth: id, version, reqId, …; reqTickByTick: id, reqId, …. */
const depthReqId = (rc: RecordingContext) => Number(depthRequests(rc).at(-1)![2]);
const tradeReqId = (rc: RecordingContext) => Number(requests(rc).find((f) => Number(f[0]) === Out.reqTickByTick)![1]);

export function ibKitRules(env: KitRuleEnv): KitRuleCase<TcpSession<Buffer>, Buffer> {
  let rc: RecordingContext;
  const row = (side: number, position: number, price: string | number, size: string | number) =>
    twsMessage([In.marketDepth, 1, depthReqId(rc), position, INSERT, side, price, size]);
  return {
    open(recording) {
      rc = recording;
      // Unpaced (perSecond ∞): every request is written at once, without a timer.
      const s = createIbSession(rc.tcp, { perSecond: Number.POSITIVE_INFINITY, ...env.timing });
      s.addStreams([ruleSpec('book', 'AAPL', NATIVE), ruleSpec('trades', 'AAPL', NATIVE)]);
      s.openMessages([]);
      s.onFrame(twsMessage([193, '20240101 00:00:00 UTC']));
      s.onFrame(twsMessage([In.nextValidId, 1, 1]));
      s.onFrame(twsMessage([In.contractData, 1, 'AAPL', 'STK', '', '', 0, '', 'SMART', 'USD', 'AAPL', 'NMS', 'NMS', CON_ID, 0.01, '']));
      s.onFrame(twsMessage([In.contractDataEnd, 1, 1]));
      return s;
    },
    async snapshot(_rc, s) {
      s.onFrame(row(BID, 0, 100, 1));
      s.onFrame(row(ASK, 0, 101, 1));
    },
    badSnapshot: ([price, size]) => row(BID, 0, price, size),
    update: (_n, [price, size]) => row(BID, 1, price, size),
    trade: (price, size) => twsMessage([In.tickByTick, tradeReqId(rc), 2, 1_704_067_200, price, size, 0, 'NASDAQ', '']),
    asks: (recording) => depthRequests(recording).length - 1,
    refuse(recording, s) {
      s.onFrame(twsMessage([In.error, 2, depthReqId(recording), 322, 'Error processing request']));
    },
  };
}
