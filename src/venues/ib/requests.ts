/** The requests the session sends, encoded for server versions 176..193 (see `codec.ts`). */
import { twsMessage } from '../../worker/framing.js';
import { Out } from './codec.js';
import type { ContractSpec } from './contract-spec.js';

/** A contract as the session sends it: the spec, and its conId once resolved (0 before). */
export interface WireContract {
  readonly spec: ContractSpec;
  readonly conId: number;
}

/** conId, symbol, secType, expiry, strike, right, multiplier, exchange, primaryExch, currency, localSymbol, tradingClass. */
function contractFields(c: WireContract): (string | number)[] {
  const { spec } = c;
  return [c.conId || '', spec.symbol, spec.secType, spec.expiry, 0, '', '', spec.exchange, '', spec.currency, '', ''];
}

export function reqContractDetails(reqId: number, c: WireContract): Buffer {
  // ... includeExpired, secIdType, secId, issuerId
  return twsMessage([Out.reqContractDetails, 8, reqId, ...contractFields(c), 0, '', '', '']);
}

export function reqTickByTick(reqId: number, c: WireContract, tickType: 'AllLast' | 'BidAsk'): Buffer {
  // ... tickType, numberOfTicks (0 = streaming), ignoreSize
  return twsMessage([Out.reqTickByTick, reqId, ...contractFields(c), tickType, 0, 0]);
}

export function cancelTickByTick(reqId: number): Buffer {
  return twsMessage([Out.cancelTickByTick, reqId]);
}

export function reqMktData(reqId: number, c: WireContract): Buffer {
  // ... deltaNeutral (none), genericTickList, snapshot, regulatorySnapshot, mktDataOptions
  return twsMessage([Out.reqMktData, 11, reqId, ...contractFields(c), 0, '', 0, 0, '']);
}

export function cancelMktData(reqId: number): Buffer {
  return twsMessage([Out.cancelMktData, 1, reqId]);
}

export function reqMktDepth(reqId: number, c: WireContract, rows: number, smart: boolean): Buffer {
  return twsMessage([Out.reqMktDepth, 5, reqId, ...contractFields(c), rows, smart ? 1 : 0, '']);
}

export function cancelMktDepth(reqId: number, smart: boolean): Buffer {
  return twsMessage([Out.cancelMktDepth, 1, reqId, smart ? 1 : 0]);
}

export function reqRealTimeBars(reqId: number, c: WireContract): Buffer {
  const whatToShow = c.spec.secType === 'CASH' ? 'MIDPOINT' : 'TRADES';
  // ... barSize (only 5 exists), whatToShow, useRTH, options
  return twsMessage([Out.reqRealTimeBars, 3, reqId, ...contractFields(c), 5, whatToShow, 0, '']);
}

export function cancelRealTimeBars(reqId: number): Buffer {
  return twsMessage([Out.cancelRealTimeBars, 1, reqId]);
}
