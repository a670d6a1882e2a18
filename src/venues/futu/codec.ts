/**
 * OpenD's TCP packet: a 44-byte header, then the body (protobuf here). All integers little-endian.
 *
 *   0  "FT"          2 bytes
 *   2  protoID       u32
 *   6  protoFmtType  u8   (0 protobuf, 1 JSON)
 *   7  protoVer      u8   (0)
 *   8  serialNo      u32
 *  12  bodyLen       u32
 *  16  SHA-1(body)   20 bytes
 *  36  reserved      8 bytes
 */
import { createHash } from 'node:crypto';
import { lengthPrefixed } from '../../worker/framing.js';

export const FUTU_HEADER_BYTES = 44;
export const FUTU_FORMAT_PROTOBUF = 0;

/** Cuts a byte stream into whole OpenD packets (header included). */
export const futuFraming = lengthPrefixed({ headerBytes: FUTU_HEADER_BYTES, lengthAt: 12, littleEndian: true, magic: 'FT' });

export interface FutuHeader {
  readonly protoId: number;
  readonly format: number;
  readonly serial: number;
  readonly bodyLength: number;
}

/** One packet: header (with the body's SHA-1) and body. */
export function encodePacket(protoId: number, serial: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FUTU_HEADER_BYTES + body.length);
  out.write('FT', 0, 'latin1');
  out.writeUInt32LE(protoId >>> 0, 2);
  out[6] = FUTU_FORMAT_PROTOBUF;
  out[7] = 0;
  out.writeUInt32LE(serial >>> 0, 8);
  out.writeUInt32LE(body.length, 12);
  createHash('sha1').update(body).digest().copy(out, 16);
  out.fill(0, 36, FUTU_HEADER_BYTES);
  out.set(body, FUTU_HEADER_BYTES);
  return out;
}

/** The header of a whole packet; throws naming what is wrong. */
export function readHeader(packet: Buffer): FutuHeader {
  if (packet.length < FUTU_HEADER_BYTES) throw new Error(`futu: packet of ${packet.length} bytes is shorter than the 44-byte header`);
  if (packet[0] !== 0x46 || packet[1] !== 0x54) throw new Error('futu: packet header does not start with "FT"');
  const bodyLength = packet.readUInt32LE(12);
  if (bodyLength !== packet.length - FUTU_HEADER_BYTES) {
    throw new Error(`futu: header says ${bodyLength} body bytes, the packet has ${packet.length - FUTU_HEADER_BYTES}`);
  }
  return { protoId: packet.readUInt32LE(2), format: packet[6]!, serial: packet.readUInt32LE(8), bodyLength };
}

/** The body of a whole protobuf packet, its SHA-1 checked; throws naming what is wrong. */
export function packetBody(packet: Buffer, header: FutuHeader = readHeader(packet)): Buffer {
  if (header.format !== FUTU_FORMAT_PROTOBUF) {
    throw new Error(`futu: proto ${header.protoId} has body format ${header.format}; only 0 (protobuf) is spoken`);
  }
  const body = packet.subarray(FUTU_HEADER_BYTES);
  const sha = createHash('sha1').update(body).digest();
  if (sha.compare(packet, 16, 36) !== 0) throw new Error(`futu: proto ${header.protoId} serial ${header.serial}: body SHA-1 does not match the header`);
  return body;
}
