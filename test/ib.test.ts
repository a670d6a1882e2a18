/** ib units: the codec, the symbol grammar, depth rows → exact price levels, and the session's handshake and requests. */
import { describe, expect, it } from 'vitest';
import { OrderBook } from '../src/book/order-book.js';
import { IB_SIM_CONTRACTS } from '../src/simulator/ib/contracts.js';
import { ContractMarket } from '../src/simulator/ib/market.js';
import type { StreamSpec } from '../src/venues/contract.js';
import { FieldReader, handshake, messageId } from '../src/venues/ib/codec.js';
import { canonicalSymbol, parseContractSpec } from '../src/venues/ib/contract-spec.js';
import { DepthBook } from '../src/venues/ib/depth-book.js';
import { createIbSession } from '../src/venues/ib/session.js';
import { twsFraming, twsMessage } from '../src/worker/framing.js';
import { waitFor } from './helpers/wait.js';
import { recordingContext } from './kit/recording-context.js';

describe('codec', () => {
  it('reads fields in place: ints, numbers, strings, empty and IB unset values', () => {
    const f = twsMessage([99, 7, 2, 1700000000, '190.25', '100', '', '1.7976931348623157E308', 'NASDAQ', '-3']);
    expect(messageId(f)).toBe(99);
    const r = new FieldReader().reset(f);
    r.skip(1);
    expect([r.int('a'), r.int('b'), r.int('c')]).toEqual([7, 2, 1700000000]);
    expect([r.num('p'), r.num('s'), r.num('empty'), r.num('unset')]).toEqual([190.25, 100, Number.NaN, Number.NaN]);
    expect(r.str('exchange')).toBe('NASDAQ');
    expect(r.int('neg')).toBe(-3);
    expect(r.done).toBe(true);
    expect(() => r.str('beyond')).toThrow('ib: message ends before field beyond');
    expect(() => new FieldReader().reset(twsMessage(['1', 'x1'])).skip(1) ?? 0).not.toThrow();
    const bad = new FieldReader().reset(twsMessage(['1', 'x1']));
    bad.skip(1);
    expect(() => bad.int('reqId')).toThrow('ib: field reqId is not a finite number: "x1"');
    expect(messageId(Buffer.from([0, 0, 0, 2, 0x41, 0]))).toBeNaN();
  });

  it('the handshake is API\\0 and the length-prefixed version range', () => {
    const h = handshake();
    expect(h.subarray(0, 4).toString('latin1')).toBe('API\0');
    expect(h.readUInt32BE(4)).toBe(h.length - 8);
    expect(h.subarray(8).toString()).toBe('v176..193');
  });
});

describe('symbol grammar', () => {
  it('short form is a SMART stock in USD; long forms for the rest', () => {
    expect(parseContractSpec('AAPL')).toEqual({ secType: 'STK', symbol: 'AAPL', exchange: 'SMART', currency: 'USD', expiry: '' });
    expect(parseContractSpec('STK:AAPL@NASDAQ/USD')).toMatchObject({ exchange: 'NASDAQ' });
    expect(parseContractSpec('CASH:EUR.USD@IDEALPRO')).toEqual({ secType: 'CASH', symbol: 'EUR', exchange: 'IDEALPRO', currency: 'USD', expiry: '' });
    expect(parseContractSpec('FUT:ES@CME/USD:202612')).toEqual({ secType: 'FUT', symbol: 'ES', exchange: 'CME', currency: 'USD', expiry: '202612' });
    expect(parseContractSpec('BRK.B').symbol).toBe('BRK.B');
    for (const s of ['AAPL', 'STK:AAPL@NASDAQ/USD', 'CASH:EUR.USD@IDEALPRO', 'FUT:ES@CME/USD:202612']) {
      const c = parseContractSpec(s);
      expect(parseContractSpec(canonicalSymbol(c))).toEqual(c);
    }
  });

  it('refuses with an error naming the symbol and what is wrong', () => {
    expect(() => parseContractSpec('aapl')).toThrow(/ib: invalid symbol "aapl": not the short or the long form; expected AAPL/);
    expect(() => parseContractSpec('OPT:AAPL@SMART')).toThrow(/security type OPT is not one of/);
    expect(() => parseContractSpec('FUT:ES@CME/USD')).toThrow(/a future needs its expiry/);
    expect(() => parseContractSpec('CASH:EURUSD@IDEALPRO')).toThrow(/a CASH pair is BASE.QUOTE/);
    expect(() => parseContractSpec('CASH:EUR.USD@IDEALPRO/JPY')).toThrow(/currency is its quote, USD/);
    expect(() => parseContractSpec('STK:AAPL@SMART/USD:202612')).toThrow(/an expiry applies to futures/);
    expect(() => parseContractSpec('BTC/USDT')).toThrow(/ib: invalid symbol "BTC\/USDT"/);
    expect(() => parseContractSpec('X'.repeat(5000))).toThrow(/^ib: invalid symbol "X{64}":/);
  });
});

