#!/usr/bin/env node
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createEngine, type Engine, type EngineStats, REDACT_PATHS } from '../engine/engine.js';
import { RingfeedError } from '../engine/errors.js';
import type { SubscriptionRejection } from '../engine/events.js';
import { checkPolicy } from '../engine/options.js';
import { CCXT_REPLAY_CHANNEL, type CcxtReplay, loadCcxtFixture, startCcxtReplay } from '../simulator/ccxt/replay.js';
import { type VenueSimulator, venueSimulator } from '../simulator/index.js';
import type { StateChange } from '../supervisor/connection-supervisor.js';
import { CCXT_OPTIONS_ENV } from '../venues/ccxt/types.js';
import { getVenue, venues } from '../venues/registry.js';
import * as arg from './args.js';
import { type Args, badArgument, parseCommandLine } from './args.js';
import { dashboardHeader, renderDashboard, summaryLine, terminalSize } from './dashboard.js';
import { cliEndpoints, tcpEndpoint } from './endpoints.js';
import { startFanout } from './fanout-options.js';
import { listen } from './listen.js';
import { assertCanListen } from './port.js';

const USAGE = `ringfeed — real-time market data engine

Usage:
  ringfeed run [options]            run the engine (default: against the embedded simulator)
                                    and show a live view; --json prints one summary line
  ringfeed stream <venue> <channels> <symbols...> [options]
                                    print normalized records, one JSON per line
                                    e.g. ringfeed stream binance trades,depth BTC/USDT ETH/USDT
  ringfeed simulate [options]       start the simulator alone
  ringfeed listen [nats://H:P]      consume a feed published to NATS JetStream (default
                                    nats://127.0.0.1:4222); same JSON summary as run

Options (run, stream):
  --seconds N        stop after N seconds, 0 to 2147483 (default 0 = until Ctrl-C)
  --json             run: print only the final JSON summary (last line of stdout)
  --url URL          venue WebSocket base URL, tcp://host:port for futu and ib (else
                     RINGFEED_<VENUE>_WS_URL, else live venue;
                     run without --url starts the embedded simulator)
  --rest-url URL     venue REST base URL (default with --url: the same host and port over
                     http/https; else RINGFEED_<VENUE>_REST_URL, else live venue)
  --venue V          run, simulate: ${Object.keys(venues).join(', ')} (default binance)
  --symbols A,B      run: symbols (default per venue; binance: six USDT pairs)
  --channels A,B     run: channels (default per venue; binance: trades,quotes,book,candles)
  --policy P         backpressure policy: block | drop | conflate (default block)
  --rate N           run with the embedded simulator: messages/s per stream, > 0 and at most
                     100000 (default 50)
  --log-level L      trace | debug | info | warn | error (default warn; logs go to stderr)
  --client-id N      stream, ib: the TWS API client id, 0 to 2147483647 (default 0)
  --via V            stream: native | ccxt (default: native adapter where one exists)
  --host H --port N  stream, TCP venues (futu, ib): the endpoint tcp://H:N (each defaults to
                     the venue's, e.g. futu 127.0.0.1:11111)
  --ccxt-options J   stream: ccxt venue settings, JSON keyed by exchange id (markets, config,
                     bookLimit); same as env RINGFEED_CCXT_OPTIONS
  --publish URL      run, stream: publish every record to NATS JetStream at URL
                     (stream RINGFEED, subjects ringfeed.<venue>.<type>.<symbol>)
  --metrics-port N   run, stream, listen: Prometheus /metrics and /health on 127.0.0.1:N
Options (listen, and --publish):
  --subjects A,B     listen: subject filters (default <prefix>.>), e.g. ringfeed.binance.trade.>
  --stream S         JetStream stream name (default RINGFEED)
  --prefix P         first subject token(s) (default ringfeed)
  --from F           listen: new | all | a stream sequence to resume from (default new)
  --core             listen: live-only core NATS (no JetStream consumer; gaps reported)
  --book-snapshot-ms N  run, stream with --publish: book snapshots for late joiners every N ms
                     (default 1000; 0 = off)
Options (simulate):
  --host H --port N  listen address (default 127.0.0.1:9443; 0 = any free port); a port
                     another process holds is refused
  --rate N --seed N  messages/s per stream (> 0, at most 100000), random seed (0 to 2^32-1)
  --replay FILE      replay a cryptofeed capture (with --rest FILE for its REST log)
  --speed S          replay speed: recorded | max | a multiplier > 0 (default recorded)
  --replay-ccxt FILE replay a ccxt session file (ccxt-ws/kucoin.json, bingx.json, or the
                     hand-written test/fixtures/kucoinfutures.json) to a ccxt client: prints
                     the stream command to run against it
`;

