/**
 * The connection task base on its own (a scripted transport, no socket): receive-time stamping
 * inside and outside socket reads, publish batching, bad frames, the stale watchdog, rejections
 * and the end of a task.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nowMs } from '../src/clock.js';
import { StatusCode } from '../src/records/types.js';
import type { StreamSpec } from '../src/venues/contract.js';
import { CounterSlot, type EndReason } from '../src/worker/protocol.js';
import { TaskBase, type Transport } from '../src/worker/task-base.js';
import { RIG_EXCHANGE_CODE, taskRig } from './helpers/task-rig.js';
import { waitFor } from './helpers/wait.js';

type Rig = ReturnType<typeof taskRig>;
const rigs: Rig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
});

/** A base running a transport whose `start` is `script`; `closed` records the end reason. */
function started(script: (base: TaskBase) => void, options: Parameters<typeof taskRig>[0] = {}) {
  const rig = taskRig(options);
  rigs.push(rig);
  const base = new TaskBase(rig.task, RIG_EXCHANGE_CODE);
  const closed: EndReason[] = [];
  const transport: Transport = {
    start: () => script(base),
    onControl: () => {},
    close: (reason) => {
      closed.push(reason);
    },
  };
  const result = base.run(transport);
  return { rig, base, result, closed };
}

const trade = (base: TaskBase, price: number) => base.sink.trade(1, 0, price, 1, price, 1);

describe('task base: receive time', () => {
  it('records of a socket read carry its time; records written outside a read (timer, REST answer) are stamped when written', async () => {
    let timerAt = 0;
    let restAt = 0;
    const { rig, base } = started((b) => {
      b.read(1000, () => trade(b, 1), undefined);
      b.after(20, () => {
        timerAt = nowMs();
        trade(b, 2); // a session's timer: nobody sets recvTs here
      });
      void Promise.resolve().then(() => {
        restAt = nowMs();
        trade(b, 3); // a REST answer's continuation
      });
    });
    await waitFor(() => rig.records().length >= 3, 'three trades published without an explicit publish');
    const [fromRead, fromRest, fromTimer] = rig.records();
    expect(fromRead).toMatchObject({ type: 'trade', price: 1, recvTs: 1000 });
    expect(fromRest!.price).toBe(3);
    expect(fromRest!.recvTs).toBeGreaterThanOrEqual(restAt);
    expect(fromTimer!.price).toBe(2);
    expect(fromTimer!.recvTs).toBeGreaterThanOrEqual(timerAt);
    base.end('closed', 0, 'done');
  });

  it('publishes the records of one read together, at the end of the read', async () => {
    const rig = taskRig({});
    rigs.push(rig);
    const base = new TaskBase(rig.task, RIG_EXCHANGE_CODE);
    base.read(
      5,
      () => {
        trade(base, 1);
        trade(base, 2);
      },
      undefined,
    );
    expect(rig.records()).toEqual([]);
    await Promise.resolve();
    expect(rig.records().map((r) => [r.price, r.recvTs])).toEqual([
      [1, 5],
      [2, 5],
    ]);
    expect(rig.counters[CounterSlot.records]).toBe(2);
  });
});

