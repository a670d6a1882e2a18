/**
 * The TCP venues' stand-in for recordings (no public recording of OpenD's or TWS's protocol
 * exists): the frames a venue's simulator sends a real session of that venue, captured over
 * loopback, and mutations of them that keep or break the venue's framing. Used by the property
 * tests and the fuzzer (test/property.test.ts, scripts/fuzz.ts) for every row with `captured`.
 *
 * Replay is deterministic: a fresh session given the same streams assigns the same request ids
 * and serial numbers, so the captured answers match its requests.
 */
import net from 'node:net';
import { DEFAULT_LIMITS } from '../../src/engine/options.js';
import type { RecordSink, StreamSpec, TcpSession, TcpVenueAdapter } from '../../src/venues/contract.js';
import { waitFor } from '../helpers/wait.js';
import { NO_SINK, quietTcpContext } from './recording-context.js';
import type { VenueCase } from './venue-cases.js';

/** A TCP row's capture: what to subscribe on the simulator, how many frames to keep. */
export interface CapturedCase {
  readonly streams: readonly StreamSpec[];
  /** Frames to capture, handshake answers included. */
  readonly frames: number;
  /** Simulator base rate while capturing. */
  readonly rate: number;
  /** The part of a frame mutations change (what follows the venue's header). */
  payload(frame: Buffer): Buffer;
  /** A well-formed frame (length, checksum) around a changed payload. */
  reframe(frame: Buffer, payload: Buffer): Buffer;
  /** Byte between the payload's fields (TWS: NUL): mutations also replace whole fields. */
  readonly fieldSeparator?: number;
  /** Sanity floor: the captured frames must make more sink calls than this. */
  readonly minSinkCalls: number;
}

export type CapturedVenueCase = VenueCase & { readonly captured: CapturedCase };

/** A session of `c` on `sink`, its handshake written to `send`, with the row's streams. */
export function capturedSession(c: CapturedVenueCase, sink: RecordSink, send: (bytes: Uint8Array) => void = () => {}): TcpSession<Buffer> {
  const session = (c.adapter as TcpVenueAdapter).createSession(quietTcpContext(sink, send));
  for (const bytes of session.openMessages(c.captured.streams)) send(bytes);
  session.addStreams(c.captured.streams);
  return session;
}

/** The first `captured.frames` frames `c`'s simulator sends a real session of `c` (seed 1). */
export async function captureFrames(c: CapturedVenueCase): Promise<Buffer[]> {
  const adapter = c.adapter as TcpVenueAdapter;
  const sim = await c.simulator.start({ port: 0, seed: 1, rate: c.captured.rate });
  const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(sim.wsUrl).port) });
  const frames: Buffer[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const session = capturedSession(c, NO_SINK, (bytes) => socket.write(bytes));
    const decoder = adapter.framing.decoder(DEFAULT_LIMITS.maxFrameBytes);
    socket.on('data', (chunk: Buffer) =>
      decoder.push(chunk, (frame) => {
        if (frames.length >= c.captured.frames) return;
        frames.push(Buffer.from(frame));
        session.onFrame(frame);
      }),
    );
    await waitFor(() => frames.length >= c.captured.frames, `${c.captured.frames} frames from the ${c.id} simulator`);
    session.onDisconnect();
  } finally {
    socket.destroy();
    await sim.close();
  }
  return frames;
}

const WEIRD_FIELDS = ['', '-1', '0', 'abc', '1e308', 'Infinity', '-Infinity', '1e999', 'NaN', '9007199254740993', '-0', 'x'.repeat(5000)];

/**
 * One mutated frame from `frames`, driven by `rnd` (0 ≤ rnd() < 1): most keep the framing (the
 * payload changed, then reframed, so the session's decoder sees it), some break it (bytes of the
 * frame itself flipped or cut, which the session must refuse as a whole).
 */
export function mutateCaptured(c: CapturedCase, frames: readonly Buffer[], rnd: () => number): Buffer {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
  const frame = pick(frames);
  let payload = Buffer.from(c.payload(frame));
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    switch (int(c.fieldSeparator === undefined ? 5 : 6)) {
      case 0: // byte flips
        for (let i = 0, n = 1 + int(4); i < n && payload.length > 0; i++) payload[int(payload.length)] = int(256);
        break;
      case 1: // truncated
        payload = payload.subarray(0, int(payload.length + 1));
        break;
      case 2: {
        // spliced with another frame's payload
        const other = c.payload(pick(frames));
        payload = Buffer.concat([payload.subarray(0, int(payload.length + 1)), other.subarray(int(other.length + 1))]);
        break;
      }
      case 3: // random bytes inserted
        payload = Buffer.concat([
          payload.subarray(0, int(payload.length + 1)),
          Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))),
          payload.subarray(int(payload.length + 1)),
        ]);
        break;
      case 4: // the framing itself broken: returned as is
        return breakFraming(frame, int);
      default: {
        // a whole field replaced by something extreme
        const fields = splitOn(payload, c.fieldSeparator!);
        fields[int(fields.length)] = Buffer.from(pick(WEIRD_FIELDS));
        payload = Buffer.concat(fields.flatMap((f, i) => (i === 0 ? [f] : [Buffer.from([c.fieldSeparator!]), f])));
      }
    }
  }
  return c.reframe(frame, payload);
}

function breakFraming(frame: Buffer, int: (n: number) => number): Buffer {
  const copy = Buffer.from(frame);
  if (int(2) === 0) return copy.subarray(0, int(copy.length));
  for (let i = 0, n = 1 + int(3); i < n; i++) copy[int(copy.length)] = int(256);
  return copy;
}

function splitOn(b: Buffer, sep: number): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let i = b.indexOf(sep); i >= 0; i = b.indexOf(sep, from)) {
    out.push(b.subarray(from, i));
    from = i + 1;
  }
  out.push(b.subarray(from));
  return out;
}
