/**
 * With only loopback endpoints configured, the CLI never tries to reach anything else: the
 * built CLI runs with test/helpers/net-guard.cjs preloaded in every thread (it refuses and
 * records every non-loopback connect, DNS lookup and fetch), and the record must stay empty.
 * Book channels make the engine fetch REST snapshots, so `--url` without `--rest-url` must
 * send them to the same loopback host rather than the venue's production REST host.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCcxtFixture, startCcxtReplay } from '../src/simulator/ccxt/replay.js';
import { type Simulator, startSimulator } from '../src/simulator/index.js';

const MAIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const GUARD = fileURLToPath(new URL('./helpers/net-guard.cjs', import.meta.url));

interface Guarded {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Refused non-loopback attempts, one per line. */
  refused: Array<{ via: string; host: string; threadId: number }>;
  /** The threads the guard loaded in. */
  loaded: Array<{ pid: number; threadId: number }>;
}

let dir: string;
let runs = 0;

function jsonLines<T>(file: string): T[] {
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as T);
}

/** Runs `command args` with the guard in NODE_OPTIONS; fails if it has not exited by the deadline. */
function guarded(command: string, args: string[], deadlineMs: number): Promise<Guarded> {
  const log = join(dir, `refused-${++runs}.jsonl`);
  const loadedLog = join(dir, `loaded-${runs}.jsonl`);
  writeFileSync(log, '');
  writeFileSync(loadedLog, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: `--require=${GUARD}`,
    RINGFEED_NET_GUARD_LOG: log,
    RINGFEED_NET_GUARD_LOADED: loadedLog,
  };
  // Only what the command line configures: no endpoint from the environment.
  for (const key of Object.keys(env)) if (/^RINGFEED_.*_(WS|REST)_URL$/.test(key)) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${deadlineMs} ms; stderr: ${stderr.slice(-300)}`));
    }, deadlineMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, refused: jsonLines(log), loaded: jsonLines(loadedLog) });
    });
  });
}

function records(stdout: string): Array<{ type: string; symbol?: string; status?: string }> {
  return stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The guard must have run in the CLI's main thread and in at least one of its worker threads. */
function expectGuardInWorkers(run: Guarded): void {
  const threads = new Set(run.loaded.map((l) => l.threadId));
  expect(threads.has(0), 'guard loaded in the main thread').toBe(true);
  expect([...threads].some((t) => t > 0), `guard loaded in a worker thread; loaded in ${[...threads].join(', ')}`).toBe(true);
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'ringfeed-net-guard-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the net guard itself (negative control)', () => {
  // Under `unshare -n` (a network namespace of its own, loopback only) nothing could leave even
  // if the guard let an attempt through; the guard still has to record every attempt.
  const isolated = spawnSync('unshare', ['-n', 'true']).status === 0;

  it(`records and refuses non-loopback connects, lookups and fetches, in worker threads too${isolated ? ' (under unshare -n)' : ''}`, async () => {
    const script = `
      import dns from 'node:dns';
      import net from 'node:net';
      import tls from 'node:tls';
      import { Worker } from 'node:worker_threads';
      const settled = (socket) => new Promise((resolve) => {
        socket.once('error', (e) => resolve(e.message));
        socket.once('connect', () => { socket.destroy(); resolve('connected'); });
      });
      const out = {};
      out.loopback = await settled(net.connect(9, '127.0.0.1'));
      out.net = await settled(net.connect(443, '203.0.113.1'));
      out.tls = await settled(tls.connect({ host: '203.0.113.1', port: 443, servername: 'x.example' }));
      out.lookup = await new Promise((resolve) => dns.lookup('ringfeed.example', (e) => resolve(e?.code ?? 'resolved')));
      out.promisesLookup = await dns.promises.lookup('ringfeed.example').then(() => 'resolved', (e) => e.code);
      out.fetch = await fetch('http://203.0.113.1/').then(() => 'fetched', (e) => e.message);
      await new Promise((resolve, reject) => {
        const w = new Worker("import('node:net').then(({ default: net }) => net.connect(443, '203.0.113.2').once('error', () => {}).once('close', () => process.exit(0)))", { eval: true });
        w.once('exit', resolve);
        w.once('error', reject);
      });
      console.log(JSON.stringify(out));
    `;
    const node = [process.execPath, '--input-type=module', '-e', script];
    const run = isolated ? await guarded('unshare', ['-n', ...node], 15_000) : await guarded(node[0]!, node.slice(1), 15_000);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(out.net).toMatch(/net-guard: refused/);
    expect(out.fetch).toMatch(/net-guard: refused/);
    expect(out.lookup).toBe('ENOTFOUND');
    expect(out.promisesLookup).toBe('ENOTFOUND');
    const vias = run.refused.map((r) => `${r.via} ${r.host}`);
    expect(vias).toEqual(
      expect.arrayContaining([
        'net.Socket.connect 203.0.113.1',
        'tls.connect 203.0.113.1',
        'dns.lookup ringfeed.example',
        'dns.promises.lookup ringfeed.example',
        'fetch 203.0.113.1',
        'net.Socket.connect 203.0.113.2',
      ]),
    );
    expect(run.refused.find((r) => r.host === '203.0.113.2')!.threadId).toBeGreaterThan(0);
    // Loopback is let through (refused by the kernel here, not by the guard) and not recorded.
    expect(out.loopback).not.toMatch(/net-guard/);
    expect(run.refused.some((r) => r.host.startsWith('127.'))).toBe(false);
  });
});

describe('ringfeed with only loopback endpoints configured never leaves loopback', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ host: '127.0.0.1', port: 0, ratePerStream: 40 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('run --url ws://127.0.0.1:<port> (no --rest-url) with book channels: messages flow, no other host is tried', async () => {
    const args = [MAIN, 'run', '--url', sim.wsUrl, '--seconds', '3', '--json', '--channels', 'trades,book', '--symbols', 'BTC/USDT,ETH/USDT'];
    const run = await guarded(process.execPath, args, 30_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.refused).toEqual([]);
    expectGuardInWorkers(run);
    const summary = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);
    expect(summary.messages).toBeGreaterThan(0);
    expect(summary.streams).toBe(4);
  });

  it('stream binance book --url ws://127.0.0.1:<port>: the depth snapshot comes from the same loopback host', async () => {
    const args = [MAIN, 'stream', 'binance', 'book', 'BTC/USDT', '--url', sim.wsUrl, '--seconds', '3'];
    const run = await guarded(process.execPath, args, 30_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.refused).toEqual([]);
    expectGuardInWorkers(run);
    // Book records exist only once the REST snapshot has been applied.
    const books = records(run.stdout).filter((r) => r.type === 'book');
    expect(books.length).toBeGreaterThan(0);
  });

  it('stream kucoin (ccxt) --url ws://127.0.0.1:<port> (no --rest-url): ccxt REST calls stay on loopback too', async () => {
    const fixture = loadCcxtFixture(new URL('../../shared/fixtures/ccxt-ws/kucoin.json', import.meta.url));
    const replay = await startCcxtReplay(fixture, { host: '127.0.0.1', port: 0 });
    try {
      const { server, ccxtOptions, symbols } = replay;
      const args = [MAIN, 'stream', 'kucoin', 'trades,book', ...symbols, '--url', server.wsUrl];
      const run = await guarded(process.execPath, [...args, '--ccxt-options', JSON.stringify(ccxtOptions), '--seconds', '5'], 30_000);
      expect(run.code, run.stderr).toBe(0);
      expect(run.refused).toEqual([]);
      expectGuardInWorkers(run);
      const market = records(run.stdout).filter((r) => r.type !== 'status');
      expect(new Set(market.map((r) => r.type))).toEqual(new Set(['trade', 'book']));
    } finally {
      await replay.close();
    }
  });
});
