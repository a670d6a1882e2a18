/**
 * CPU per message: ccxt's binance (workers/ccxt-connection.ts) vs the native Binance adapter on
 * the same simulator load. The simulator and the ccxt front run in a child process so that only
 * the engine (main thread + workers) is measured, by process CPU time over a fixed window.
 * Run: `npx tsx bench/ccxt-vs-native.ts [seconds]`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createEngine } from '../src/engine/engine.js';

const CHANNELS = ['trades', 'book', 'quotes'] as const;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT'];

interface Endpoints {
  simWs: string;
  simRest: string;
  frontWs: string;
  frontRest: string;
}

async function serve(): Promise<void> {
  const { startSimulator } = await import('../src/simulator/index.js');
  const { binanceFront } = await import('../test/helpers/ccxt.js');
  const sim = await startSimulator({ seed: 5, ratePerStream: 150 });
  const front = await binanceFront(sim);
  const ep: Endpoints = { simWs: sim.wsUrl, simRest: sim.restUrl, frontWs: front.wsUrl, frontRest: front.restUrl };
  process.stdout.write(`${JSON.stringify(ep)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void front.close().then(() => sim.close()).then(() => process.exit(0));
  });
}

async function measure(label: string, exchange: string, ep: Endpoints, seconds: number): Promise<void> {
  const logs: string[] = [];
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const engine = createEngine({
    threads: 1,
    logger: pino({ level: 'debug' }, { write: (l: string) => logs.push(l) }),
    venues: {
      binance: { wsUrl: ep.simWs, restUrl: ep.simRest },
      'ccxt:binance': { wsUrl: ep.frontWs, restUrl: ep.frontRest },
    },
  });
  let data = 0;
  engine.onView((v) => {
    if (v.typeCode !== 6) data++;
  });
  engine.subscribe({ exchange, channels: [...CHANNELS], symbols: SYMBOLS });
  while (data === 0) await new Promise((r) => setTimeout(r, 5));
  const firstDataMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  const rssWarm = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const d0 = data;
  const f0 = engine.stats().connections.reduce((s, c) => s + c.frames, 0);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const records = data - d0;
  const frames = engine.stats().connections.reduce((s, c) => s + c.frames, 0) - f0;
  const cpuUs = cpu.user + cpu.system;
  const loaded = logs.find((l) => l.includes('"ccxt loaded"'));
  console.log(
    JSON.stringify({
      path: label,
      seconds,
      records,
      frames,
      recordsPerSec: Math.round(records / seconds),
      cpuPct: Math.round((cpuUs / (seconds * 1e6)) * 1000) / 10,
      cpuUsPerRecord: Math.round((cpuUs / records) * 100) / 100,
      cpuUsPerFrame: Math.round((cpuUs / frames) * 100) / 100,
      firstDataMs: Math.round(firstDataMs),
      rssGrowthMb: Math.round((rssWarm - rss0) / 1e5) / 10,
      ccxtLoad: loaded ? JSON.parse(loaded) : undefined,
    }),
  );
  await engine.close();
}

if (process.argv.includes('--serve')) {
  await serve();
} else {
  const seconds = Number(process.argv[2] ?? 8);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ep = await new Promise<Endpoints>((resolve) => {
    child.stdout.once('data', (b: Buffer) => resolve(JSON.parse(b.toString())));
  });
  await measure('native binance', 'binance', ep, seconds);
  await measure('ccxt binance', 'ccxt:binance', ep, seconds);
  child.stdin.end();
}
