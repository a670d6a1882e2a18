/**
 * Soak: 24 streams (4 channels × 6 symbols) against a simulator in a child process, through the
 * fault proxy, with a fault injected every `--fault-every` seconds (reset, restart, blackhole,
 * latency, slicing, in turn). Every minute (`--report-every` s) it prints heap used, RSS, active
 * handles, messages, reconnects; at the end a verdict on whether memory is flat: the slope of a
 * least-squares line through RSS (and heap) over the last 2/3 of the samples.
 *
 *   npx tsx scripts/soak.ts --minutes 30 [--rate 50] [--fault-every 20] [--report-every 60]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createEngine } from '../src/engine/engine.js';
import { startFaultProxy } from '../test/faults/proxy.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const minutes = arg('minutes', 3);
const rate = arg('rate', 50);
const faultEverySec = arg('fault-every', 20);
const reportEverySec = arg('report-every', 60);
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'XRP/USDT', 'ADA/USDT'];

async function spawnSimulator(): Promise<{ child: ChildProcess; port: number }> {
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'simulate', '--port', '0', '--rate', String(rate), '--announce'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code} before it was ready`)));
  });
  lines.close();
  const { wsUrl } = JSON.parse(first) as { wsUrl: string };
  return { child, port: Number(new URL(wsUrl).port) };
}

function slopePerMin(samples: Array<{ t: number; v: number }>): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const mv = samples.reduce((s, x) => s + x.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.t - mt) * (x.v - mv);
    den += (x.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const sim = await spawnSimulator();
  const proxy = await startFaultProxy({ targetPort: sim.port, seed: 1 });
  const engine = createEngine({
    threads: 2,
    logger: pino({ level: 'error' }),
    venues: { binance: { wsUrl: proxy.wsUrl, restUrl: proxy.restUrl } },
    backoff: { initialDelayMs: 50, maxDelayMs: 1000, multiplier: 2 },
    limits: { pingIntervalMs: 1000, pongTimeoutMs: 1000, connectTimeoutMs: 2000 },
    circuitBreaker: { failureThreshold: 1000 },
  });
  let trades = 0;
  engine.onView((v) => {
    if (v.typeCode === 1) trades++;
  });
  // Two connections (different policies) so one fault does not take every stream down alike.
  engine.subscribe({ exchange: 'binance', channels: ['trades', 'quotes'], symbols: SYMBOLS, policy: 'block' });
  engine.subscribe({ exchange: 'binance', channels: ['book', 'candles'], symbols: SYMBOLS, policy: 'drop' });

  const faults: Array<[string, () => Promise<void> | void]> = [
    ['reset', () => proxy.reset()],
    ['restart 1 s', () => proxy.restart(1000)],
    ['blackhole 3 s', async () => {
      proxy.set({ blackhole: true });
      await new Promise((r) => setTimeout(r, 3000));
      proxy.set({ blackhole: false });
    }],
    ['latency 50±50 ms for 5 s', async () => {
      proxy.set({ latencyMs: 50, jitterMs: 50 });
      await new Promise((r) => setTimeout(r, 5000));
      proxy.set({ latencyMs: 0, jitterMs: 0 });
    }],
    ['slicing 5 B for 5 s', async () => {
      proxy.set({ sliceBytes: 5 });
      await new Promise((r) => setTimeout(r, 5000));
      proxy.set({ sliceBytes: 0 });
    }],
  ];
  let faultIndex = 0;
  const faultTimer = setInterval(() => {
    const [, run] = faults[faultIndex++ % faults.length]!;
    void run();
  }, faultEverySec * 1000);

  const t0 = Date.now();
  const samples: Array<{ t: number; rss: number; heap: number }> = [];
  const sample = () => {
    const m = process.memoryUsage();
    const s = engine.stats();
    samples.push({ t: Date.now() - t0, rss: m.rss, heap: m.heapUsed });
    console.log(
      `${((Date.now() - t0) / 60_000).toFixed(1).padStart(5)} min  heap ${mb(m.heapUsed).padStart(6)} MB  rss ${mb(m.rss).padStart(6)} MB  ` +
        `handles ${String(process.getActiveResourcesInfo().length).padStart(4)}  messages ${String(s.messages).padStart(9)}  ` +
        `trades ${String(trades).padStart(8)}  reconnects ${String(s.reconnects).padStart(3)}  faults ${faultIndex}  ` +
        `resyncs ${s.resyncs}  drops ${s.drops}  integrityErrors ${s.integrityErrors}`,
    );
  };
  // A sample every 10 s for the fit; a printed report every `reportEverySec`.
  const quietSamples: Array<{ t: number; rss: number; heap: number }> = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    quietSamples.push({ t: Date.now() - t0, rss: m.rss, heap: m.heapUsed });
  }, 10_000);
  const reporter = setInterval(sample, reportEverySec * 1000);
  await new Promise((r) => setTimeout(r, minutes * 60_000));
  clearInterval(faultTimer);
  clearInterval(reporter);
  clearInterval(sampler);
  sample();
  const all = [...quietSamples, ...samples].sort((a, b) => a.t - b.t);
  const tail = all.slice(Math.floor(all.length / 3));
  const rssSlope = slopePerMin(tail.map((x) => ({ t: x.t, v: x.rss })));
  const heapSlope = slopePerMin(tail.map((x) => ({ t: x.t, v: x.heap })));
  const s = engine.stats();
  await engine.close();
  await proxy.close();
  sim.child.kill('SIGTERM');
  // Only growth matters: a falling line (memory returned after a fault burst) is not a leak.
  const flat = rssSlope < 1024 * 1024 && heapSlope < 512 * 1024;
  console.log(
    `soak ${minutes} min: ${s.messages} messages, ${s.reconnects} reconnects, ${faultIndex} faults, integrityErrors ${s.integrityErrors}\n` +
      `RSS slope over the last 2/3 (${tail.length} samples): ${(rssSlope / 1024).toFixed(1)} KiB/min; heap slope ${(heapSlope / 1024).toFixed(1)} KiB/min\n` +
      `verdict: ${flat ? 'memory flat (RSS slope < 1 MiB/min, heap slope < 512 KiB/min)' : 'memory NOT flat'}`,
  );
  process.exitCode = flat && s.integrityErrors === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
