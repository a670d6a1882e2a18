/**
 * Coinbase Exchange feed helpers shared by the adapter, its session and the simulator:
 * ISO-8601 time parsing, wire channel names and (signed) subscribe frames.
 */

import { createHmac } from 'node:crypto';
import type { Credentials } from '../contract.js';
import { digitsAt } from '../kit/digits.js';

/** Public batched L2 channel (50 ms batches); `level2` needs an authenticated subscribe now. */
export const L2_PUBLIC = 'level2_batch';
export const L2_AUTH = 'level2';

/** Path the Exchange signs for WebSocket authentication. */
const VERIFY_PATH = '/users/self/verify';

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * `2021-04-17T16:43:37.089723Z` → Unix ms (fraction beyond ms truncated, as ccxt does).
 * Accepts any number of fraction digits and a `Z` or `±hh:mm` suffix; NaN for anything else.
 * No allocation (no regex, no Date).
 */
export function parseIsoMs(s: unknown): number {
  if (typeof s !== 'string' || s.length < 20) return Number.NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return Number.NaN;
  }
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116 && t !== 32) return Number.NaN; // T, t or space
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const sec = digitsAt(s, 17, 2);
  if (Number.isNaN(y + mo + d + h + mi + sec) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return Number.NaN;
  }
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    let scale = 100;
    const start = i;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      ms += c * scale;
      scale /= 10;
    }
    if (i === start) return Number.NaN;
    ms = Math.floor(ms);
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    i++;
  } else if (z === 43 || z === 45) {
    if (s.length !== i + 6 || s.charCodeAt(i + 3) !== 58) return Number.NaN;
    const oh = digitsAt(s, i + 1, 2);
    const om = digitsAt(s, i + 4, 2);
    if (Number.isNaN(oh + om)) return Number.NaN;
    offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return Number.NaN;
  }
  if (i !== s.length) return Number.NaN;
  const days = daysFromCivil(y, mo, d);
  return ((days * 24 + h) * 60 + mi - offsetMin) * 60_000 + sec * 1000 + ms;
}

/** One subscribe/unsubscribe frame: `channels` as `{name, product_ids}` objects. */
export function channelFrame(
  type: 'subscribe' | 'unsubscribe',
  channels: ReadonlyMap<string, readonly string[]>,
  credentials?: Credentials,
  nowMs: number = Date.now(),
): string {
  const list: Array<{ name: string; product_ids: readonly string[] }> = [];
  for (const [name, products] of channels) if (products.length > 0) list.push({ name, product_ids: products });
  const msg: Record<string, unknown> = { type, channels: list };
  if (type === 'subscribe' && credentials !== undefined) Object.assign(msg, signSubscribe(credentials, nowMs));
  return JSON.stringify(msg);
}

export interface SubscribeAuth {
  key: string;
  passphrase: string;
  timestamp: string;
  signature: string;
}

/**
 * Fields that authenticate a subscribe frame: base64 HMAC-SHA256, keyed with the base64-decoded
 * secret, over `timestamp + 'GET' + '/users/self/verify'` (timestamp in Unix seconds).
 * The secret never leaves this function.
 */
export function signSubscribe(credentials: Credentials, nowMs: number = Date.now()): SubscribeAuth {
  const timestamp = (nowMs / 1000).toFixed(3);
  return {
    key: credentials.apiKey,
    passphrase: credentials.passphrase ?? '',
    timestamp,
    signature: subscribeSignature(credentials.secret, timestamp),
  };
}

export function subscribeSignature(secret: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'base64'))
    .update(`${timestamp}GET${VERIFY_PATH}`)
    .digest('base64');
}