function fail(message: string): never {
  process.stderr.write(`ringfeed: ${message}\n`);
  process.exit(2);
}

function logger(level: arg.LogLevel) {
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
    throw badArgument(`--venue: ${(err as Error).message}`);
  }
}

function onSignal(stop: () => void): void {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Until a signal, `seconds` (0 = no limit), or `early` (whichever first; no timer outlives it). */
function untilStopped(seconds: number, early?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = seconds > 0 ? setTimeout(resolve, seconds * 1000) : undefined;
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    onSignal(done);
    void early?.then(done);
  });
}

/**
 * Names each refused subscription on stderr (once per message). `allRefused` resolves when the
 * venue refused every stream and its connection has ended: nothing is left to run, and the
 * command exits 1.
 */
function reportRejections(engine: Engine): { allRefused: Promise<void>; readonly all: boolean } {
  const said = new Set<string>();
  let all = false;
  const allRefused = new Promise<void>((resolve) => {
    engine.on('rejected', (r: SubscriptionRejection) => {
      if (!said.has(r.message)) process.stderr.write(`ringfeed: ${r.code}: ${r.message}\n`);
      said.add(r.message);
      if (engine.stats().streams === 0) all = true;
    });
    engine.on('state', (change: StateChange) => {
      if (all && change.state === 'closed') resolve();
    });
  });
  return {
    allRefused,
    get all() {
      return all;
    },
  };
}

async function run(args: Args): Promise<void> {
  // Every argument is checked before anything starts.
  const seconds = arg.seconds(args.seconds ?? '0');
  const policy = checkPolicy(args.policy, '--policy');
  const level = arg.logLevel(args['log-level']);
  const rate = arg.rate(args.rate);
  const venue = args.venue;
  const defaults = simulatorFor(venue);
  const channels = arg.listOption(args.channels ?? defaults.channels, '--channels');
  const symbols = arg.listOption(args.symbols ?? defaults.symbols, '--symbols');
  let endpoints = cliEndpoints(args.url, args['rest-url'], getVenue(venue));
  const simulator = endpoints.wsUrl === undefined ? await spawnSimulator(venue, rate) : undefined;
  if (simulator !== undefined) endpoints = { wsUrl: simulator.wsUrl, restUrl: simulator.restUrl };
  const engine = createEngine({ logger: logger(level), policy, venues: { [venue]: endpoints } });
  const stopFanout = await startFanout(engine, args).catch(async (err: unknown) => {
    await engine.close();
    stopSimulator(simulator?.child);
    throw err;
  });
  const rejections = reportRejections(engine);
  try {
    engine.subscribe({ exchange: venue, channels: channels as never, symbols });
  } catch (err) {
    await engine.close();
    stopSimulator(simulator?.child);
    throw err;
  }
  const started = Date.now();
  let previous: EngineStats | undefined;
  let previousAt = started;
  const tty = process.stdout.isTTY === true && !args.json;
  const view = setInterval(() => {
    const stats = engine.stats();
    const now = Date.now();
    if (tty) {
      // No trailing newline: a full screen would scroll the title away.
      process.stdout.write(`\x1b[H\x1b[2J${renderDashboard(stats, previous, now - previousAt, terminalSize(process.stdout))}`);
    } else if (!args.json) {
      process.stdout.write(`${dashboardHeader(stats, previous, now - previousAt, terminalSize(process.stdout).columns).join('\n')}\n`);
    }
    previous = stats;
    previousAt = now;
  }, 1000);
  await untilStopped(seconds, rejections.allRefused);
  clearInterval(view);
  const stats = engine.stats();
  const elapsed = (Date.now() - started) / 1000;
  await stopFanout();
  await engine.close();
  stopSimulator(simulator?.child);
  process.stdout.write(`${tty && previous !== undefined ? '\n' : ''}${summaryLine(stats, elapsed)}\n`);
  if (rejections.all) process.exitCode = 1;
}

