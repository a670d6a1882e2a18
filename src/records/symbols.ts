/**
 * Main-thread registry of exchanges (code ↔ name) and interned symbols. Symbol ids are small
 * integers written into records; id 0 is reserved for connection-wide records (symbol '').
 * The same symbol on two exchanges gets two ids.
 */
export class SymbolTable {
  private readonly ids = new Map<string, number>();
  /** Index = symbol id. */
  private readonly symbols: string[] = [''];
  private readonly exchanges: string[] = [''];
  /** Index = exchange code. */
  private readonly exchangeNames: string[] = new Array<string>(256).fill('');
  private readonly exchangeCodes = new Map<string, number>();

  /** Register an exchange's record code (1..255). Re-registering the same pair is a no-op. */
  registerExchange(code: number, name: string): void {
    if (!Number.isInteger(code) || code < 1 || code > 255) {
      throw new RangeError(`exchange code must be an integer 1..255, got ${code}`);
    }
    if (name === '') throw new RangeError('exchange name must not be empty');
    const had = this.exchangeNames[code];
    if (had === name) return;
    if (had !== '') {
      throw new Error(`exchange code ${code} is already registered for ${had}, not ${name}`);
    }
    const other = this.exchangeCodes.get(name);
    if (other !== undefined) {
      throw new Error(`exchange ${name} is already registered with code ${other}`);
    }
    this.exchangeNames[code] = name;
    this.exchangeCodes.set(name, code);
  }

  /** Exchange name for a record's exchange code ('' when not registered). */
  exchangeName(code: number): string {
    return this.exchangeNames[code & 0xff];
  }

  /** Code registered for an exchange name, or undefined. */
  exchangeCode(name: string): number | undefined {
    return this.exchangeCodes.get(name);
  }

  /** Id for (exchange, symbol); the same pair always gets the same id (ids start at 1). */
  intern(exchange: string, symbol: string): number {
    const key = `${exchange}\u0000${symbol}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      if (symbol === '') throw new RangeError('symbol must not be empty');
      id = this.symbols.length;
      if (id > 0xffffffff) throw new RangeError('symbol table full');
      this.ids.set(key, id);
      this.symbols.push(symbol);
      this.exchanges.push(exchange);
    }
    return id;
  }

  /** Id for (exchange, symbol) if interned, else undefined. */
  lookup(exchange: string, symbol: string): number | undefined {
    return this.ids.get(`${exchange}\u0000${symbol}`);
  }

  /** Symbol of an id ('' for 0 and unknown ids). */
  symbol(id: number): string {
    return this.symbols[id] ?? '';
  }

  /** Exchange a symbol id was interned for ('' for 0 and unknown ids). */
  exchangeOf(id: number): string {
    return this.exchanges[id] ?? '';
  }

  /** Number of interned symbols (not counting id 0). */
  get size(): number {
    return this.symbols.length - 1;
  }
}
