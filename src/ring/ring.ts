import { waitAsync } from './atomics.js';
import type { Doorbell } from './doorbell.js';

/**
 * Single-producer single-consumer ring of variable-length records over a SharedArrayBuffer.
 *
 * Layout: a 256-byte header followed by the data region (`capacity` bytes, a power of two).
 * Header (Int32 cells, byte offsets):
 *   0    write position (producer-owned; published with one Atomics.store per publish())
 *   128  read position (consumer-owned; published with one Atomics.store per release())
 *   132  producerWaiting flag (set by a producer blocked in waitForSpace, cleared by release)
 *   192..255 reserved for future use (e.g. counters); zero.
 * Positions are byte counters modulo 2^32; used = (write - read) >>> 0; index = pos & mask.
 *
 * Records are 8-byte aligned; the first u32 of a record is its total length (multiple of 8)
 * and the byte at +4 its type. A record never straddles the end of the data region: the
 * writer fills the tail with a padding record (type 0) and continues at index 0.
 */
export const RING_HEADER_BYTES = 256;
export const RING_MIN_CAPACITY = 4096;
export const RING_MAX_CAPACITY = 2 ** 30;
/** Type byte of a padding record. */
export const PADDING_TYPE = 0;

/** Byte offsets of the Int32 header cells. */
export const RING_WRITE_POS_OFFSET = 0;
export const RING_READ_POS_OFFSET = 128;
export const RING_PRODUCER_WAITING_OFFSET = 132;

const WRITE_CELL = RING_WRITE_POS_OFFSET >>> 2;
const READ_CELL = RING_READ_POS_OFFSET >>> 2;
const WAITING_CELL = RING_PRODUCER_WAITING_OFFSET >>> 2;

/** The typed views a record reader/writer needs (all over the data region only). */
export interface RecordViews {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
}

/** Create the SharedArrayBuffer for a ring with `capacityBytes` of data. */
export function createRing(capacityBytes: number): SharedArrayBuffer {
  if (
    !Number.isInteger(capacityBytes) ||
    capacityBytes < RING_MIN_CAPACITY ||
    capacityBytes > RING_MAX_CAPACITY ||
    (capacityBytes & (capacityBytes - 1)) !== 0
  ) {
    throw new RangeError(
      `ring capacity must be a power of two between ${RING_MIN_CAPACITY} and ${RING_MAX_CAPACITY} bytes, got ${capacityBytes}`,
    );
  }
  return new SharedArrayBuffer(RING_HEADER_BYTES + capacityBytes);
}

/** Data capacity of a ring SAB (validates it). */
export function ringCapacity(sab: SharedArrayBuffer): number {
  if (!(sab instanceof SharedArrayBuffer)) {
    throw new TypeError('ring needs a SharedArrayBuffer from createRing()');
  }
  const cap = sab.byteLength - RING_HEADER_BYTES;
  if (cap < RING_MIN_CAPACITY || (cap & (cap - 1)) !== 0) {
    throw new RangeError(`not a ring buffer: byteLength ${sab.byteLength}`);
  }
  return cap;
}

abstract class RingSide implements RecordViews {
  readonly capacity: number;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  protected readonly header: Int32Array;
  protected readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    const cap = ringCapacity(sab);
    this.capacity = cap;
    this.mask = cap - 1;
    this.header = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    this.u8 = new Uint8Array(sab, RING_HEADER_BYTES, cap);
    this.u32 = new Uint32Array(sab, RING_HEADER_BYTES, cap / 4);
    this.f64 = new Float64Array(sab, RING_HEADER_BYTES, cap / 8);
  }
}

/** Producer side. Exactly one RingWriter per ring, used from one thread. */
export class RingWriter extends RingSide {
  /** Largest record `reserve()` accepts. */
  readonly maxRecordBytes: number;
  private readonly doorbell: Doorbell | undefined;
  /** Local write position (includes reserved, unpublished records). */
  private writePos: number;
  private publishedPos: number;
  /** Last read position loaded from shared memory (refreshed only when space looks short). */
  private cachedRead: number;

  constructor(sab: SharedArrayBuffer, doorbell?: Doorbell) {
    super(sab);
    this.doorbell = doorbell;
    this.maxRecordBytes = this.capacity / 2;
    this.writePos = Atomics.load(this.header, WRITE_CELL) >>> 0;
    this.publishedPos = this.writePos;
    this.cachedRead = Atomics.load(this.header, READ_CELL) >>> 0;
  }

  /** A record too large for this ring is a configuration problem the message must name. */
  private sizeError(size: number): RangeError {
    if (size > this.maxRecordBytes) {
      return new RangeError(
        `record of ${size} bytes does not fit a ring of ${this.capacity} bytes (at most half the ring, ` +
          `${this.maxRecordBytes}); raise ringBytes (a book snapshot takes about 32 bytes per level)`,
      );
    }
    return new RangeError(`record size must be 8..${this.maxRecordBytes} bytes, got ${size}`);
  }

