/** The CLI's argument checks, in-process (test/cli.test.ts runs the built CLI end to end). */
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as arg from '../src/cli/args.js';
import { cliEndpoints } from '../src/cli/endpoints.js';
import { assertCanListen } from '../src/cli/port.js';
import { RingfeedError } from '../src/engine/errors.js';
import { startSimulator } from '../src/simulator/index.js';

/** The error `fn` throws: must be ERR_BAD_OPTION. */
function badOption(fn: () => unknown): RingfeedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RingfeedError);
    expect((err as RingfeedError).code).toBe('ERR_BAD_OPTION');
    return err as RingfeedError;
  }
  throw new Error('expected ERR_BAD_OPTION, nothing was thrown');
}

describe('parseCommandLine', () => {
  it('takes a value that starts with "-" as the value (checked later), not as an ambiguous option', () => {
    const { command, values } = arg.parseCommandLine(['run', '--seconds', '-1', '--rate', '-5', '--port', '-0.5']);
    expect(command).toBe('run');
    expect(values).toMatchObject({ seconds: '-1', rate: '-5', port: '-0.5' });
  });

  it('keeps defaults, positionals and inline values', () => {
    const { command, positionals, values } = arg.parseCommandLine(['stream', 'binance', 'trades', 'BTC/USDT', '--seconds=2', '--json']);
    expect(command).toBe('stream');
    expect(positionals).toEqual(['binance', 'trades', 'BTC/USDT']);
    expect(values).toMatchObject({ seconds: '2', json: true, rate: '50', port: '9443', venue: 'binance', policy: 'block' });
  });

  it.each([
    [['run', '--frob'], /unknown option --frob/],
    [['run', '-x'], /unknown option -x/],
    [['run', '--seconds'], /--seconds needs a value/],
    [['run', '--seconds', '--json'], /--seconds needs a value; got the option --json/],
    [['run', '--json=yes'], /--json takes no value/],
  ])('%j is refused naming the option', (argv, message) => {
    expect(badOption(() => arg.parseCommandLine(argv)).message).toMatch(message);
  });

  it('-h is --help', () => {
    expect(arg.parseCommandLine(['-h']).values.help).toBe(true);
  });
});

describe('numeric options', () => {
  const checks = {
    '--seconds': arg.seconds,
    '--rate': arg.rate,
    '--port': arg.port,
    '--seed': arg.seed,
    '--speed': arg.speed,
  } as const;
  const garbage = ['abc', '1e999', '-0.5', 'NaN', '', ' ', '-1', 'Infinity', '12abc'];
  for (const [option, check] of Object.entries(checks)) {
    it.each(garbage)(`${option} %j is refused, naming ${option} and the accepted range`, (value) => {
      const { message } = badOption(() => check(value));
      expect(message).toContain(option);
      expect(message).toMatch(/must be (a number|an integer)/);
      expect(message).toMatch(/\d+ (to|and at most) \d+/);
    });
  }

  it('accepts values in range and returns them as numbers', () => {
    expect(arg.seconds('0')).toBe(0);
    expect(arg.seconds('2.5')).toBe(2.5);
    expect(arg.seconds(String(arg.MAX_SECONDS))).toBe(arg.MAX_SECONDS);
    expect(arg.rate('0.5')).toBe(0.5);
    expect(arg.port('0')).toBe(0);
    expect(arg.port('65535')).toBe(65_535);
    expect(arg.seed('4294967295')).toBe(4_294_967_295);
    expect(arg.speed('recorded')).toBe('recorded');
    expect(arg.speed('max')).toBe('max');
    expect(arg.speed('4')).toBe(4);
  });

  it.each([
    [arg.seconds, String(arg.MAX_SECONDS + 1)],
    [arg.rate, '0'],
    [arg.rate, String(arg.MAX_RATE + 1)],
    [arg.port, '65536'],
    [arg.port, '80.5'],
    [arg.seed, '4294967296'],
    [arg.seed, '1.5'],
    [arg.speed, '0'],
  ])('refuses the edge beyond the range (%#)', (check, value) => {
    badOption(() => check(value));
  });

  it('checkNumbers checks every numeric option whichever command uses it', () => {
    const values = arg.parseCommandLine(['simulate', '--speed', 'fast']).values;
    expect(badOption(() => arg.checkNumbers(values)).message).toContain('--speed');
    expect(() => arg.checkNumbers(arg.parseCommandLine(['run']).values)).not.toThrow();
  });
});

