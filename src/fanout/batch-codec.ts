import { HEADER_SIZE, OFF_LENGTH, OFF_TYPE } from '../records/layout.js';
import { RECORD_TYPE_NAMES } from '../records/names.js';

/**
 * One NATS message = one batch of records of one subject (venue, type, symbol), in the engine's
 * own binary record layout (`records/layout.ts`), after this header (little-endian):
 *
 *   0  u32 magic 'RFB1'          4 u16 layout version        6 u16 record count
 *   8  u32 publisher id         12 u32 publisher epoch (one per publisher start)
 *  16  f64 subject seq of the first record (position in this publisher epoch's subject stream)
 *  24  f64 publish time, ms since the epoch
 *  32  u32 connection id        36 u8 exchange code  37 u8 exchange name bytes  38 u16 symbol bytes
 *  40  exchange name, symbol (UTF-8), zero-padded to a multiple of 8; then the records
 *
 * Records keep their ring form: a length word (multiple of 8) then type, exchange code, flags,
 * symbol id (the publisher's, meaningless elsewhere: a receiver interns the symbol named here),
 * streamSeq (the publisher connection's), timestamps and body.
 */
export const BATCH_MAGIC = 0x31424652;
/** Bump when `records/layout.ts` changes incompatibly: a receiver refuses other versions. */
export const LAYOUT_VERSION = 1;
export const BATCH_HEADER_BYTES = 40;
export const MAX_BATCH_RECORDS = 0xffff;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface BatchHeader {
  readonly layoutVersion: number;
  readonly count: number;
  readonly publisherId: number;
  readonly epoch: number;
  readonly subjectSeq: number;
  readonly publishTs: number;
  readonly connectionId: number;
  readonly exchangeCode: number;
  readonly exchange: string;
  readonly symbol: string;
}

export interface DecodedBatch extends BatchHeader {
  readonly bytes: Uint8Array;
  /** Byte offset of each record in `bytes`. */
  readonly offsets: readonly number[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const pad8 = (n: number): number => (n + 7) & ~7;

/** Bytes of the header plus names for this exchange and symbol. */
export function batchHeaderSize(exchange: string, symbol: string): number {
  return pad8(BATCH_HEADER_BYTES + encoder.encode(exchange).length + encoder.encode(symbol).length);
}

/**
 * Builds a batch from records already laid out back to back in `records` (each 8-aligned, as
 * in a ring). The rings use the platform byte order; this refuses a big-endian host rather
 * than send records nobody can read.
 */
export function encodeBatch(header: Omit<BatchHeader, 'layoutVersion'>, records: Uint8Array): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('batch encoding needs a little-endian host (the record layout is little-endian on the wire)');
  if (!(header.count >= 1 && header.count <= MAX_BATCH_RECORDS)) throw new RangeError(`batch record count must be 1..${MAX_BATCH_RECORDS}; got ${header.count}`);
  const ex = encoder.encode(header.exchange);
  const sym = encoder.encode(header.symbol);
  if (ex.length > 255 || sym.length > 0xffff) throw new RangeError('exchange or symbol name too long for a batch header');
  const start = pad8(BATCH_HEADER_BYTES + ex.length + sym.length);
  const out = new Uint8Array(start + records.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, BATCH_MAGIC, true);
  dv.setUint16(4, LAYOUT_VERSION, true);
  dv.setUint16(6, header.count, true);
  dv.setUint32(8, header.publisherId >>> 0, true);
  dv.setUint32(12, header.epoch >>> 0, true);
  dv.setFloat64(16, header.subjectSeq, true);
  dv.setFloat64(24, header.publishTs, true);
  dv.setUint32(32, header.connectionId >>> 0, true);
  dv.setUint8(36, header.exchangeCode);
  dv.setUint8(37, ex.length);
  dv.setUint16(38, sym.length, true);
  out.set(ex, BATCH_HEADER_BYTES);
  out.set(sym, BATCH_HEADER_BYTES + ex.length);
  out.set(records, start);
  return out;
}

/** Parses and checks a batch; throws an Error naming what is wrong (never trusts a length). */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  if (!LITTLE_ENDIAN) throw new Error('batch decoding needs a little-endian host');
  if (bytes.length < BATCH_HEADER_BYTES) throw new Error(`batch of ${bytes.length} bytes is shorter than its ${BATCH_HEADER_BYTES}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic !== BATCH_MAGIC) throw new Error(`not a ringfeed batch: magic 0x${magic.toString(16)}`);
  const layoutVersion = dv.getUint16(4, true);
  if (layoutVersion !== LAYOUT_VERSION) throw new Error(`batch layout version ${layoutVersion}; this ringfeed reads version ${LAYOUT_VERSION}`);
  const count = dv.getUint16(6, true);
  const exLen = dv.getUint8(37);
  const symLen = dv.getUint16(38, true);
  const start = pad8(BATCH_HEADER_BYTES + exLen + symLen);
  if (start > bytes.length) throw new Error('batch header names run past the end of the message');
  let exchange: string;
  let symbol: string;
  try {
    exchange = decoder.decode(bytes.subarray(BATCH_HEADER_BYTES, BATCH_HEADER_BYTES + exLen));
    symbol = decoder.decode(bytes.subarray(BATCH_HEADER_BYTES + exLen, BATCH_HEADER_BYTES + exLen + symLen));
  } catch {
    throw new Error('batch header names are not valid UTF-8');
  }
  if (exchange === '') throw new Error('batch header has no exchange name');
  const offsets: number[] = [];
  let o = start;
  for (let i = 0; i < count; i++) {
    if (o + HEADER_SIZE > bytes.length) throw new Error(`batch says ${count} records but ends after ${i}`);
    const len = dv.getUint32(o + OFF_LENGTH, true);
    if (len < HEADER_SIZE || len % 8 !== 0 || o + len > bytes.length) throw new Error(`record ${i} of the batch has a bad length ${len}`);
    const type = dv.getUint8(o + OFF_TYPE);
    if (RECORD_TYPE_NAMES[type] === undefined) throw new Error(`record ${i} of the batch has an unknown type byte ${type}`);
    offsets.push(o);
    o += len;
  }
  if (o !== bytes.length) throw new Error(`batch has ${bytes.length - o} bytes after its ${count} records`);
  return {
    layoutVersion,
    count,
    publisherId: dv.getUint32(8, true),
    epoch: dv.getUint32(12, true),
    subjectSeq: dv.getFloat64(16, true),
    publishTs: dv.getFloat64(24, true),
    connectionId: dv.getUint32(32, true),
    exchangeCode: dv.getUint8(36),
    exchange,
    symbol,
    bytes,
    offsets,
  };
}