describe('task base: bad frames', () => {
  it('counts each, writes a badMessage status with the running count, logs the first 20 (bounded) and carries on', async () => {
    const { rig, base } = started((b) => {
      for (let i = 0; i < 25; i++) {
        b.read(
          7,
          () => {
            throw new Error(`bad ${'x'.repeat(1000)}`);
          },
          undefined,
          `frame ${i}`,
        );
      }
      b.read(8, () => trade(b, 9), undefined);
    });
    await waitFor(() => rig.records().length >= 26, 'statuses and the trade');
    const statuses = rig.records().filter((r) => r.type === 'status');
    expect(statuses.map((s) => s.detail)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(statuses.every((s) => s.status === 'badMessage' && s.recvTs === 7)).toBe(true);
    expect(rig.records().at(-1)).toMatchObject({ type: 'trade', price: 9 });
    expect(rig.counters[CounterSlot.badMessages]).toBe(25);
    await waitFor(() => rig.messages.filter((m) => m.type === 'log').length >= 20, 'logs');
    const logs = rig.messages.flatMap((m) => (m.type === 'log' ? [m] : []));
    expect(logs).toHaveLength(20);
    expect(logs[0]!.msg).toBe('bad frame skipped');
    expect(String(logs[0]!.fields!.problem).length).toBeLessThanOrEqual(301);
    expect(logs[0]!.fields!.frame).toBe('frame 0');
    base.end('closed', 0, 'done');
  });
});

describe('task base: stale watchdog', () => {
  it('reads that carry no data (heartbeats, acks) do not keep the task alive; it ends stale with a status and a message', async () => {
    const { rig, result } = started(
      (b) => {
        b.opened();
        b.startStaleWatchdog((idle) => `idle ${idle}`);
        b.every(10, () => b.read(nowMs(), () => b.sink.status(0, StatusCode.connected, 0), undefined));
      },
      { limits: { staleTimeoutMs: 150 } },
    );
    const r = await result;
    expect(r.reason).toBe('stale');
    expect(r.message).toMatch(/^idle \d+$/);
    await waitFor(() => rig.messages.some((m) => m.type === 'stale'), 'the stale message');
    const names = rig.records().map((x) => x.status);
    expect(names.slice(-2)).toEqual(['stale', 'disconnected']);
  });

  it('reads that carry data keep it alive', async () => {
    const { base, result } = started(
      (b) => {
        b.startStaleWatchdog(() => 'stale');
        b.every(10, () => b.read(nowMs(), () => trade(b, 1), undefined));
      },
      { limits: { staleTimeoutMs: 100 } },
    );
    let ended = false;
    void result.then(() => {
      ended = true;
    });
    const t0 = nowMs();
    await waitFor(() => nowMs() - t0 > 400, '4x the stale timeout');
    expect(ended).toBe(false);
    base.end('closed', 0, 'done');
    expect((await result).reason).toBe('closed');
  });
});

describe('task base: rejections and the end', () => {
  const spec: StreamSpec = { channel: 'book', symbol: 'A/B', symbolId: 4, native: 'AB' };

  it('a rejection writes a rejected status naming the record type and tells main', async () => {
    const { rig, base } = started((b) => b.reportRejected([spec], 'ERR_BAD_SYMBOL', 'A/B unknown'));
    await waitFor(() => rig.records().length >= 1 && rig.messages.length >= 1, 'status and message');
    expect(rig.records()[0]).toMatchObject({ type: 'status', status: 'rejected', symbolId: 4 });
    expect(rig.messages[0]).toEqual({
      type: 'rejected',
      streams: [{ channel: 'book', symbolId: 4, interval: undefined }],
      code: 'ERR_BAD_SYMBOL',
      message: 'A/B unknown',
    });
    base.end('closed', 0, 'done');
  });

  it('stop from main ends once: the transport closes with the reason, disconnected follows the open, the result says why', async () => {
    const { rig, base, result, closed } = started((b) => b.opened());
    rig.control({ type: 'stop' });
    const r = await result;
    base.end('error', 0, 'a second end is ignored');
    expect(r).toMatchObject({ reason: 'stopped', closeCode: 1000, message: 'stopped by the engine' });
    expect(closed).toEqual(['stopped']);
    expect(rig.records().map((x) => x.status)).toEqual(['connected', 'disconnected']);
    await waitFor(() => rig.messages.length > 0, 'the open message');
    expect(rig.messages.map((m) => m.type)).toEqual(['open']);
  });

  it('a task that never opened writes no disconnected status', async () => {
    const { rig, result } = started((b) => b.end('connect-failed', 0, 'refused'));
    expect((await result).reason).toBe('connect-failed');
    expect(rig.records()).toEqual([]);
  });
});
