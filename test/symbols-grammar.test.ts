/**
 * The unified symbol grammar (ccxt's): spot, perpetual, dated future and option, case kept where
 * the venue's is, and each venue's mapping of it (or its refusal, naming the symbol).
 */
import { describe, expect, it } from 'vitest';
import { binance } from '../src/venues/binance/adapter.js';
import { binanceUsdm } from '../src/venues/binance/usdm.js';
import { bybit } from '../src/venues/bybit/adapter.js';
import { coinbase } from '../src/venues/coinbase/adapter.js';
import { expiryDMY, expiryYYMMDD, isValidSymbol, parseInstrument } from '../src/venues/kit/symbols.js';
import { kraken } from '../src/venues/kraken/adapter.js';
import { okx } from '../src/venues/okx/adapter.js';
import { okxSymbol } from '../src/venues/okx/channels.js';

const ALL = { kinds: ['spot', 'swap', 'future', 'option'] as const, case: 'preserve' as const };

describe('unified symbol grammar', () => {
  it('parses every kind into its parts', () => {
    expect(parseInstrument('BTC/USDT', ALL)).toEqual({
      base: 'BTC',
      quote: 'USDT',
      settle: undefined,
      kind: 'spot',
      expiry: undefined,
      strike: undefined,
      optionType: undefined,
    });
    expect(parseInstrument('BTC/USDT:USDT', ALL)).toMatchObject({ kind: 'swap', settle: 'USDT', expiry: undefined });
    expect(parseInstrument('BTC/USD:BTC-261225', ALL)).toMatchObject({ kind: 'future', settle: 'BTC', expiry: '261225' });
    expect(parseInstrument('BTC/USD:BTC-261225-100000-C', ALL)).toMatchObject({
      kind: 'option',
      base: 'BTC',
      quote: 'USD',
      settle: 'BTC',
      expiry: '261225',
      strike: '100000',
      optionType: 'C',
    });
    expect(parseInstrument('ETH/USDC:USDC-270101-0.5-P', ALL)).toMatchObject({ strike: '0.5', optionType: 'P' });
    expect(parseInstrument('AAPLx/USD', ALL)).toMatchObject({ base: 'AAPLx', quote: 'USD' });
    expect(parseInstrument('kPEPE/USDC:USDC', ALL)).toMatchObject({ base: 'kPEPE' });
  });

  it('refuses garbage, naming the symbol, what is wrong and the grammar', () => {
    const bad: Array<[string, RegExp]> = [
      ['BTCUSDT', /invalid symbol "BTCUSDT": expected BASE\/QUOTE \(spot\).*BASE\/QUOTE:SETTLE-YYMMDD-STRIKE-C\|P \(option\)/],
      ['BTC/USDT:', /invalid symbol "BTC\/USDT:"/],
      ['BTC/USD:BTC-2612', /invalid symbol "BTC\/USD:BTC-2612"/],
      ['BTC/USD:BTC-261232', /"BTC\/USD:BTC-261232" \(261232 is not a date YYMMDD\)/],
      ['BTC/USD:BTC-260229', /260229 is not a date/], // 2026 is not a leap year
      ['BTC/USD:BTC-261225-100000-X', /invalid symbol "BTC\/USD:BTC-261225-100000-X"/],
      ['BTC/USD:BTC-261225-0100000-C', /invalid symbol/],
      ['BTC/USD:BTC-261225-0-C', /strike must be positive/],
      ['BTC/USD:BTC-261225-C', /invalid symbol/],
      ['BTC/ USD', /"BTC\/ USD" \(it has a character other than/],
      ['BTC/USDT\n', /invalid symbol/],
    ];
    for (const [s, re] of bad) {
      expect(() => parseInstrument(s, ALL), s).toThrow(re);
      expect(isValidSymbol(s), s).toBe(false);
    }
    expect(isValidSymbol('BTC/USD:BTC-280229-50000-P')).toBe(true); // 2028 is a leap year
    expect(isValidSymbol(42)).toBe(false);
  });

  it('never guesses case: all-lower-case codes are refused everywhere, with the upper-case spelling as a hint', () => {
    expect(() => parseInstrument('btc/usdt', ALL)).toThrow(/invalid symbol "btc\/usdt": btc, usdt is all lower-case.*did you mean BTC\/USDT\?/);
    expect(() => parseInstrument('ETH/btc', ALL)).toThrow(/did you mean ETH\/BTC\?/);
    expect(() => parseInstrument('btc/usd:btc-261225-100000-C', ALL)).toThrow(/did you mean BTC\/USD:BTC-261225-100000-C\?/);
    expect(isValidSymbol('ETH/btc')).toBe(false);
  });

  it('upper-case venues refuse any lower-case letter with a hint instead of streaming another instrument', () => {
    // Binance's stream names are lower-case: BTC/USDt would silently have been BTC/USDT.
    for (const [venue, sym, hint] of [
      [binance, 'BTC/USDt', 'BTC/USDT'],
      [binanceUsdm, 'BTC/USDT:USDt', 'BTC/USDT:USDT'],
      [coinbase, 'AAPLx/USD', 'AAPLX/USD'],
      [okx, 'btc/usdt', 'BTC/USDT'],
      [bybit, 'Btc/USDT:USDT-261225', 'BTC/USDT:USDT-261225'],
    ] as const) {
      // binance-usdm's adapter does not name itself (it calls parseSymbol without a venue).
      const who = venue === binanceUsdm ? '' : `${venue.id}.*`;
      const re = new RegExp(`${who}${sym.replace(/[/:]/g, '\\$&')}.*did you mean ${hint.replace(/[/:]/g, '\\$&')}\\?`);
      expect(() => venue.nativeSymbol(sym), `${venue.id} ${sym}`).toThrow(re);
    }
  });

  it('venues without dated instruments refuse them by kind instead of mapping them to the perpetual', () => {
    expect(() => binanceUsdm.nativeSymbol('BTC/USDT:USDT-261225')).toThrow(/"BTC\/USDT:USDT-261225" is a future; binance-usdm|is a future/);
    expect(() => binance.nativeSymbol('BTC/USD:BTC-261225-100000-C')).toThrow(/BTC\/USD:BTC-261225-100000-C/);
    expect(() => kraken.nativeSymbol('BTC/USD:BTC-261225')).toThrow(/kraken.*BTC\/USD:BTC-261225.*derivative/);
  });

  it('converts expiries between YYMMDD and the day-month-year form', () => {
    expect(expiryDMY('261225')).toBe('25DEC26');
    expect(expiryDMY('270105')).toBe('05JAN27');
    expect(expiryDMY('270105', false)).toBe('5JAN27');
    expect(expiryYYMMDD('25DEC26')).toBe('261225');
    expect(expiryYYMMDD('5JAN27')).toBe('270105');
    expect(expiryYYMMDD('31FEB27')).toBeUndefined();
    expect(expiryYYMMDD('25XYZ26')).toBeUndefined();
  });
});

describe('venue mappings of the grammar', () => {
  it('kraken keeps the case of its tokenised stocks and hints at slips', () => {
    expect(kraken.nativeSymbol('AAPLx/USD')).toBe('AAPLx/USD');
    expect(kraken.nativeSymbol('BTC/USD')).toBe('BTC/USD');
    expect(() => kraken.nativeSymbol('btc/usd')).toThrow(/kraken \(spot\): invalid symbol "btc\/usd".*did you mean BTC\/USD\?/);
  });

  it('okx: futures and options as OKX spells them, both ways', () => {
    const cases: Array<[string, string]> = [
      ['BTC/USD:BTC-261225', 'BTC-USD-261225'],
      ['BTC/USDT:USDT-261225', 'BTC-USDT-261225'],
      ['BTC/USD:BTC-261225-100000-C', 'BTC-USD-261225-100000-C'],
      ['ETH/USD:ETH-270326-2500.5-P', 'ETH-USD-270326-2500.5-P'],
      ['BTC/USDT:USDT', 'BTC-USDT-SWAP'],
      ['BTC/USD:BTC', 'BTC-USD-SWAP'],
      ['BTC/USDT', 'BTC-USDT'],
    ];
    for (const [sym, inst] of cases) {
      expect(okx.nativeSymbol(sym)).toBe(inst);
      expect(okxSymbol(inst)).toBe(sym);
    }
    expect(() => okx.nativeSymbol('BTC/USDT:ETH-261225')).toThrow(/okx: symbol "BTC\/USDT:ETH-261225" cannot exist: a future settles/);
    expect(() => okx.nativeSymbol('BTC/USDT:USDT-261225-100000-C')).toThrow(/okx: .*BTC\/USDT:USDT-261225-100000-C.*quoted in USD/);
    expect(okxSymbol('BTC-USD-261225-100000-X')).toBeUndefined();
  });

  it('bybit: linear futures and options by day, month and year; inverse contracts refused, naming the symbol', () => {
    expect(bybit.nativeSymbol('BTC/USDT:USDT-261225')).toBe('BTCUSDT-25DEC26');
    expect(bybit.nativeSymbol('BTC/USDC:USDC-261225')).toBe('BTC-25DEC26');
    expect(bybit.nativeSymbol('ETH/USDT:USDT-270108')).toBe('ETHUSDT-8JAN27');
    expect(bybit.nativeSymbol('BTC/USDT:USDT')).toBe('BTCUSDT');
    expect(() => bybit.nativeSymbol('BTC/USD:BTC-261225')).toThrow(/bybit: symbol "BTC\/USD:BTC-261225" settles in BTC \(inverse/);
    expect(bybit.nativeSymbol('BTC/USDC:USDC-261225-100000-C')).toBe('BTC-25DEC26-100000-C');
    expect(bybit.nativeSymbol('ETH/USDT:USDT-270108-3500-P')).toBe('ETH-8JAN27-3500-P-USDT');
    expect(() => bybit.nativeSymbol('BTC/USD:BTC-261225-100000-C')).toThrow(/bybit: symbol "BTC\/USD:BTC-261225-100000-C" cannot exist: Bybit options/);
    const opt = { channel: 'book' as const, symbol: 'BTC/USDC:USDC-261225-100000-C', symbolId: 2, native: 'BTC-25DEC26-100000-C' };
    expect(bybit.connectionKey!(opt)).toBe('option');
    expect(bybit.connectUrl!('ws://127.0.0.1:1', [opt])).toBe('ws://127.0.0.1:1/v5/public/option');
    expect(() => bybit.connectionKey!({ ...opt, channel: 'funding', symbol: 'BTC/USDT:USDT-261225', native: 'BTCUSDT-25DEC26' })).toThrow(
      /funding is only available for perpetuals/,
    );
    expect(() => bybit.nativeSymbol('BTC/EUR:EUR-261225')).toThrow(/bybit: .*BTC\/EUR:EUR-261225.*not a USDT or USDC future/);
    expect(bybit.connectionKey!({ channel: 'trades', symbol: 'BTC/USDT:USDT-261225', symbolId: 1, native: 'BTCUSDT-25DEC26' })).toBe(
      'linear',
    );
  });
});
