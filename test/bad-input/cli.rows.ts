/**
 * Bad command lines for the built CLI (`node dist/src/cli/main.js`; `npm test` builds first):
 * each must exit with its documented code (2 for a bad argument) and one stderr line naming the
 * argument, never a stack trace. The CLI checks arguments before it starts anything, so each
 * row takes about as long as Node takes to start.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../../src/simulator/index.js';
import type { BadInputRow } from './row.js';

const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const DEADLINE_MS = 8_000;
/** Nothing listens there: rows that get as far as creating an engine never reach a venue. */
const NOWHERE = 'ws://127.0.0.1:1';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Exit> {
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
      reject(new Error(`ringfeed ${args.join(' ')} did not exit within ${DEADLINE_MS} ms; stdout: ${stdout.slice(-200)}`));
    }, DEADLINE_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `args`; throws unless it exits 2 with one stderr line containing every `names`, and no stack. */
async function refused(args: string[], ...names: string[]): Promise<void> {
  const { code, stderr } = await cli(args);
  const shown = `ringfeed ${args.join(' ')} → exit ${code}, stderr ${JSON.stringify(stderr.slice(0, 400))}`;
  if (code !== 2) throw new Error(`expected exit 2: ${shown}`);
  for (const name of names) if (!stderr.includes(name)) throw new Error(`stderr does not name ${name}: ${shown}`);
  if (/\n\s+at |node:internal|Error:/.test(stderr)) throw new Error(`stack trace in stderr: ${shown}`);
  if (stderr.trimEnd().split('\n').length !== 1) throw new Error(`expected one stderr line: ${shown}`);
  if (!stderr.startsWith('ringfeed: ')) throw new Error(`expected "ringfeed: <message>": ${shown}`);
}

function row(input: string, args: string[], ...names: string[]): BadInputRow {
  return {
    group: 'cli',
    input,
    expect: `exit 2, stderr names ${names.join(' and ')}`,
    run: () => refused(args, ...names),
  };
}

export const rows: BadInputRow[] = [
  row('run --seconds -1', ['run', '--seconds', '-1'], '--seconds', 'from 0 to'),
  row('run --seconds 1e999', ['run', '--seconds', '1e999'], '--seconds'),
  row('run --seconds (no value)', ['run', '--seconds'], '--seconds needs a value'),
  row('run --rate -5', ['run', '--rate', '-5'], '--rate', 'greater than 0'),
  row('run --rate abc', ['run', '--rate', 'abc'], '--rate', '"abc"'),
  row('simulate --port 70000', ['simulate', '--port', '70000'], '--port', '0 to 65535'),
  row('simulate --port NaN', ['simulate', '--port', 'NaN'], '--port'),
  row('simulate --seed -0.5', ['simulate', '--seed', '-0.5'], '--seed'),
  row('simulate --speed 0', ['simulate', '--speed', '0'], '--speed', 'recorded | max'),
  {
    group: 'cli',
    input: 'simulate --port <a port a running simulator holds>',
    expect: 'exit 2, stderr "port N is in use (--port)", nothing listens',
    async run() {
      // uWebSockets.js shares ports (SO_REUSEPORT): without the CLI's check this would "listen".
      const holder = await startSimulator({ host: '127.0.0.1', port: 0 });
      try {
        await refused(['simulate', '--port', String(holder.port)], `port ${holder.port} is in use (--port)`);
        await refused(['simulate', '--venue', 'okx', '--port', String(holder.port)], `port ${holder.port} is in use (--port)`);
      } finally {
        await holder.close();
      }
    },
  },
  row('simulate --host 192.0.2.1 (not an address of this host)', ['simulate', '--host', '192.0.2.1', '--port', '9443'], '--host', '192.0.2.1'),
  row('run --policy magic', ['run', '--policy', 'magic'], '--policy', 'magic'),
  row('run --venue nope', ['run', '--venue', 'nope'], '--venue', 'nope'),
  row('simulate --venue nope', ['simulate', '--venue', 'nope'], '--venue', 'nope'),
  row('run --channels nope', ['run', '--url', NOWHERE, '--channels', 'nope'], 'nope'),
  row("run --symbols ''", ['run', '--symbols', ''], '--symbols'),
  row('run --symbols BTCUSDT (no slash)', ['run', '--url', NOWHERE, '--symbols', 'BTCUSDT'], 'BTCUSDT'),
  row('run --log-level loud', ['run', '--log-level', 'loud'], '--log-level', 'loud'),
  row('stream (no venue)', ['stream'], 'missing <venue>'),
  row('stream binance (no channels)', ['stream', 'binance'], 'missing <channels>'),
  row('stream binance trades (no symbols)', ['stream', 'binance', 'trades'], 'missing <symbols...>'),
  row('stream nosuch trades BTC/USDT', ['stream', 'nosuch', 'trades', 'BTC/USDT', '--url', NOWHERE], 'nosuch'),
  row("stream binance ',' BTC/USDT (empty channel list)", ['stream', 'binance', ',', 'BTC/USDT'], '<channels> is empty'),
  row(
    "stream kucoin … --ccxt-options '{bad json'",
    ['stream', 'kucoin', 'trades', 'BTC/USDT', '--ccxt-options', '{bad json'],
    '--ccxt-options is not valid JSON',
  ),
  row('stream … --url ftp://x', ['stream', 'binance', 'trades', 'BTC/USDT', '--url', 'ftp://x'], '--url', 'ftp:'),
  row('stream … --rest-url ws://x', ['stream', 'binance', 'trades', 'BTC/USDT', '--url', NOWHERE, '--rest-url', 'ws://x'], '--rest-url'),
  row('stream … --via magic', ['stream', 'binance', 'trades', 'BTC/USDT', '--via', 'magic'], '--via', 'magic'),
  row('an unknown subcommand', ['frobnicate'], 'unknown command frobnicate'),
  row('an unknown flag', ['run', '--frobnicate'], 'unknown option --frobnicate'),
  row('a boolean flag with a value', ['run', '--json=yes'], '--json takes no value'),
  row('simulate --replay /nonexistent', ['simulate', '--replay', '/nonexistent'], '--replay', '/nonexistent'),
  row('simulate --replay-ccxt /nonexistent', ['simulate', '--replay-ccxt', '/nonexistent'], '--replay-ccxt', '/nonexistent'),
  {
    group: 'cli',
    input: 'ringfeed --help',
    expect: 'exit 0, usage on stdout, nothing on stderr',
    async run() {
      const { code, stdout, stderr } = await cli(['--help']);
      if (code !== 0 || !stdout.includes('Usage:') || stderr !== '') {
        throw new Error(`--help: exit ${code}, stdout ${JSON.stringify(stdout.slice(0, 100))}, stderr ${JSON.stringify(stderr)}`);
      }
    },
  },
];