async function stream(args: Args, positionals: string[], given: ReadonlySet<string>): Promise<void> {
  const [venue, channelList, ...symbols] = positionals;
  const shape = 'ringfeed stream <venue> <channels> <symbols...>';
  if (!venue) throw badArgument(`stream: missing <venue> (${shape})`);
  if (!channelList) throw badArgument(`stream: missing <channels> after ${venue} (${shape})`);
  if (symbols.length === 0) throw badArgument(`stream: missing <symbols...> after ${channelList} (${shape})`);
  const seconds = arg.seconds(args.seconds ?? '0');
  const via = arg.via(args.via);
  try {
    getVenue(venue, via);
  } catch (err) {
    throw new RingfeedError('ERR_UNKNOWN_VENUE', `stream: ${(err as Error).message}`);
  }
  const policy = checkPolicy(args.policy, '--policy');
  const level = arg.logLevel(args['log-level']);
  const channels = arg.listOption(channelList, '<channels>');
  const tcp = tcpEndpoint(getVenue(venue, via), {
    host: given.has('host') ? args.host : undefined,
    port: given.has('port') ? args.port : undefined,
    url: args.url,
  });
  const endpoints = tcp ?? cliEndpoints(args.url, args['rest-url'], getVenue(venue, via));
  if (args['ccxt-options'] !== undefined) {
    // Worker threads read it from their (copied) environment when the ccxt task starts.
    process.env[CCXT_OPTIONS_ENV] = arg.ccxtOptions(args['ccxt-options']);
  }
  // TWS (ib): the API client id this connection presents; refused for venues without one.
  const clientId = args['client-id'] === undefined ? undefined : arg.clientId(args['client-id']);
  const engine: Engine = createEngine({ logger: logger(level), policy, venues: { [venue]: { ...endpoints, clientId } } });
  const stopFanout = await startFanout(engine, args).catch(async (err: unknown) => {
    await engine.close();
    throw err;
  });
  const rejections = reportRejections(engine);
  try {
    engine.subscribe({ exchange: venue, channels: channels as never, symbols, via });
  } catch (err) {
    await stopFanout();
    await engine.close();
    throw err;
  }
  engine.onRecord((record) => {
    process.stdout.write(`${JSON.stringify(record)}\n`);
  });
  await untilStopped(seconds, rejections.allRefused);
  await stopFanout();
  await engine.close();
  if (rejections.all) process.exitCode = 1;
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
  const port = arg.port(args.port);
  let fixture: ReturnType<typeof loadCcxtFixture>;
  try {
    fixture = loadCcxtFixture(arg.readableFile(file, '--replay-ccxt'));
  } catch (err) {
    if (err instanceof RingfeedError) throw err;
    throw badArgument(`--replay-ccxt: ${(err as Error).message}`);
  }
  await assertCanListen(args.host, port);
  let replay: CcxtReplay;
  try {
    replay = await startCcxtReplay(fixture, { host: args.host, port });
  } catch (err) {
    throw badArgument(`--replay-ccxt: ${(err as Error).message}`);
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

/** What `simulate` prints: a TCP venue has no REST; Futu's also speaks OpenD's WebSocket port (`futu-api`). */
function listening(sim: VenueSimulator): string {
  if (!sim.wsUrl.startsWith('tcp:')) return `simulator listening: ${sim.wsUrl} (REST ${sim.restUrl})`;
  const host = new URL(sim.wsUrl).hostname;
  const ws = sim.wsPort === undefined || sim.wsPort < 0 ? '' : ` and ws://${host}:${sim.wsPort} (OpenD's WebSocket port, for futu-api)`;
  return `simulator listening: ${sim.wsUrl}${ws}`;
}

async function simulate(args: Args): Promise<void> {
  if (args['replay-ccxt'] !== undefined) return simulateCcxt(args, args['replay-ccxt']);
  const simulator = simulatorFor(args.venue);
  if (args.replay !== undefined && args.venue !== 'binance') {
    throw badArgument(`--replay replays Binance captures only; got --venue ${args.venue}`);
  }
  if (args.rest !== undefined && args.replay === undefined) throw badArgument('--rest needs --replay (it is the REST log of the capture)');
  const options = {
    host: args.host,
    port: arg.port(args.port),
    seed: arg.seed(args.seed),
    rate: arg.rate(args.rate),
    replay:
      args.replay === undefined
        ? undefined
        : {
            ws: arg.readableFile(args.replay, '--replay'),
            rest: args.rest === undefined ? undefined : arg.readableFile(args.rest, '--rest'),
            speed: arg.speed(args.speed),
          },
  };
  await assertCanListen(options.host, options.port);
  const sim = await simulator.start(options);
  const address = { wsUrl: sim.wsUrl, restUrl: sim.restUrl, ...(sim.wsPort === undefined || sim.wsPort < 0 ? {} : { wsPort: sim.wsPort }) };
  process.stdout.write(`${args.announce ? JSON.stringify(address) : listening(sim)}\n`);
  await serveUntilStopped(sim);
}

async function main(): Promise<void> {
  const { command, positionals, values, given } = parseCommandLine(process.argv.slice(2));
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  arg.checkNumbers(values);
  switch (command) {
    case 'run':
      return run(values);
    case 'stream':
      return stream(values, positionals, given);
    case 'simulate':
      return simulate(values);
    case 'listen':
      return listen(values, positionals, (seconds) => untilStopped(seconds));
    default:
      throw badArgument(`unknown command ${command}; the commands are run, stream, simulate, listen (ringfeed --help)`);
  }
}

// Every failure is one line naming what was wrong, never a stack trace.
main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
