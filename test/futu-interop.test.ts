/**
 * The unmodified `futu-api` npm client (OpenD's WebSocket port protocol) against our OpenD
 * simulator: it logs in, subscribes with Qot_Sub and receives pushes. `futu-api` needs a global
 * WebSocket (a browser API Node 20 lacks): `ws` is installed as one for this file only.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type FutuSimulator, startFutuSimulator } from '../src/simulator/index.js';
import { waitFor } from './helpers/wait.js';

/** Through a variable: the package ships no type declarations. */
const FUTU_API = 'futu-api';
let sim: FutuSimulator;
const hadWebSocket = 'WebSocket' in globalThis;
const saved = (globalThis as { WebSocket?: unknown }).WebSocket;

beforeAll(async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  vi.spyOn(console, 'debug').mockImplementation(() => {}); // futu-api logs every connection event
  sim = await startFutuSimulator({ seed: 9, ratePerSecurity: 50 });
});
afterAll(async () => {
  await sim.close();
  vi.restoreAllMocks();
  if (hadWebSocket) (globalThis as { WebSocket?: unknown }).WebSocket = saved;
  else delete (globalThis as { WebSocket?: unknown }).WebSocket;
});

interface FutuApiClient {
  onlogin: ((ok: boolean, msg: unknown) => void) | null;
  onPush: ((cmd: number, msg: { s2c?: { security?: { code: string }; tickerList?: unknown[] } }) => void) | null;
  start(ip: string, port: number, ssl: boolean, key: string | null): void;
  Sub(req: unknown): Promise<{ retType: number }>;
  GetGlobalState(req: unknown): Promise<{ retType: number; s2c: { marketHK: number } }>;
  stop(): void;
  websock: { close(): void };
}

describe('futu-api (unmodified) against the OpenD simulator WebSocket port', () => {
  it('logs in, subscribes and receives ticker and order book pushes', async () => {
    const { default: Ftws } = (await import(FUTU_API)) as unknown as { default: new () => FutuApiClient };
    const client = new Ftws();
    let login: boolean | undefined;
    const pushes: Array<{ cmd: number; code?: string }> = [];
    client.onlogin = (ok) => {
      login = ok;
    };
    client.onPush = (cmd, msg) => pushes.push({ cmd, code: msg.s2c?.security?.code });
    client.start('127.0.0.1', sim.wsPort, false, null);
    await waitFor(() => login !== undefined, 'futu-api login');
    expect(login).toBe(true);
    const state = await client.GetGlobalState({ c2s: { userID: 0 } });
    expect(state.retType).toBe(0);
    expect(state.s2c.marketHK).toBe(5);
    const sub = await client.Sub({
      c2s: { securityList: [{ market: 1, code: '00700' }], subTypeList: [4, 2], isSubOrUnSub: true, isRegOrUnRegPush: true },
    });
    expect(sub.retType).toBe(0);
    await waitFor(() => pushes.some((p) => p.cmd === 3011) && pushes.some((p) => p.cmd === 3013), 'ticker and order book pushes');
    expect(pushes.every((p) => p.code === '00700')).toBe(true);
    // A refusal reaches futu-api as a rejected promise with OpenD's retType/retMsg.
    await expect(
      client.Sub({ c2s: { securityList: [{ market: 1, code: '99999' }], subTypeList: [4], isSubOrUnSub: true } }),
    ).rejects.toMatchObject({ retType: -1, retMsg: expect.stringMatching(/Unknown stock/) });
    client.stop();
    client.websock.close();
  });
});
