import { RECORD_TYPE_NAMES } from '../records/names.js';

/** Default first subject token: `ringfeed.<venue>.<type>.<symbol token>`. */
export const DEFAULT_SUBJECT_PREFIX = 'ringfeed';

/**
 * Escaping rule for one subject token (venue id or symbol): ASCII letters, digits, `_` and `-`
 * stay as they are; every other byte of the UTF-8 text — `.`, `/`, `:`, `*`, `>`, spaces, `~`
 * itself — becomes `~` followed by two upper-case hex digits. `BTC/USDT` → `BTC~2FUSDT`,
 * `BTC/USDT:USDT` → `BTC~2FUSDT~3AUSDT`. The result is never empty, has no wildcard and no
 * separator, and `unescapeToken` reverses it exactly.
 */
export function escapeToken(text: string): string {
  if (text === '') throw new RangeError('a subject token must not be empty');
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function unescapeToken(token: string): string {
  if (!/^(?:[A-Za-z0-9_-]|~[0-9A-F]{2})+$/.test(token)) {
    throw new RangeError(`not an escaped subject token: ${JSON.stringify(token.slice(0, 64))}`);
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '~') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
}

/** A prefix is one or more plain tokens separated by dots (no wildcard, no empty token). */
export function checkSubjectPrefix(prefix: string, what = 'prefix'): string {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
    throw new RangeError(`${what} must be dot-separated tokens of letters, digits, _ and -; got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** Subject of a record: `<prefix>.<venue>.<type>.<symbol token>` (`_` for connection-wide records). */
export function recordSubject(prefix: string, exchange: string, typeCode: number, symbol: string): string {
  const type = RECORD_TYPE_NAMES[typeCode] ?? `t${typeCode}`;
  return `${prefix}.${escapeToken(exchange)}.${type}.${symbol === '' ? '_' : escapeToken(symbol)}`;
}

/**
 * Periodic book snapshots live in a stream of their own (`<stream>_SNAP`, one message kept per
 * subject: NATS 2.9 has only a stream-wide `max_msgs_per_subject`, and two streams may not share
 * subjects). Their subjects are outside `<prefix>.>`: `<prefix>_snap.<venue>.book.<symbol token>`,
 * i.e. the book subject with `_snap` appended to the prefix's last token.
 */
export function snapshotPrefix(prefix: string): string {
  return `${prefix}_snap`;
}

/** Subject of the periodic snapshots of one book. */
export function bookSnapshotSubject(prefix: string, exchange: string, symbol: string): string {
  return `${snapshotPrefix(prefix)}.${escapeToken(exchange)}.book.${escapeToken(symbol)}`;
}

/** The book (delta) subject a snapshot subject stands for, or undefined if it is not one. */
export function bookSubjectOfSnapshot(prefix: string, snapshotSubject: string): string | undefined {
  const head = `${snapshotPrefix(prefix)}.`;
  if (!snapshotSubject.startsWith(head)) return undefined;
  const rest = snapshotSubject.slice(head.length).split('.');
  if (rest.length !== 3 || rest[1] !== 'book') return undefined;
  return `${prefix}.${rest.join('.')}`;
}

/** Whether a NATS subject filter (`*` one token, `>` the rest) matches a literal subject. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
