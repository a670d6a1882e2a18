/**
 * The simulator's own process for the bench. Like `ringfeed simulate --announce` it prints one
 * `{"wsUrl","restUrl"}` line per start, but takes full `SimulatorOptions` (per-type rates, depth
 * cadence and levels, tick) over IPC and reports its send counters, which the CLI cannot.
 * One simulator at a time; each phase gets a fresh one (same seed → same market).
 */
import { type Simulator, type SimulatorOptions, type SimulatorStats, startSimulator } from '../src/simulator/index.js';
import { serve } from './ipc.js';

let sim: Simulator | undefined;

async function stop(): Promise<void> {
  const s = sim;
  sim = undefined;
  await s?.close();
}

serve({
  async start(arg) {
    await stop();
    sim = await startSimulator({ ...(arg as SimulatorOptions), port: 0, host: '127.0.0.1' });
    const address = { wsUrl: sim.wsUrl, restUrl: sim.restUrl };
    process.stdout.write(`${JSON.stringify(address)}\n`);
    return address;
  },
  stats(): SimulatorStats & { cpuUs: number } {
    if (!sim) throw new Error('no simulator running');
    const cpu = process.cpuUsage();
    return { ...sim.stats(), cpuUs: cpu.user + cpu.system };
  },
  stop,
});
