/** Real recorded venue frames (../shared/fixtures) and the stream lists they belong to. */
import { readFileSync } from 'node:fs';
import type { Channel, StreamSpec } from '../../src/venues/contract.js';

const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);

/** Received payloads of a cryptofeed capture (`<ts>: <payload>` lines). */
export function cryptofeedFrames(file: string): string[] {
  const text = readFileSync(new URL(`cryptofeed/${file}`, FIXTURES), 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+\.\d+: (.*)$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Frames of the ccxt-ws recordings whose connection URL starts with `urlPrefix`. */
export function ccxtFrames(venue: string, urlPrefix: string): string[] {
  const doc = JSON.parse(readFileSync(new URL(`ccxt-ws/${venue}.json`, FIXTURES), 'utf8')) as {
    methods: Record<string, Array<{ url: string; messages: unknown[] }>>;
  };
  const out: string[] = [];
  for (const cases of Object.values(doc.methods)) {
    for (const c of cases) if (c.url.startsWith(urlPrefix)) for (const m of c.messages) out.push(JSON.stringify(m));
  }
  return out;
}

export function specs(list: Array<[string, string, Channel, string?]>): StreamSpec[] {
  const ids = new Map<string, number>();
  return list.map(([symbol, native, channel, interval]) => {
    if (!ids.has(symbol)) ids.set(symbol, ids.size + 1);
    return { symbol, native, channel, symbolId: ids.get(symbol)!, interval };
  });
}