describe('other options', () => {
  it('lists must name something', () => {
    expect(arg.listOption(' BTC/USDT , ,ETH/USDT', '--symbols')).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(badOption(() => arg.listOption(' , ', '--symbols')).message).toContain('--symbols is empty');
  });

  it('--log-level, --via and --ccxt-options name the option and what is accepted', () => {
    expect(badOption(() => arg.logLevel('loud')).message).toBe('--log-level must be one of trace, debug, info, warn, error; got loud');
    expect(badOption(() => arg.via('magic')).message).toBe('--via must be native or ccxt; got magic');
    expect(badOption(() => arg.ccxtOptions('{bad json')).message).toMatch(/^--ccxt-options is not valid JSON/);
    expect(badOption(() => arg.ccxtOptions('[1]')).message).toMatch(/^--ccxt-options must be a JSON object/);
    expect(arg.ccxtOptions('{"kucoin":{}}')).toBe('{"kucoin":{}}');
  });

  it('file options must name a readable file', () => {
    const here = fileURLToPath(import.meta.url);
    expect(arg.readableFile(here, '--replay')).toBe(here);
    expect(badOption(() => arg.readableFile('/nonexistent/capture', '--replay')).message).toBe('--replay: cannot read /nonexistent/capture (ENOENT)');
    expect(badOption(() => arg.readableFile('/', '--rest')).message).toBe('--rest: / is not a file');
  });
});

describe('fan-out arguments', () => {
  it('--book-snapshot-ms is 0 (off) or 100..3600000, named when not', () => {
    expect(arg.bookSnapshotMs('0')).toBe(0);
    expect(arg.bookSnapshotMs('250')).toBe(250);
    expect(badOption(() => arg.bookSnapshotMs('50')).message).toBe('--book-snapshot-ms must be 0 or from 100 to 3600000; got 50');
    expect(badOption(() => arg.bookSnapshotMs('soon')).message).toContain('--book-snapshot-ms');
  });
});

describe('endpoints from --url / --rest-url', () => {
  it('passes only what the command line names (the engine derives REST from --url alone)', () => {
    expect(cliEndpoints('ws://127.0.0.1:9443', undefined)).toEqual({ wsUrl: 'ws://127.0.0.1:9443' });
    expect(cliEndpoints('wss://[::1]:8443/stream/', undefined)).toEqual({ wsUrl: 'wss://[::1]:8443/stream' });
    expect(cliEndpoints('ws://127.0.0.1:1', 'http://127.0.0.1:2')).toEqual({ wsUrl: 'ws://127.0.0.1:1', restUrl: 'http://127.0.0.1:2' });
    expect(cliEndpoints(undefined, 'http://127.0.0.1:2')).toEqual({ restUrl: 'http://127.0.0.1:2' });
    expect(cliEndpoints(undefined, undefined)).toEqual({});
    expect(cliEndpoints('tcp://127.0.0.1:11111', undefined, { transport: 'tcp' })).toEqual({ wsUrl: 'tcp://127.0.0.1:11111' });
  });

  it('bad URLs name the CLI option', () => {
    expect(badOption(() => cliEndpoints('ftp://x', undefined)).message).toBe('--url must use ws: or wss:; got ftp:');
    expect(badOption(() => cliEndpoints('ws://127.0.0.1:1', 'ws://x')).message).toBe('--rest-url must use http: or https:; got ws:');
    expect(badOption(() => cliEndpoints('not a url', undefined)).message).toMatch(/^--url is not a valid URL/);
    expect(badOption(() => cliEndpoints('tcp://127.0.0.1:1', undefined)).message).toBe('--url must use ws: or wss:; got tcp:');
    expect(badOption(() => cliEndpoints('ws://127.0.0.1:1', undefined, { transport: 'tcp' })).message).toBe('--url must use tcp:; got ws:');
  });
});

describe('assertCanListen', () => {
  async function rejection(p: Promise<void>): Promise<RingfeedError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RingfeedError);
    return err as RingfeedError;
  }

  it('refuses a port a uWebSockets.js simulator holds (uWS itself would share it)', async () => {
    const sim = await startSimulator({ host: '127.0.0.1', port: 0 });
    try {
      const err = await rejection(assertCanListen('127.0.0.1', sim.port));
      expect(err.message).toBe(`port ${sim.port} is in use (--port)`);
    } finally {
      await sim.close();
    }
  });

  it('refuses a port a plain net server holds, and accepts it once free', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    expect((await rejection(assertCanListen('127.0.0.1', port))).message).toBe(`port ${port} is in use (--port)`);
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await expect(assertCanListen('127.0.0.1', port)).resolves.toBeUndefined();
  });

  it('port 0 is always free; an address this host does not have names --host', async () => {
    await expect(assertCanListen('127.0.0.1', 0)).resolves.toBeUndefined();
    // 192.0.2.1 (TEST-NET-1) is never a local address: bind fails locally, nothing is sent.
    expect((await rejection(assertCanListen('192.0.2.1', 9443))).message).toMatch(/cannot listen on host 192\.0\.2\.1 \(--host\)/);
  });
});
