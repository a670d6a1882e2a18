#!/usr/bin/env node
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { checkPolicy } from '../config.js';
import { createEngine, type Engine, type EngineStats, REDACT_PATHS } from '../engine.js';
import { CCXT_REPLAY_CHANNEL, type CcxtReplay, loadCcxtFixture, startCcxtReplay } from '../simulator/ccxt-replay.js';
import { venueSimulator } from '../simulator/index.js';
import { CCXT_OPTIONS_ENV } from '../venues/ccxt-types.js';
import { renderDashboard, summaryLine } from './dashboard.js';

const USAGE = `ringfeed — real-time market data engine

Usage:
  ringfeed run [options]            run the engine (default: against the embedded simulator)
                                    and show a live view; --json prints one summary line
  ringfeed stream <venue> <channels> <symbols...> [options]
                                    print normalized records, one JSON per line
                                    e.g. ringfeed stream binance trades,depth BTC/USDT ETH/USDT
  ringfeed simulate [options]       start the simulator alone

Options (run, stream):
  --seconds N        stop after N seconds (run: 0 = until Ctrl-C)
  --json             run: print only the final JSON summary (last line of stdout)
  --url URL          venue WebSocket base URL (else RINGFEED_<VENUE>_WS_URL, else live venue;
                     run without --url starts the embedded simulator)
  --rest-url URL     venue REST base URL (else RINGFEED_<VENUE>_REST_URL)
  --venue V          run, simulate: binance (default), binance-usdm, coinbase, kraken, bybit, okx
  --symbols A,B      run: symbols (default per venue; binance: six USDT pairs)
  --channels A,B     run: channels (default per venue; binance: trades,quotes,book,candles)
  --policy P         backpressure policy: block | drop | conflate (default block)
  --rate N           run with the embedded simulator: messages/s per stream (default 50)
  --log-level L      trace | debug | info | warn | error (default warn; logs go to stderr)
  --via V            stream: native | ccxt (default: native adapter where one exists)
  --ccxt-options J   stream: ccxt venue settings, JSON keyed by exchange id (markets, config,
                     bookLimit); same as env RINGFEED_CCXT_OPTIONS
Options (simulate):
  --host H --port N  listen address (default 127.0.0.1:9443; 0 = any free port)
  --rate N --seed N  messages/s per stream, random seed
  --replay FILE      replay a cryptofeed capture (with --rest FILE for its REST log)
  --speed S          replay speed: recorded | max | a multiplier (default recorded)
  --replay-ccxt FILE replay a ccxt session file (ccxt-ws/kucoin.json, bingx.json, or the
                     hand-written test/fixtures/kucoinfutures.json) to a ccxt client: prints
                     the stream command to run against it
`;