  /**
   * Reserve `size` bytes (rounded up to 8) for one record and write its length word.
   * Returns the record's byte offset in the data region, or -1 when there is not enough free
   * space (nothing is written then). The caller must write a non-zero type byte at +4 (type 0
   * marks padding, which readers skip). The record becomes visible at the next publish().
   * Throws RangeError for sizes below 8 or above capacity/2 (a caller bug, or a ring configured
   * too small for the records it must carry).
   */
  reserve(size: number): number {
    if (!(size >= 8 && size <= this.maxRecordBytes)) {
      throw this.sizeError(size);
    }
    const len = (size + 7) & ~7;
    const idx = this.writePos & this.mask;
    const toEnd = this.capacity - idx;
    const need = len <= toEnd ? len : toEnd + len;
    if (need > this.capacity - ((this.writePos - this.cachedRead) >>> 0)) {
      this.cachedRead = Atomics.load(this.header, READ_CELL) >>> 0;
      if (need > this.capacity - ((this.writePos - this.cachedRead) >>> 0)) return -1;
    }
    const u32 = this.u32;
    if (len > toEnd) {
      u32[idx >>> 2] = toEnd;
      this.u8[idx + 4] = PADDING_TYPE;
      this.writePos = (this.writePos + toEnd) >>> 0;
    }
    const off = this.writePos & this.mask;
    u32[off >>> 2] = len;
    this.writePos = (this.writePos + len) >>> 0;
    return off;
  }

  /** Make everything reserved since the last publish visible, and wake a sleeping consumer. */
  publish(): void {
    if (this.writePos === this.publishedPos) return;
    this.publishedPos = this.writePos;
    Atomics.store(this.header, WRITE_CELL, this.writePos | 0);
    this.doorbell?.ring();
  }

  /** Bytes reserved but not yet published. */
  pendingBytes(): number {
    return (this.writePos - this.publishedPos) >>> 0;
  }

  /** Free bytes right now (a record may need more than its size when it has to wrap). */
  freeBytes(): number {
    this.cachedRead = Atomics.load(this.header, READ_CELL) >>> 0;
    return this.capacity - ((this.writePos - this.cachedRead) >>> 0);
  }

  /** Could a record of `size` bytes be reserved given read position `read`? */
  private fits(size: number, read: number): boolean {
    const len = (size + 7) & ~7;
    const toEnd = this.capacity - (this.writePos & this.mask);
    const need = len <= toEnd ? len : toEnd + len;
    return need <= this.capacity - ((this.writePos - read) >>> 0);
  }

  /**
   * Wait until a record of `bytes` bytes fits (true) or `timeoutMs` passes (false).
   * Publish pending records first, or the consumer may never free anything.
   */
  async waitForSpace(bytes: number, timeoutMs: number): Promise<boolean> {
    if (!(bytes >= 8 && bytes <= this.maxRecordBytes)) {
      throw this.sizeError(bytes);
    }
    const header = this.header;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      Atomics.store(header, WAITING_CELL, 1);
      const observed = Atomics.load(header, READ_CELL);
      this.cachedRead = observed >>> 0;
      if (this.fits(bytes, this.cachedRead)) {
        Atomics.store(header, WAITING_CELL, 0);
        return true;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        Atomics.store(header, WAITING_CELL, 0);
        return false;
      }
      const r = waitAsync(header, READ_CELL, observed, left);
      if (typeof r !== 'string') await r;
    }
  }
}

/** Consumer side. Exactly one RingReader per ring, used from one thread. */
export class RingReader extends RingSide {
  /** Local read position (records taken but not yet released). */
  private readPos: number;
  private releasedPos: number;
  /** Last write position loaded from shared memory. */
  private cachedWrite: number;

  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.readPos = Atomics.load(this.header, READ_CELL) >>> 0;
    this.releasedPos = this.readPos;
    this.cachedWrite = Atomics.load(this.header, WRITE_CELL) >>> 0;
  }

  /**
   * Offset of the next unread record in the data region (padding skipped), or -1 when the
   * ring is empty. Calling it again without advance() returns the same record.
   */
  next(): number {
    for (;;) {
      if (this.readPos === this.cachedWrite) {
        this.cachedWrite = Atomics.load(this.header, WRITE_CELL) >>> 0;
        if (this.readPos === this.cachedWrite) return -1;
      }
      const idx = this.readPos & this.mask;
      if (this.u8[idx + 4] !== PADDING_TYPE) return idx;
      this.readPos = (this.readPos + this.u32[idx >>> 2]) >>> 0;
    }
  }

  /** Move past the record returned by the last next(). Its bytes stay valid until release(). */
  advance(): void {
    if (this.readPos === this.cachedWrite) return;
    this.readPos = (this.readPos + this.u32[(this.readPos & this.mask) >>> 2]) >>> 0;
  }

  /** Give the space of all advanced-past records back to the producer (one atomic store). */
  release(): void {
    if (this.readPos === this.releasedPos) return;
    this.releasedPos = this.readPos;
    const header = this.header;
    Atomics.store(header, READ_CELL, this.readPos | 0);
    if (Atomics.load(header, WAITING_CELL) !== 0) {
      Atomics.store(header, WAITING_CELL, 0);
      Atomics.notify(header, READ_CELL);
    }
  }

  /** true when at least one published record is unread. */
  hasData(): boolean {
    if (this.readPos !== this.cachedWrite) return true;
    this.cachedWrite = Atomics.load(this.header, WRITE_CELL) >>> 0;
    return this.readPos !== this.cachedWrite;
  }

  /** Published bytes not yet advanced past (including padding). */
  usedBytes(): number {
    return (Atomics.load(this.header, WRITE_CELL) - this.readPos) >>> 0;
  }
}
