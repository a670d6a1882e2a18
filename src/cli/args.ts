/**
 * Command-line parsing for `ringfeed`: every bad argument becomes an ERR_BAD_OPTION naming the
 * argument and what it accepts (the CLI prints it and exits 2).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RingfeedError } from '../engine/errors.js';

const OPTIONS = {
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
  'client-id': { type: 'string' },
  publish: { type: 'string' },
  'metrics-port': { type: 'string' },
  subjects: { type: 'string' },
  stream: { type: 'string' },
  prefix: { type: 'string' },
  from: { type: 'string' },
  core: { type: 'boolean', default: false },
  'book-snapshot-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Spec = typeof OPTIONS;
type OptionName = keyof Spec;
export type Args = {
  -readonly [K in OptionName]: Spec[K]['type'] extends 'boolean'
    ? boolean
    : Spec[K] extends { default: string }
      ? string
      : string | undefined;
};

export interface CommandLine {
  readonly command: string | undefined;
  readonly positionals: string[];
  readonly values: Args;
  /** The options named on the command line (as opposed to defaulted). */
  readonly given: ReadonlySet<OptionName>;
}

export function badArgument(message: string): RingfeedError {
  return new RingfeedError('ERR_BAD_OPTION', message);
}

const SHORT = new Map(
  Object.entries(OPTIONS).flatMap(([name, o]) => ('short' in o ? [[o.short as string, name as OptionName]] : [])),
);

function known(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

/**
 * Parses non-strictly, then checks every option itself: strict parseArgs refuses values that
 * start with `-` (`--seconds -1` would be "ambiguous" instead of "must be ≥ 0"), and its
 * messages do not say what is accepted.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  const { values, positionals, tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, tokens: true, options: OPTIONS });
  const given = new Set<OptionName>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const name = token.rawName.startsWith('--') ? token.name : (SHORT.get(token.name) ?? token.name);
    if (!known(name)) throw badArgument(`unknown option ${token.rawName} (ringfeed --help lists the options)`);
    given.add(name);
    const type = OPTIONS[name].type;
    if (type === 'boolean' && token.inlineValue) throw badArgument(`${token.rawName} takes no value; got ${token.rawName}=${token.value}`);
    if (type === 'string') {
      if (token.value === undefined) throw badArgument(`${token.rawName} needs a value`);
      const next = token.value.startsWith('--') ? token.value.slice(2).split('=')[0]! : '';
      if (!token.inlineValue && known(next)) throw badArgument(`${token.rawName} needs a value; got the option ${token.value}`);
    }
  }
  const [command, ...rest] = positionals;
  return { command, positionals: rest, values: values as unknown as Args, given };
}

function finite(value: string, option: string, accepted: string): number {
  // Number('') and Number(' ') are 0: an empty value is not a number.
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw badArgument(`${option} must be ${accepted}; got ${JSON.stringify(value)}`);
  return n;
}

/** A number in [min, max]; `integer` also refuses fractions. */
export function numberOption(
  value: string,
  option: string,
  range: { min: number; max: number; integer?: boolean; minExclusive?: boolean; note?: string },
): number {
  const kind = range.integer ? 'an integer' : 'a number';
  const lower = range.minExclusive ? `greater than ${range.min}` : `from ${range.min}`;
  const accepted = `${kind} ${lower} ${range.minExclusive ? 'and at most' : 'to'} ${range.max}${range.note ? ` (${range.note})` : ''}`;
  const n = finite(value, option, accepted);
  const low = range.minExclusive ? n <= range.min : n < range.min;
  if (low || n > range.max || (range.integer && !Number.isInteger(n)) || Object.is(n, -0)) {
    throw badArgument(`${option} must be ${accepted}; got ${value}`);
  }
  return n;
}

/** setTimeout fires at once beyond 2^31-1 ms, so longer runs cannot be timed. */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
export const MAX_RATE = 100_000;

export const seconds = (v: string) => numberOption(v, '--seconds', { min: 0, max: MAX_SECONDS, note: '0 = until Ctrl-C' });
export const rate = (v: string) => numberOption(v, '--rate', { min: 0, minExclusive: true, max: MAX_RATE, note: 'messages/s per stream' });
export const port = (v: string) => numberOption(v, '--port', { min: 0, max: 65_535, integer: true, note: '0 = any free port' });
export const clientId = (v: string) => numberOption(v, '--client-id', { min: 0, max: 2_147_483_647, integer: true, note: 'the TWS API client id' });
export const seed = (v: string) => numberOption(v, '--seed', { min: 0, max: 2 ** 32 - 1, integer: true });

export function speed(v: string): 'recorded' | 'max' | number {
  if (v === 'recorded' || v === 'max') return v;
  return numberOption(v, '--speed', { min: 0, minExclusive: true, max: 1_000_000, note: 'or recorded | max' });
}

/** Checks every numeric option, whichever command uses it: garbage is never ignored silently. */
export function checkNumbers(values: Args): void {
  if (values.seconds !== undefined) seconds(values.seconds);
  rate(values.rate);
  port(values.port);
  seed(values.seed);
  speed(values.speed);
}

/** A comma-separated list that must name at least one item. */
export function listOption(value: string, option: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw badArgument(`${option} is empty; give a comma-separated list`);
  return items;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function logLevel(v: string): LogLevel {
  if (!LEVELS.includes(v as LogLevel)) throw badArgument(`--log-level must be one of ${LEVELS.join(', ')}; got ${v}`);
  return v as LogLevel;
}

export function via(v: string | undefined): 'native' | 'ccxt' | undefined {
  if (v !== undefined && v !== 'native' && v !== 'ccxt') throw badArgument(`--via must be native or ccxt; got ${v}`);
  return v;
}

/** Checks that --ccxt-options is a JSON object keyed by exchange id. */
export function ccxtOptions(v: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw badArgument(`--ccxt-options is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badArgument('--ccxt-options must be a JSON object keyed by exchange id');
  }
  return v;
}

/** A file option that must name a readable regular file. */
export function readableFile(path: string, option: string): string {
  try {
    if (!statSync(path).isFile()) throw badArgument(`${option}: ${path} is not a file`);
    accessSync(path, constants.R_OK);
  } catch (err) {
    if (err instanceof RingfeedError) throw err;
    throw badArgument(`${option}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return path;
}

export const metricsPort = (v: string) => numberOption(v, '--metrics-port', { min: 0, max: 65_535, integer: true, note: '0 = any free port' });

/** `--book-snapshot-ms`: 0 (off) or 100 to 3 600 000, as `publish.bookSnapshotIntervalMs`. */
export function bookSnapshotMs(v: string): number {
  const n = numberOption(v, '--book-snapshot-ms', { min: 0, max: 3_600_000, integer: true, note: '0 = no book snapshots' });
  if (n > 0 && n < 100) throw badArgument(`--book-snapshot-ms must be 0 or from 100 to 3600000; got ${v}`);
  return n;
}

/** `--from`: new | all | a JetStream stream sequence ≥ 1. */
export function feedStart(v: string): 'new' | 'all' | number {
  if (v === 'new' || v === 'all') return v;
  return numberOption(v, '--from', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true, note: 'or new, or all' });
}