describe('depth rows → price levels', () => {
  it('insert, update and delete by position keep the price-level book exact (20 000 simulator operations)', () => {
    const market = new ContractMarket(IB_SIM_CONTRACTS[0]!, 10, 42);
    const rows = new DepthBook();
    const book = new OrderBook();
    const out: number[] = [];
    const apply = (side: 0 | 1, op: number, position: number, price: number, size: number) => {
      rows.apply(side, op, position, price, size, out);
      if (side === 1) book.applyDelta(out, out.length / 2, [], 0);
      else book.applyDelta([], 0, out, out.length / 2);
    };
    book.applySnapshot([], 0, [], 0);
    for (const op of market.snapshotOps()) apply(op.side, op.operation, op.position, op.price, op.size);
    for (let i = 0; i < 20_000; i++) {
      for (const op of market.step().depth) apply(op.side, op.operation, op.position, op.price, op.size);
    }
    const truth = (side: typeof market.bids) => side.px.map((p, i) => [market.price(p), side.qty[i]]);
    expect(book.levels('bids')).toEqual(truth(market.bids));
    expect(book.levels('asks')).toEqual(truth(market.asks));
  });

  it('rows sharing a price add up; a row out of range is an error naming it', () => {
    const rows = new DepthBook();
    const out: number[] = [];
    rows.apply(1, 0, 0, 10, 100, out);
    rows.apply(1, 0, 1, 10, 50, out);
    expect(out).toEqual([10, 150]);
    rows.apply(1, 2, 0, 0, 0, out);
    expect(out).toEqual([10, 50]);
    rows.apply(1, 1, 0, 11, 70, out);
    expect(out).toEqual([10, 0, 11, 70]);
    expect(() => rows.apply(1, 1, 5, 11, 1, out)).toThrow('ib: depth update of row 5 of a 1-row side');
    expect(() => rows.apply(2, 0, 0, 11, 1, out)).toThrow(/side 2 is neither/);
  });
});

describe('session', () => {
  const stream = (channel: StreamSpec['channel'], symbolId = 1): StreamSpec => ({ channel, symbol: 'AAPL', symbolId, native: 'STK:AAPL@SMART/USD' });

  function session(clientId = 9) {
    const rc = recordingContext({ clientId });
    /** The messages the session sent, as TWS fields. */
    const sent = (): string[][] => {
      const out: string[][] = [];
      const decoder = twsFraming.decoder(1 << 20);
      for (const b of rc.sentBytes) decoder.push(b, (f) => out.push(f));
      return out;
    };
    return { s: createIbSession(rc.tcp, { perSecond: 1000 }), sent, rc };
  }

  it('handshake, startApi with the client id, then contract details, then the data requests', async () => {
    const { s, sent, rc } = session(9);
    const open = s.openMessages([stream('trades')]);
    expect(Buffer.from(open[0]!).subarray(8).toString()).toBe('v176..193');
    s.addStreams([stream('trades'), stream('book')]);
    s.onFrame(twsMessage([193, '20261202 15:00:00 UTC']));
    await waitFor(() => sent().length === 1, 'startApi');
    expect(sent()[0]).toEqual(['71', '2', '9', '']);
    s.onFrame(twsMessage([9, 1, 1]));
    await waitFor(() => sent().length === 2, 'contract details');
    expect(sent()[1]!.slice(0, 14)).toEqual(['9', '8', '1', '', 'AAPL', 'STK', '', '0', '', '', 'SMART', '', 'USD', '']);
    // contract data (v193: lastTradeDate after the month) with conId 265598, then its end
    s.onFrame(twsMessage([10, 1, 'AAPL', 'STK', '', '', 0, '', 'SMART', 'USD', 'AAPL', 'NMS', 'NMS', 265598, 0.01, '']));
    s.onFrame(twsMessage([52, 1, 1]));
    await waitFor(() => sent().length === 4, 'the two data requests');
    expect(sent()[2]!.slice(0, 3)).toEqual(['97', '2', '265598']);
    expect(sent()[2]![14]).toBe('AllLast');
    expect(sent()[3]!.slice(0, 4)).toEqual(['10', '5', '3', '265598']);
    s.onFrame(twsMessage([99, 2, 2, 1700000000, 190.5, 300, 0, 'NASDAQ', '']));
    expect(rc.recs.find((r) => r.type === 'trade')).toMatchObject({ symbolId: 1, price: 190.5, amount: 300 });
    s.onFrame(twsMessage([12, 1, 3, 0, 0, 1, 190.4, 500]));
    s.onFrame(twsMessage([12, 1, 3, 0, 0, 0, 190.6, 200]));
    expect(rc.consumerBook(1).levels('bids')).toEqual([[190.4, 500]]);
    expect(rc.consumerBook(1).levels('asks')).toEqual([[190.6, 200]]);
    s.onFrame(twsMessage([58, 1, 2, 1])); // market data type: not ours to read, ignored
    expect(() => s.onFrame(twsMessage([99, 2, 2, 1700000000, 'abc', 300, 0, '', '']))).toThrow(/field price is not a finite number/);
    expect(() => s.onFrame(twsMessage([99, 2, 2, 1700000000, '-Infinity', 300, 0, '', '']))).toThrow(/field price is not a finite number: "-Infinity"/);
    s.onDisconnect();
  });

  it('refuses a server version outside 176..193 with an error naming both', () => {
    const { s } = session();
    s.openMessages([]);
    expect(() => s.onFrame(twsMessage([151, 'x']))).toThrow('ib: TWS answered server version 151; ringfeed speaks 176..193');
  });
});
