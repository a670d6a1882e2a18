import { describe, expect, it } from 'vitest';
import { BATCH_MAGIC, decodeBatch, encodeBatch, LAYOUT_VERSION } from '../src/fanout/batch-codec.js';
import { escapeToken, recordSubject, unescapeToken } from '../src/fanout/subjects.js';
import { RecordType } from '../src/records/types.js';
import type { RecordView } from '../src/records/view.js';
import { ViewSource } from './helpers/record-views.js';

describe('subject tokens', () => {
  it('escapes separators, wildcards, spaces and the escape char, and reverses exactly', () => {
    expect(escapeToken('BTC/USDT')).toBe('BTC~2FUSDT');
    expect(escapeToken('BTC/USDT:USDT')).toBe('BTC~2FUSDT~3AUSDT');
    for (const s of ['a.b', 'x*y', 'p>q', 'two words', '~tilde', 'ÉTH/€', 'BRK.B', 'plain-ok_1']) {
      const t = escapeToken(s);
      expect(t).toMatch(/^[A-Za-z0-9_~-]+$/);
      expect(unescapeToken(t)).toBe(s);
    }
    expect(() => escapeToken('')).toThrow(/empty/);
    expect(() => unescapeToken('a.b')).toThrow(/not an escaped subject token/);
  });

  it('names venue, type and symbol token; connection-wide records get _', () => {
    expect(recordSubject('ringfeed', 'binance', RecordType.trade, 'BTC/USDT')).toBe('ringfeed.binance.trade.BTC~2FUSDT');
    expect(recordSubject('p', 'binance-usdm', RecordType.status, '')).toBe('p.binance-usdm.status._');
  });
});

describe('batch codec', () => {
  function twoTrades(): Uint8Array {
    const parts: Uint8Array[] = [];
    const src = new ViewSource('binance', (v: RecordView) => parts.push(v.bytes().slice()));
    src.trade('BTC/USDT', 11, 50_000);
    src.trade('BTC/USDT', 12, 50_001);
    const out = new Uint8Array(parts[0]!.length + parts[1]!.length);
    out.set(parts[0]!, 0);
    out.set(parts[1]!, parts[0]!.length);
    return out;
  }
  const header = { count: 2, publisherId: 7, epoch: 99, subjectSeq: 40, publishTs: 1.5, connectionId: 0, exchangeCode: 1, exchange: 'binance', symbol: 'BTC/USDT' };

  it('round-trips header and record offsets', () => {
    const records = twoTrades();
    const b = decodeBatch(encodeBatch(header, records));
    expect(b).toMatchObject({ ...header, layoutVersion: LAYOUT_VERSION });
    expect(b.offsets.length).toBe(2);
    expect(b.bytes.length - b.offsets[0]!).toBe(records.length);
  });

  it('refuses what it cannot read, naming why', () => {
    const good = encodeBatch(header, twoTrades());
    const badMagic = good.slice();
    new DataView(badMagic.buffer).setUint32(0, BATCH_MAGIC + 1, true);
    expect(() => decodeBatch(badMagic)).toThrow(/not a ringfeed batch/);
    const badVersion = good.slice();
    new DataView(badVersion.buffer).setUint16(4, LAYOUT_VERSION + 1, true);
    expect(() => decodeBatch(badVersion)).toThrow(/layout version/);
    expect(() => decodeBatch(good.subarray(0, good.length - 8))).toThrow(/bad length|ends after/);
    const trailing = new Uint8Array(good.length + 8);
    trailing.set(good);
    expect(() => decodeBatch(trailing)).toThrow(/after its 2 records/);
    expect(() => decodeBatch(new Uint8Array(3))).toThrow(/shorter/);
  });
});
