/**
 * Framing of a byte stream (TCP) into whole frames, for `tcp-task.ts`.
 *
 * Invariants:
 * - Frames are emitted whole and in order, however the bytes are split across reads (a frame in
 *   many reads, many frames in one read).
 * - A frame whose declared size exceeds `maxFrameBytes` throws `FrameTooLarge` as soon as its
 *   header is read: nothing of it is buffered.
 * - An emitted `Buffer` is a view into the decoder's memory (or the read's chunk), valid only
 *   during the `emit` call. Bytes are copied only when a frame spans reads.
 */

/** Turns one connection's bytes into frames (`push` each read). */
export interface FrameDecoder<F> {
  push(chunk: Buffer, emit: (frame: F) => void): void;
}

export interface Framing<F> {
  /** A decoder for one connection. */
  decoder(maxFrameBytes: number): FrameDecoder<F>;
}

/** A frame declared larger than the limit: the task ends with `too-large`. */
export class FrameTooLarge extends Error {}

/** Bytes that cannot be a frame (wrong magic): the stream's framing is lost. */
export class FrameCorrupt extends Error {}

export interface LengthPrefixOptions {
  /** Bytes of the fixed header, which holds the length field. */
  readonly headerBytes: number;
  /** Offset of the length field in the header. */
  readonly lengthAt: number;
  /** Size of the length field (default 4). */
  readonly lengthBytes?: 1 | 2 | 4;
  /** Byte order of the length field (default big-endian, network order). */
  readonly littleEndian?: boolean;
  /** The length counts the header too (default: it counts the body only). */
  readonly lengthIncludesHeader?: boolean;
  /** Bytes every header starts with (e.g. `FT` for Futu OpenD). */
  readonly magic?: string;
}

/**
 * Frames of a fixed header holding the body's length, then the body. Each frame is emitted as
 * one Buffer, header included. Futu OpenD: `{ headerBytes: 44, lengthAt: 12, littleEndian: true,
 * magic: 'FT' }`; the TWS API: `{ headerBytes: 4, lengthAt: 0 }` (see `twsFraming`).
 */
export function lengthPrefixed(options: LengthPrefixOptions): Framing<Buffer> {
  return { decoder: (maxFrameBytes) => new LengthPrefixedDecoder(options, maxFrameBytes) };
}

class LengthPrefixedDecoder implements FrameDecoder<Buffer> {
  private readonly headerBytes: number;
  private readonly readLength: (buf: Buffer, at: number) => number;
  private readonly bodyOffset: number;
  private readonly magic: Buffer | undefined;
  /** Bytes of an incomplete frame carried over from earlier reads: `held[0, heldBytes)`. */
  private held = Buffer.alloc(0);
  private heldBytes = 0;

  constructor(
    options: LengthPrefixOptions,
    private readonly maxFrameBytes: number,
  ) {
    const { headerBytes, lengthAt, lengthBytes = 4, littleEndian = false } = options;
    if (lengthAt < 0 || lengthAt + lengthBytes > headerBytes) {
      throw new RangeError(`length field at ${lengthAt} (${lengthBytes} bytes) is outside the ${headerBytes}-byte header`);
    }
    this.headerBytes = headerBytes;
    this.bodyOffset = options.lengthIncludesHeader ? 0 : headerBytes;
    this.magic = options.magic === undefined ? undefined : Buffer.from(options.magic, 'latin1');
    const off = lengthAt;
    this.readLength =
      lengthBytes === 1
        ? (b, at) => b[at + off]!
        : lengthBytes === 2
          ? littleEndian
            ? (b, at) => b.readUInt16LE(at + off)
            : (b, at) => b.readUInt16BE(at + off)
          : littleEndian
            ? (b, at) => b.readUInt32LE(at + off)
            : (b, at) => b.readUInt32BE(at + off);
  }

  push(chunk: Buffer, emit: (frame: Buffer) => void): void {
    let buf = chunk;
    let end = chunk.length;
    if (this.heldBytes > 0) {
      this.hold(chunk);
      buf = this.held;
      end = this.heldBytes;
    }
    let at = 0;
    while (end - at >= this.headerBytes) {
      const size = this.frameSize(buf, at);
      if (end - at < size) break;
      emit(buf.subarray(at, at + size));
      at += size;
    }
    if (buf === this.held) {
      this.held.copyWithin(0, at, end);
      this.heldBytes = end - at;
    } else if (at < end) {
      this.hold(chunk.subarray(at));
    }
  }

  /** Size of the frame whose header starts at `at` (checked against magic and limit). */
  private frameSize(buf: Buffer, at: number): number {
    const magic = this.magic;
    if (magic !== undefined && buf.compare(magic, 0, magic.length, at, at + magic.length) !== 0) {
      throw new FrameCorrupt(`frame header does not start with ${JSON.stringify(magic.toString('latin1'))}`);
    }
    const size = this.bodyOffset + this.readLength(buf, at);
    if (size > this.maxFrameBytes) {
      throw new FrameTooLarge(`frame of ${size} bytes exceeds limits.maxFrameBytes (${this.maxFrameBytes})`);
    }
    if (size < this.headerBytes) throw new FrameCorrupt(`frame length ${size} is shorter than its header`);
    return size;
  }

  /** Appends to the held bytes (grown by doubling, never beyond one frame's worth plus a read). */
  private hold(bytes: Buffer): void {
    const need = this.heldBytes + bytes.length;
    if (need > this.held.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * this.held.length, 4096));
      this.held.copy(grown, 0, 0, this.heldBytes);
      this.held = grown;
    }
    bytes.copy(this.held, this.heldBytes);
    this.heldBytes = need;
  }
}

const TWS_LENGTH_PREFIX = lengthPrefixed({ headerBytes: 4, lengthAt: 0 });

/**
 * The TWS API (Interactive Brokers): a 4-byte big-endian length, then fields, each ended by a
 * NUL. Each frame is emitted as its list of fields (text).
 */
export const twsFraming: Framing<string[]> = {
  decoder(maxFrameBytes) {
    const inner = TWS_LENGTH_PREFIX.decoder(maxFrameBytes);
    return {
      push(chunk, emit) {
        inner.push(chunk, (frame) => emit(twsFields(frame)));
      },
    };
  },
};

function twsFields(frame: Buffer): string[] {
  const text = frame.toString('utf8', 4);
  const fields = text.split('\0');
  if (text.endsWith('\0')) fields.pop();
  return fields;
}

/** A TWS message: the fields, each NUL-terminated, behind their 4-byte big-endian length. */
export function twsMessage(fields: readonly (string | number)[]): Buffer {
  return twsFrame(Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8'));
}

/** `body` behind its 4-byte big-endian length (TWS framing). */
export function twsFrame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}