function fail(message: string): never {
  process.stderr.write(`ringfeed: ${message}\n`);
  process.exit(2);
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seconds: { type: 'string' },
        json: { type: 'boolean', default: false },
        url: { type: 'string' },
        'rest-url': { type: 'string' },
        symbols: { type: 'string' },
        channels: { type: 'string' },
        venue: { type: 'string', default: 'binance' },
        policy: { type: 'string', default: 'block' },
        rate: { type: 'string', default: '50' },
        'log-level': { type: 'string', default: 'warn' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '9443' },
        seed: { type: 'string', default: '1' },
        replay: { type: 'string' },
        rest: { type: 'string' },
        speed: { type: 'string', default: 'recorded' },
        announce: { type: 'boolean', default: false },
        via: { type: 'string' },
        'ccxt-options': { type: 'string' },
        'replay-ccxt': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`);
  }
}

type Args = ReturnType<typeof parse>['values'];

function number(value: string | undefined, name: string, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < min) fail(`--${name} must be a number >= ${min}; got ${value}`);
  return n;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function logger(args: Args) {
  const level = args['log-level']!;
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(level)) fail(`--log-level must be trace|debug|info|warn|error`);
  return pino({ name: 'ringfeed', level, redact: REDACT_PATHS }, pino.destination({ dest: 2, sync: false }));
}

/** Starts the simulator in a child process so it does not share the consumer's thread. */
async function spawnSimulator(venue: string, rate: number): Promise<{ child: ChildProcess; wsUrl: string; restUrl: string }> {
  const args = ['simulate', '--venue', venue, '--port', '0', '--rate', String(rate), '--announce'];
  const child = fork(fileURLToPath(import.meta.url), args, {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`simulator exited with code ${code} before it was ready`)));
  });
  lines.close();
  const { wsUrl, restUrl } = JSON.parse(first) as { wsUrl: string; restUrl: string };
  return { child, wsUrl, restUrl };
}

/**
 * The IPC channel keeps both processes alive while it is open: disconnect it as well as
 * signalling, or parent and child can wait on each other forever.
 */
function stopSimulator(child: ChildProcess | undefined): void {
  if (child === undefined) return;
  if (child.connected) child.disconnect();
  child.kill('SIGTERM');
}

function simulatorFor(venue: string) {
  try {
    return venueSimulator(venue);
  } catch (err) {
    fail((err as Error).message);
  }
}

function onSignal(stop: () => void): void {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function run(args: Args): Promise<void> {
  const seconds = number(args.seconds ?? '0', 'seconds', 0);
  const policy = checkPolicy(args.policy, '--policy');
  const log = logger(args);
  const venue = args.venue!;
  const defaults = simulatorFor(venue);
  let simulator: Awaited<ReturnType<typeof spawnSimulator>> | undefined;
  let wsUrl = args.url;
  let restUrl = args['rest-url'];
  if (!wsUrl) {
    simulator = await spawnSimulator(venue, number(args.rate, 'rate', 0));
    wsUrl = simulator.wsUrl;
    restUrl = simulator.restUrl;
  }
  const engine = createEngine({ logger: log, policy, venues: { [venue]: { wsUrl, restUrl } } });
  try {
    engine.subscribe({
      exchange: venue,
      channels: list(args.channels ?? defaults.channels) as never,
      symbols: list(args.symbols ?? defaults.symbols),
    });
  } catch (err) {
    await engine.close();
    stopSimulator(simulator?.child);
    fail((err as Error).message);
  }
  const started = Date.now();
  let previous: EngineStats | undefined;
  let previousAt = started;
  const tty = process.stdout.isTTY && !args.json;
  const view = setInterval(() => {
    const stats = engine.stats();
    const now = Date.now();
    if (!args.json) {
      const text = renderDashboard(stats, previous, now - previousAt);
      process.stdout.write(tty ? `\x1b[2J\x1b[H${text}\n` : `${text.split('\n').slice(0, 3).join('\n')}\n`);
    }
    previous = stats;
    previousAt = now;
  }, 1000);
  await new Promise<void>((resolve) => {
    onSignal(resolve);
    if (seconds > 0) setTimeout(resolve, seconds * 1000);
  });
  clearInterval(view);
  const stats = engine.stats();
  const elapsed = (Date.now() - started) / 1000;
  await engine.close();
  stopSimulator(simulator?.child);
  process.stdout.write(`${summaryLine(stats, elapsed)}\n`);
}

async function stream(args: Args, positionals: string[]): Promise<void> {
  const [venue, channels, ...symbols] = positionals;
  if (!venue || !channels || symbols.length === 0) fail(`stream needs <venue> <channels> <symbols...>\n\n${USAGE}`);
  const seconds = number(args.seconds ?? '0', 'seconds', 0);
  const via = args.via;
  if (via !== undefined && via !== 'native' && via !== 'ccxt') fail(`--via must be native or ccxt; got ${via}`);
  if (args['ccxt-options'] !== undefined) {
    try {
      JSON.parse(args['ccxt-options']);
    } catch (err) {
      fail(`--ccxt-options is not valid JSON: ${(err as Error).message}`);
    }
    // Worker threads read it from their (copied) environment when the ccxt task starts.
    process.env[CCXT_OPTIONS_ENV] = args['ccxt-options'];
  }
  const engine: Engine = createEngine({
    logger: logger(args),
    policy: checkPolicy(args.policy, '--policy'),
    venues: { [venue]: { wsUrl: args.url, restUrl: args['rest-url'] } },
  });
  try {
    engine.subscribe({ exchange: venue, channels: list(channels) as never, symbols, via });
  } catch (err) {
    await engine.close();
    fail((err as Error).message);
  }
  engine.onRecord((record) => {
    process.stdout.write(`${JSON.stringify(record)}\n`);
  });
  await new Promise<void>((resolve) => {
    onSignal(resolve);
    if (seconds > 0) setTimeout(resolve, seconds * 1000);
  });
  await engine.close();
}

/**
 * Keeps a server up until a signal or until the parent (`run`) disconnects, then closes it and
 * lets go of the IPC channel so that this process can exit.
 */
async function serveUntilStopped(server: { close(): Promise<void> }): Promise<void> {
  await new Promise<void>((resolve) => {
    onSignal(resolve);
    process.once('disconnect', resolve);
  });
  await server.close();
  if (process.connected) process.disconnect();
}

/** Replays a recorded ccxt session and prints how to stream it. */
async function simulateCcxt(args: Args, file: string): Promise<void> {
  let replay: CcxtReplay;
  try {
    replay = await startCcxtReplay(loadCcxtFixture(file), { host: args.host, port: number(args.port, 'port', 0) });
  } catch (err) {
    fail((err as Error).message);
  }
  const { server, ccxtOptions, entries, symbols } = replay;
  const venue = Object.keys(ccxtOptions)[0]!;
  const channels = [...new Set(entries.map((e) => CCXT_REPLAY_CHANNEL[e.method]))].join(',');
  const command =
    `ringfeed stream ${venue} ${channels} ${symbols.join(' ')} --url ${server.wsUrl} --rest-url ${server.restUrl}` +
    ` --ccxt-options '${JSON.stringify(ccxtOptions)}'`;
  process.stdout.write(
    args.announce
      ? `${JSON.stringify({ wsUrl: server.wsUrl, restUrl: server.restUrl, venue, channels, symbols, ccxtOptions })}\n`
      : `replaying ${entries.length} recorded ${venue} sessions (each once per subscription) on ${server.wsUrl}\nstream them with:\n  ${command}\n`,
  );
  await serveUntilStopped(replay);
}

async function simulate(args: Args): Promise<void> {
  if (args['replay-ccxt'] !== undefined) return simulateCcxt(args, args['replay-ccxt']);
  if (args.replay !== undefined && args.venue !== 'binance') {
    fail(`--replay replays Binance captures only; got --venue ${args.venue}`);
  }
  const speed = args.speed === 'recorded' || args.speed === 'max' ? args.speed : number(args.speed, 'speed', 0);
  const sim = await simulatorFor(args.venue!).start({
    host: args.host,
    port: number(args.port, 'port', 0),
    seed: number(args.seed, 'seed', 0),
    rate: number(args.rate, 'rate', 0),
    replay: args.replay ? { ws: args.replay, rest: args.rest, speed } : undefined,
  });
  const address = { wsUrl: sim.wsUrl, restUrl: sim.restUrl };
  process.stdout.write(`${args.announce ? JSON.stringify(address) : `simulator listening: ${sim.wsUrl} (REST ${sim.restUrl})`}\n`);
  await serveUntilStopped(sim);
}

async function main(): Promise<void> {
  const { values, positionals } = parse(process.argv.slice(2));
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'run':
      return run(values);
    case 'stream':
      return stream(values, rest);
    case 'simulate':
      return simulate(values);
    default:
      fail(`unknown command ${command}\n\n${USAGE}`);
  }
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
