import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { VENUE_SIMULATORS } from '../src/simulator/venues.js';

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
      expect(summary.latencyUs.p99).toBeGreaterThan(0);
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
