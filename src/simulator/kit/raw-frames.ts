/**
 * The `raw` fault shared by the venue simulators: frames written to a client socket exactly as
 * given, bypassing the venue protocol, the stall fault and the corked write groups. It is how
 * tests put hostile input on the wire (invalid JSON, binary where text is expected, invalid
 * UTF-8 in a text frame, frames of any size, ping floods).
 */
import type { WebSocket } from '@trufflesuite/uws-js-unofficial';

/** One frame: a string (sent as its UTF-8 bytes) or bytes sent as they are. */
export type RawFrame = string | Uint8Array;

export interface RawFrameOptions {
  /**
   * Opcode of every frame: `text` (default; bytes are not checked, so a `Uint8Array` holding
   * invalid UTF-8 goes out as a text frame), `binary`, or `ping` (WebSocket ping frames, payload
   * at most 125 bytes by RFC 6455; the client's pong is handled like any other).
   */
  readonly opcode?: 'text' | 'binary' | 'ping';
}

/** Bytes and frames a `raw` fault wrote, for the simulator's counters. */
export interface RawSendResult {
  frames: number;
  bytes: number;
  /** Frames uWS refused because the socket's backlog was over its `maxBackpressure`. */
  dropped: number;
}

/** Writes `frames` to one socket; throws when a ping payload exceeds 125 bytes. */
export function sendRawFrames<T>(ws: WebSocket<T>, frames: readonly RawFrame[], opts: RawFrameOptions = {}): RawSendResult {
  const opcode = opts.opcode ?? 'text';
  const result: RawSendResult = { frames: 0, bytes: 0, dropped: 0 };
  for (const f of frames) {
    const bytes = typeof f === 'string' ? Buffer.byteLength(f) : f.byteLength;
    if (opcode === 'ping') {
      if (bytes > 125) throw new Error(`raw ping payload is ${bytes} bytes; a ping carries at most 125`);
      ws.ping(f);
      result.frames++;
      result.bytes += bytes;
      continue;
    }
    // uWS sends a text frame's bytes as given (validation is the receiver's job).
    const status = ws.send(f, opcode === 'binary', false);
    if (status === 2) result.dropped++;
    else {
      result.frames++;
      result.bytes += bytes;
    }
  }
  return result;
}
