/** OpenD's packet header and the session's parse path, without a socket. */
import { describe, expect, it } from 'vitest';
import { encodePacket, FUTU_HEADER_BYTES, futuFraming, packetBody, readHeader } from '../src/venues/futu/codec.js';
import { encode, FutuMessages as M } from '../src/venues/futu/messages.js';
import { ProtoId, parseFutuSymbol } from '../src/venues/futu/protocol.js';
import { TopBook } from '../src/venues/futu/top-book.js';

describe('futu codec', () => {
  it('round-trips a packet: header fields, SHA-1, protobuf body', () => {
    const body = encode(M.KeepAliveRequest, { c2s: { time: 1_700_000_000 } });
    const packet = encodePacket(ProtoId.KeepAlive, 77, body);
    expect(packet.toString('latin1', 0, 2)).toBe('FT');
    expect(readHeader(packet)).toEqual({ protoId: 1004, format: 0, serial: 77, bodyLength: body.length });
    const decoded = M.KeepAliveRequest.decode(packetBody(packet)) as unknown as { c2s: { time: { toNumber(): number } | number } };
    expect(Number(decoded.c2s.time)).toBe(1_700_000_000);
    const frames: Buffer[] = [];
    const d = futuFraming.decoder(1 << 20);
    const two = Buffer.concat([packet, packet]);
    for (let i = 0; i < two.length; i += 7) d.push(two.subarray(i, i + 7), (f) => frames.push(Buffer.from(f)));
    expect(frames.map((f) => readHeader(f).serial)).toEqual([77, 77]);
  });

  it('refuses a body whose SHA-1 does not match, a JSON body format and a wrong length, naming each', () => {
    const packet = encodePacket(ProtoId.QotSub, 5, Buffer.from([8, 1]));
    const corrupt = Buffer.from(packet);
    corrupt[FUTU_HEADER_BYTES] = 9;
    expect(() => packetBody(corrupt)).toThrow(/proto 3001 serial 5: body SHA-1 does not match/);
    const json = Buffer.from(packet);
    json[6] = 1;
    expect(() => packetBody(json)).toThrow(/body format 1; only 0 \(protobuf\)/);
    expect(() => readHeader(packet.subarray(0, 45))).toThrow(/header says 2 body bytes, the packet has 1/);
    expect(() => readHeader(Buffer.alloc(44))).toThrow(/does not start with "FT"/);
  });

  it('symbols: Futu grammar per market, clear error otherwise', () => {
    expect(parseFutuSymbol('HK.00700')).toEqual({ market: 1, code: '00700' });
    expect(parseFutuSymbol('US.BRK.B')).toEqual({ market: 11, code: 'BRK.B' });
    expect(parseFutuSymbol('SZ.000001')).toEqual({ market: 22, code: '000001' });
    for (const bad of ['HK.700', 'hk.00700', 'JP.7203', 'SH.60051', 'US.', 'AAPL', 'BTC/USDT']) {
      expect(() => parseFutuSymbol(bad)).toThrow(/futu: invalid symbol .*expected MARKET\.CODE/);
    }
    expect(() => parseFutuSymbol(`US.${'A'.repeat(1_000_000)}`).toString()).toThrow(/…"/);
  });

  it('top-N pushes become deltas that rebuild exactly the latest top', () => {
    const book = new TopBook();
    const apply = (levels: Map<number, number>, delta: readonly number[], n: number) => {
      for (let i = 0; i < n; i++) delta[2 * i + 1] === 0 ? levels.delete(delta[2 * i]!) : levels.set(delta[2 * i]!, delta[2 * i + 1]!);
    };
    const bids = new Map<number, number>();
    expect(book.apply([10, 1, 9, 2, 8, 3], 3, [], 0)).toBe(true);
    apply(bids, book.deltaBids, book.deltaBidCount);
    expect(book.apply([10.5, 4, 10, 1, 9, 5], 3, [], 0)).toBe(false); // 8 leaves the top, 9 changes, 10.5 arrives
    apply(bids, book.deltaBids, book.deltaBidCount);
    expect(book.deltaBidCount).toBe(3);
    expect([...bids].sort((a, b) => b[0] - a[0])).toEqual([
      [10.5, 4],
      [10, 1],
      [9, 5],
    ]);
  });
});
