/**
 * The simulator speaks the real TWS API: the unmodified `@stoqey/ib` client connects to it,
 * gets its next valid id, contract details and ticks. The client reads a `.env` from its working
 * directory, so it runs in a child process whose cwd is an empty temporary directory.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type IbSimulator, startIbSimulator } from '../src/simulator/ib/server.js';

const stoqey = createRequire(import.meta.url).resolve('@stoqey/ib');

/** Runs in the child: connect, contract details for AAPL, then tick-by-tick, market data, depth and bars until one of each. */
const CLIENT = `
const { IBApi, EventName } = require(${JSON.stringify(stoqey)});
const port = Number(process.argv[1]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const ib = new IBApi({ host: '127.0.0.1', port });
const seen = new Set();
const done = (what, data) => {
  if (seen.has(what)) return;
  seen.add(what);
  out({ what, data });
  if (['nextValidId', 'contractDetails', 'contractDetailsEnd', 'tickByTickAllLast', 'tickByTickBidAsk', 'tickPrice', 'updateMktDepth', 'realtimeBar'].every((w) => seen.has(w))) {
    ib.disconnect();
    process.exit(0);
  }
};
ib.on(EventName.error, (err, code, reqId) => out({ what: 'error', data: { message: String(err && err.message), code, reqId } }));
ib.on(EventName.info, (message, code) => out({ what: 'info', data: { message, code } }));
ib.on(EventName.nextValidId, (id) => {
  done('nextValidId', id);
  ib.reqContractDetails(1, { symbol: 'AAPL', secType: 'STK', exchange: 'SMART', currency: 'USD' });
});
ib.on(EventName.managedAccounts, (a) => done('managedAccounts', a));
ib.on(EventName.contractDetails, (reqId, d) => {
  done('contractDetails', { reqId, conId: d.contract.conId, symbol: d.contract.symbol, primaryExch: d.contract.primaryExch, minTick: d.minTick, longName: d.longName });
  const c = { conId: d.contract.conId, symbol: 'AAPL', secType: 'STK', exchange: 'SMART', currency: 'USD' };
  ib.reqTickByTickData(2, c, 'AllLast', 0, false);
  ib.reqTickByTickData(3, c, 'BidAsk', 0, false);
  ib.reqMktData(4, c, '', false, false);
  ib.reqMktDepth(5, c, 10, true, []);
  ib.reqRealTimeBars(6, c, 5, 'TRADES', false, []);
});
ib.on(EventName.contractDetailsEnd, (reqId) => done('contractDetailsEnd', reqId));
ib.on(EventName.tickByTickAllLast, (reqId, type, time, price, size) => done('tickByTickAllLast', { reqId, time, price, size }));
ib.on(EventName.tickByTickBidAsk, (reqId, time, bid, ask, bidSize, askSize) => done('tickByTickBidAsk', { reqId, bid, ask, bidSize, askSize }));
ib.on(EventName.tickPrice, (reqId, type, price) => done('tickPrice', { reqId, type, price }));
ib.on(EventName.updateMktDepth, (reqId, position, operation, side, price, size) => done('updateMktDepth', { reqId, position, operation, side, price, size }));
ib.on(EventName.realtimeBar, (reqId, time, open, high, low, close, volume) => done('realtimeBar', { reqId, time, open, high, low, close, volume }));
ib.on(EventName.server, (version) => out({ what: 'server', data: version }));
ib.connect(11);
setTimeout(() => { out({ what: 'timeout', data: [...seen] }); process.exit(2); }, 15000);
`;

let sim: IbSimulator | undefined;
let cwd: string | undefined;
afterEach(async () => {
  await sim?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('@stoqey/ib (unmodified) against the TWS simulator', () => {
  it('negotiates version 193, gets next valid id, contract details, ticks, depth and a bar', async () => {
    sim = await startIbSimulator({ rate: 50, barEveryMs: 300 });
    cwd = mkdtempSync(join(tmpdir(), 'ib-interop-'));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', CLIENT, String(sim!.port)], { cwd, timeout: 20_000 }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${out}\n${errOut}`)) : resolve(out),
      );
    });
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { what: string; data: any });
    const get = (what: string) => events.find((e) => e.what === what)?.data;
    expect(get('server')).toBe(193);
    expect(get('nextValidId')).toBe(1);
    expect(get('managedAccounts')).toBe('DU1234567');
    expect(get('contractDetails')).toEqual({ reqId: 1, conId: 265598, symbol: 'AAPL', primaryExch: 'NASDAQ', minTick: 0.01, longName: 'APPLE INC' });
    expect(get('tickByTickAllLast').price).toBeGreaterThan(100);
    expect(get('tickByTickBidAsk').bid).toBeLessThan(get('tickByTickBidAsk').ask);
    expect(get('updateMktDepth')).toMatchObject({ reqId: 5, operation: 0 });
    expect(get('realtimeBar').low).toBeLessThanOrEqual(get('realtimeBar').high);
    expect(events.filter((e) => e.what === 'error')).toEqual([]);
    expect(sim.stats.pacingViolations).toBe(0);
  });
});
