/**
 * The simulator's own process for the bench. Like `ringfeed simulate --announce` it prints one
 * `{"wsUrl","restUrl"}` line per start, but takes full `SimulatorOptions` (per-type rates, depth
 * cadence and levels, tick) over IPC and reports its send counters, which the CLI cannot.
 * One simulator at a time; each phase gets a fresh one (same seed → same market).
 *
 * `startVenue({ venue, options })` starts the Futu (OpenD) or IB (TWS) simulator instead, with
 * that simulator's own options; its `stats` then give `framesSent` as the packets the venue sent
 * (Futu: `packetsOut`; IB counts none: null) and `framesDropped` 0.
 */
import {
  type FutuSimulatorOptions,
  type IbSimulatorOptions,
  type Simulator,
  type SimulatorOptions,
  type SimulatorStats,
  startFutuSimulator,
  startIbSimulator,
  startSimulator,
} from '../src/simulator/index.js';
import { serve } from './ipc.js';

/** A running simulator: how to close it and how many frames it has sent (null: not counted). */
interface Running {
  close(): Promise<void>;
  stats(): SimulatorStats | { framesSent: number | null; framesDropped: number };
}

export type VenueStart =
  | { readonly venue: 'binance'; readonly options: SimulatorOptions }
  | { readonly venue: 'futu'; readonly options: FutuSimulatorOptions }
  | { readonly venue: 'ib'; readonly options: IbSimulatorOptions };

let sim: Running | undefined;

async function stop(): Promise<void> {
  const s = sim;
  sim = undefined;
  await s?.close();
}

function announce(s: { wsUrl: string; restUrl: string }): { wsUrl: string; restUrl: string } {
  const address = { wsUrl: s.wsUrl, restUrl: s.restUrl };
  process.stdout.write(`${JSON.stringify(address)}\n`);
  return address;
}

async function startVenue(arg: VenueStart): Promise<Running & { wsUrl: string; restUrl: string }> {
  const where = { port: 0, host: '127.0.0.1' };
  switch (arg.venue) {
    case 'binance': {
      const s: Simulator = await startSimulator({ ...arg.options, ...where });
      return { wsUrl: s.wsUrl, restUrl: s.restUrl, close: () => s.close(), stats: () => s.stats() };
    }
    case 'futu': {
      const s = await startFutuSimulator({ wsPort: -1, ...arg.options, ...where });
      return { wsUrl: s.wsUrl, restUrl: s.restUrl, close: () => s.close(), stats: () => ({ framesSent: s.stats().packetsOut, framesDropped: 0 }) };
    }
    case 'ib': {
      const s = await startIbSimulator({ ...arg.options, ...where });
      return { wsUrl: s.wsUrl, restUrl: s.restUrl, close: () => s.close(), stats: () => ({ framesSent: null, framesDropped: 0 }) };
    }
    default:
      throw new Error(`sim-host: startVenue: unknown venue ${String((arg as { venue: unknown }).venue)}; expected binance, futu, ib`);
  }
}

serve({
  async start(arg) {
    await stop();
    const s = await startVenue({ venue: 'binance', options: arg as SimulatorOptions });
    sim = s;
    return announce(s);
  },
  async startVenue(arg) {
    await stop();
    const s = await startVenue(arg as VenueStart);
    sim = s;
    return announce(s);
  },
  stats() {
    if (!sim) throw new Error('no simulator running');
    const cpu = process.cpuUsage();
    return { ...sim.stats(), cpuUs: cpu.user + cpu.system };
  },
  stop,
});
