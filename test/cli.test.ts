import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/simulator/index.js';
import { VENUE_SIMULATORS } from '../src/simulator/venues.js';
import { deleteStream, SHARED_NATS, uniqueNames } from './helpers/nats-server.js';

// The built CLI, as users run it (`npm test` builds first).
const MAIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; fails if it has not exited by the deadline (a hang is a bug). */
function cli(args: string[], deadlineMs: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      reject(new Error(`ringfeed ${args.join(' ')} did not exit within ${deadlineMs} ms; stdout: ${stdout.slice(-300)}`));
    }, deadlineMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does)`);
});

describe('ringfeed run --venue', () => {
  // Sequential: each run starts a simulator process and a worker pool.
  for (const venue of Object.keys(VENUE_SIMULATORS)) {
    it(`${venue}: streams from its embedded simulator, prints the JSON summary last and exits`, async () => {
      const { code, stdout, stderr } = await cli(['run', '--venue', venue, '--seconds', '2', '--json'], 25_000);
      expect(code, stderr).toBe(0);
      const summary = JSON.parse(lastLine(stdout));
      expect(summary.streams).toBeGreaterThanOrEqual(8);
      expect(summary.messages).toBeGreaterThan(0);
      expect(summary).toMatchObject({ drops: 0, gaps: 0, reconnects: 0 });
      expect(summary.recvToConsumeUs.p99).toBeGreaterThan(0);
      expect(summary.exchangeToConsumeUs.p99).toBeGreaterThan(0);
      // latencyUs is the alias of recvToConsumeUs kept for older readers.
      expect(summary.latencyUs).toEqual(summary.recvToConsumeUs);
    });
  }

  it('names the simulated venues when asked for one it has no simulator for', async () => {
    const { code, stderr } = await cli(['run', '--venue', 'nosuch', '--seconds', '1'], 15_000);
    expect(code).toBe(2);
    expect(stderr).toContain('no simulator for venue nosuch');
    expect(stderr).toContain('kraken');
  });

  it('rejects a channel the venue does not have, naming it, and still exits', async () => {
    const { code, stderr } = await cli(['run', '--venue', 'kraken', '--channels', 'quotes', '--seconds', '1'], 20_000);
    expect(code).toBe(2);
    expect(stderr).toMatch(/quotes/);
  });
});

describe('ringfeed stream for a ccxt venue against ringfeed simulate --replay-ccxt', () => {
  const sessions = [
    { venue: 'kucoin', file: '../../shared/fixtures/ccxt-ws/kucoin.json', types: ['trade', 'ticker', 'candle', 'book'] },
    { venue: 'bingx', file: '../../shared/fixtures/ccxt-ws/bingx.json', types: ['trade', 'ticker', 'candle', 'book'] },
    // Hand-written from KuCoin's docs (no recording exists): trades, ticker, incremental book.
    { venue: 'kucoinfutures', file: './fixtures/kucoinfutures.json', types: ['trade', 'ticker', 'book'] },
  ];
  for (const { venue, file, types } of sessions) {
    it(`${venue}: the replayed session streams through the CLI as normalized records`, async () => {
      const fixture = fileURLToPath(new URL(file, import.meta.url));
      const sim = spawn(process.execPath, [MAIN, 'simulate', '--replay-ccxt', fixture, '--port', '0', '--announce'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const first = await new Promise<string>((resolve, reject) => {
          createInterface({ input: sim.stdout }).once('line', resolve);
          sim.once('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
        });
        const { wsUrl, restUrl, channels, symbols, ccxtOptions } = JSON.parse(first);
        const args = ['stream', venue, channels, ...symbols, '--url', wsUrl, '--rest-url', restUrl];
        const { code, stdout, stderr } = await cli([...args, '--ccxt-options', JSON.stringify(ccxtOptions), '--seconds', '5'], 25_000);
        expect(code, stderr).toBe(0);
        const records = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
        const market = records.filter((r) => r.type !== 'status');
        expect(new Set(market.map((r) => r.type))).toEqual(new Set(types));
        expect(new Set(market.map((r) => r.symbol))).toEqual(new Set(symbols));
        expect(market.every((r) => r.exchange === venue)).toBe(true);
        expect(records.some((r) => r.type === 'status' && r.status === 'badMessage')).toBe(false);
      } finally {
        sim.kill('SIGTERM');
      }
    });
  }

  it('refuses --ccxt-options that are not JSON, naming the option', async () => {
    const { code, stderr } = await cli(['stream', 'kucoin', 'trades', 'BTC/USDT', '--ccxt-options', '{nope', '--seconds', '1'], 15_000);
    expect(code).toBe(2);
    expect(stderr).toContain('--ccxt-options is not valid JSON');
  });
});

describe('ringfeed simulate --venue futu, then stream futu --url tcp://', () => {
  it('prints the TCP endpoint and the futu-api WebSocket port; stream takes the tcp:// URL', async () => {
    const sim = spawn(process.execPath, [MAIN, 'simulate', '--venue', 'futu', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: sim.stdout }).once('line', resolve);
        sim.once('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
      });
      const m = /^simulator listening: (tcp:\/\/127\.0\.0\.1:\d+) and ws:\/\/127\.0\.0\.1:(\d+) \(OpenD's WebSocket port, for futu-api\)$/.exec(first);
      expect(m, first).not.toBeNull();
      expect(first).not.toContain('http:');
      const { code, stdout, stderr } = await cli(['stream', 'futu', 'trades', 'HK.00700', '--url', m![1]!, '--seconds', '2'], 25_000);
      expect(code, stderr).toBe(0);
      const trades = stdout.trimEnd().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'trade');
      expect(trades.length).toBeGreaterThan(0);
      expect(trades.every((r) => r.exchange === 'futu' && r.symbol === 'HK.00700')).toBe(true);
    } finally {
      sim.kill('SIGTERM');
    }
  });

  it('refuses listen --core with a replay start, and --book-snapshot-ms without --publish', async () => {
    expectNamedError(await cli(['listen', 'nats://127.0.0.1:1', '--core', '--from', 'all', '--seconds', '1'], 15_000), '--core', '--from');
    expectNamedError(await cli(['run', '--book-snapshot-ms', '500', '--seconds', '1'], 15_000), '--book-snapshot-ms needs --publish');
  });

  it('refuses a tcp:// --url for a WebSocket venue, naming the option', async () => {
    expectNamedError(await cli(['stream', 'binance', 'trades', 'BTC/USDT', '--url', 'tcp://127.0.0.1:1', '--seconds', '1'], 15_000), '--url', 'ws:');
  });
});

describe('ringfeed stream --publish, then ringfeed listen --from all', () => {
  it('every record stream printed is in JetStream, and listen reads them back', async () => {
    const sim = await startSimulator({ port: 0, seed: 5, ratePerStream: 50 });
    const names = uniqueNames('cli-stream');
    try {
      const streamed = await cli(
        ['stream', 'binance', 'trades', 'BTC/USDT', '--url', sim.wsUrl, '--publish', SHARED_NATS, '--stream', names.stream, '--prefix', names.prefix, '--seconds', '2'],
        25_000,
      );
      expect(streamed.code, streamed.stderr).toBe(0);
      const printed = streamed.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(printed.filter((r) => r.type === 'trade').length).toBeGreaterThan(10);
      const listened = await cli(
        ['listen', SHARED_NATS, '--stream', names.stream, '--prefix', names.prefix, '--from', 'all', '--seconds', '2', '--json'],
        25_000,
      );
      expect(listened.code, listened.stderr).toBe(0);
      const summary = JSON.parse(lastLine(listened.stdout));
      // `messages` counts market records, as run's summary does (statuses are not messages).
      expect(summary.messages).toBe(printed.filter((r) => r.type !== 'status').length);
      expect(summary.gaps).toBe(0);
    } finally {
      await sim.close();
      await deleteStream(SHARED_NATS, names.stream);
    }
  });
});

/** A bad argument: exit 2 and one line naming it, no stack trace. */
function expectNamedError(run: Exit, ...names: string[]): void {
  expect(run.code, run.stderr).toBe(2);
  for (const name of names) expect(run.stderr).toContain(name);
  expect(run.stderr).not.toMatch(/\n\s+at |node:internal|Error:/);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
}

describe('ringfeed simulate on a port another process holds', () => {
  const fixture = fileURLToPath(new URL('../../shared/fixtures/ccxt-ws/kucoin.json', import.meta.url));
  // The holder is a uWebSockets.js simulator: uWS listens with SO_REUSEPORT, so a second uWS
  // listener on its port would "succeed" and share connections with it.
  for (const args of [['simulate'], ['simulate', '--venue', 'kraken'], ['simulate', '--replay-ccxt', fixture]]) {
    it(`${args.join(' ').replace(fixture, 'kucoin.json')} --port <taken>: exit 2 naming the port`, async () => {
      const holder = await startSimulator({ host: '127.0.0.1', port: 0 });
      try {
        const run = await cli([...args, '--port', String(holder.port)], 10_000);
        expectNamedError(run, `port ${holder.port} is in use (--port)`);
        expect(run.stdout).not.toContain('listening');
      } finally {
        await holder.close();
      }
    });
  }
});

describe('bad arguments exit 2 naming the argument', () => {
  it.each([
    [['run', '--seconds', '-1'], '--seconds'],
    [['run', '--rate', '-5'], '--rate'],
    [['run', '--rate', 'abc'], '--rate'],
    [['simulate', '--port', '1e999'], '--port'],
    [['simulate', '--seed', '-0.5'], '--seed'],
    [['simulate', '--speed', 'NaN'], '--speed'],
    [['run', '--frobnicate'], '--frobnicate'],
    [['frobnicate'], 'unknown command frobnicate'],
  ])('%j', async (args, name) => {
    expectNamedError(await cli(args, 10_000), name);
  });
});

describe('ringfeed run on a terminal', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('80×24: every frame keeps title, totals and latency, at most 24 lines of at most 80 columns', async () => {
    // `script` runs the CLI on a pseudo-terminal whose size stty sets.
    const command = `stty cols 80 rows 24; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} run --seconds 3`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`ringfeed run on a terminal did not exit; got ${text.slice(-300)}`));
      }, 25_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(text.replaceAll('\r', ''));
      });
    });
    const frames = out.split('\x1b[H\x1b[2J').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    // The last frame is followed by the summary line.
    const last = frames.at(-1)!.split('\n');
    expect(JSON.parse(last.at(-2)!).streams).toBe(24);
    frames[frames.length - 1] = last.slice(0, -2).join('\n');
    for (const frame of frames) {
      const lines = frame.split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
      expect(lines[0]).toMatch(/^ringfeed — up \d+ s, 24 streams/);
      expect(frame).toMatch(/^total .*msg\/s/m);
      expect(frame).toMatch(/^latency µs +recv→consume p50/m);
      expect(lines.at(-1)).toMatch(/^\+\d+ more streams$/);
    }
  });
});
