/**
 * Hostile input for a {@linkcode Connection}, and the invariants it must keep
 * whatever it is fed: `receive` never throws, the connection ends exactly
 * once with a close code allowed on the wire (or 1006, or 1005 for a peer's
 * empty close), within bounded time and output. Shared by the property tests
 * and `scripts/fuzz.ts`; every input comes from a seed, so a failure
 * reproduces.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Message } from "../../mod.ts";
import { encodeFrame, type Frame, isValidCloseCode, OPCODE } from "../../src/codec/mod.ts";
import {
  closeCodeOf,
  concat,
  createHarness,
  decodeFrames,
  describeFrames,
  type Harness,
  hex,
  mulberry32,
  randomBytes,
  randomInt,
  type Role,
} from "./_harness.ts";

/** A source of numbers in [0, 1). */
export type Random = () => number;

/** A valid stream of frames with what it should deliver. */
export interface RandomStream {
  bytes: Uint8Array;
  frames: Frame[];
  messages: Message[];
  pings: Uint8Array[];
  pongs: Uint8Array[];
}

function randomCodePoint(random: Random): number {
  const kind = random();
  if (kind < 0.5) return randomInt(random, 0x00, 0x7f);
  if (kind < 0.7) return randomInt(random, 0x80, 0x7ff);
  if (kind < 0.9) {
    const point = randomInt(random, 0x800, 0xfffd);
    return point >= 0xd800 && point <= 0xdfff ? 0xfffd : point;
  }
  return randomInt(random, 0x10000, 0x10ffff);
}

function randomLength(random: Random): number {
  const kind = random();
  if (kind < 0.7) return randomInt(random, 0, 130);
  if (kind < 0.9) return randomInt(random, 0, 2000);
  if (kind < 0.98) return randomInt(random, 126, 70_000);
  return randomInt(random, 65_536, 140_000);
}

/** A random stream of text and binary messages, some fragmented, with pings and pongs between frames. */
export function randomStream(random: Random, role: Role): RandomStream {
  const frames: Frame[] = [];
  const messages: Message[] = [];
  const pings: Uint8Array[] = [];
  const pongs: Uint8Array[] = [];
  const maybeControl = (): void => {
    const kind = random();
    if (kind < 0.15) {
      const payload = randomBytes(random, randomInt(random, 0, 125));
      frames.push({ fin: true, opcode: OPCODE.Ping, payload });
      pings.push(payload);
    } else if (kind < 0.22) {
      const payload = randomBytes(random, randomInt(random, 0, 125));
      frames.push({ fin: true, opcode: OPCODE.Pong, payload });
      pongs.push(payload);
    }
  };
  const count = randomInt(random, 1, 12);
  for (let m = 0; m < count; m++) {
    maybeControl();
    const isText = random() < 0.5;
    let payload: Uint8Array;
    if (isText) {
      const points: number[] = [];
      const target = randomLength(random);
      for (let size = 0; size < target;) {
        const point = randomCodePoint(random);
        points.push(point);
        size += point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
      }
      const text = String.fromCodePoint(...points.slice(0, 50_000)) +
        (points.length > 50_000 ? String.fromCodePoint(...points.slice(50_000)) : "");
      messages.push(text);
      payload = new TextEncoder().encode(text);
    } else {
      payload = randomBytes(random, randomLength(random));
      messages.push(payload);
    }
    const opcode = isText ? OPCODE.Text : OPCODE.Binary;
    const pieces = random() < 0.5 ? 1 : randomInt(random, 2, 6);
    const cuts = Array.from({ length: pieces - 1 }, () => randomInt(random, 0, payload.length))
      .sort((a, b) => a - b);
    const bounds = [0, ...cuts, payload.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      if (i > 0) maybeControl();
      frames.push({
        fin: i + 2 === bounds.length,
        opcode: i === 0 ? opcode : OPCODE.Continuation,
        payload: payload.slice(bounds[i], bounds[i + 1]),
      });
    }
  }
  maybeControl();
  const encoded = frames.map((frame) =>
    encodeFrame(frame, role === "server" ? { mask: randomBytes(random, 4) } : {})
  );
  return { bytes: concat(...encoded), frames, messages, pings, pongs };
}

/** Cuts `bytes` at random points: none, a few, many, or at every byte. */
export function randomSplit(random: Random, bytes: Uint8Array): Uint8Array[] {
  const kind = random();
  if (kind < 0.05 && bytes.length <= 4096) {
    return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  }
  const cutCount = kind < 0.15
    ? 0
    : kind < 0.7
    ? randomInt(random, 1, 8)
    : randomInt(random, 9, 200);
  const cuts = Array.from({ length: cutCount }, () => randomInt(random, 0, bytes.length))
    .sort((a, b) => a - b);
  const bounds = [0, ...cuts, bytes.length];
  const chunks: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) chunks.push(bytes.subarray(bounds[i], bounds[i + 1]));
  return chunks;
}

/**
 * Feeds `chunks`, then ends the input if the connection has not ended, and
 * checks the invariants every input must keep.
 */
export function checkSurvives(h: Harness, chunks: readonly Uint8Array[], label: string): number {
  let inputLength = 0;
  const started = performance.now();
  for (const chunk of chunks) {
    inputLength += chunk.length;
    try {
      h.connection.receive(chunk.slice());
    } catch (error) {
      assert.fail(`${label}: receive threw ${String(error)}`);
    }
  }
  if (h.ends.length === 0) {
    h.connection.receiveEnd();
    assert.equal(h.ends.length, 1, `${label}: receiveEnd did not end the connection`);
    assert.deepEqual(h.ends[0]!.info, { code: 1006, reason: "", wasClean: false }, label);
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 2000, `${label}: took ${elapsed.toFixed(0)} ms`);
  assert.equal(h.ends.length, 1, `${label}: end calls`);
  const { info } = h.ends[0]!;
  assert.deepEqual(h.connection.closeInfo, info, label);
  assert.equal(h.connection.state, "closed", label);

  let frames: Frame[];
  try {
    frames = decodeFrames(h.role, h.written());
  } catch (error) {
    assert.fail(`${label}: wrote bytes its peer cannot decode: ${String(error)}`);
  }
  const closes = frames.filter((frame) => frame.opcode === OPCODE.Close);
  assert.ok(closes.length <= 1, `${label}: ${describeFrames(frames)}`);
  const close = closes[0];
  if (close !== undefined) {
    assert.equal(
      frames.at(-1),
      close,
      `${label}: wrote after its close: ${describeFrames(frames)}`,
    );
  }
  if (info.code === 1006) {
    assert.equal(info.wasClean, false, label);
    assert.equal(close, undefined, `${label}: 1006 with a close frame written`);
  } else if (info.wasClean) {
    // The peer's close frame: echoed, or answered empty when it had no code (1005).
    assert.ok(close !== undefined, `${label}: clean end without a close frame`);
    if (info.code === 1005) assert.equal(close.payload.length, 0, label);
    else {
      assert.ok(isValidCloseCode(info.code), `${label}: code ${info.code}`);
      assert.equal(closeCodeOf(close), info.code, label);
    }
  } else {
    assert.ok(isValidCloseCode(info.code), `${label}: failed with code ${info.code}`);
    assert.ok(close !== undefined, `${label}: failed without a close frame`);
    assert.equal(closeCodeOf(close), info.code, `${label}: close frame code`);
  }

  // Bounded output: no more than the input calls for (a pong per ping, one close).
  const messageBytes = h.messages.reduce(
    (sum, message) => sum + (typeof message === "string" ? message.length : message.length),
    0,
  );
  assert.ok(messageBytes <= inputLength, `${label}: ${messageBytes} bytes of messages`);
  assert.ok(h.written().length <= 3 * inputLength + 140, `${label}: wrote ${h.written().length}`);

  // Nothing more once ended.
  const writes = h.writes.length;
  h.connection.receive(Uint8Array.of(0x89, 0x80, 1, 2, 3, 4, 0x89, 0x00));
  h.connection.receiveEnd();
  assert.equal(h.writes.length, writes, `${label}: wrote after the end`);
  assert.equal(h.ends.length, 1, `${label}: ended twice`);
  return info.code;
}

// Text, binary, continuation with and without FIN, close, ping and pong.
const PLAUSIBLE_BYTE0 = [0x81, 0x82, 0x01, 0x02, 0x00, 0x80, 0x88, 0x89, 0x8a] as const;

/** The kinds of hostile input, each made from a seed. */
export const HOSTILE_INPUTS = [
  "garbage",
  "garbage behind a header",
  "bit-flipped traffic",
] as const;
/** One of {@linkcode HOSTILE_INPUTS}. */
export type HostileInput = typeof HOSTILE_INPUTS[number];

/**
 * Makes the input of one kind for one seed, feeds it to a new connection of
 * `role` cut at random points, and checks the invariants.
 *
 * @returns The close code the connection ended with.
 */
export function survive(kind: HostileInput, role: Role, seed: number): number {
  const random = mulberry32(seed);
  if (kind === "garbage") {
    const h = createHarness(role, { echo: random() < 0.5, maxMessageSize: 1 << 20 });
    const garbage = randomBytes(random, randomInt(random, 0, random() < 0.9 ? 64 : 4000));
    const label = `${kind}, ${role}, seed ${seed} (${hex(garbage.subarray(0, 16))}...)`;
    return checkSurvives(h, randomSplit(random, garbage), label);
  }
  if (kind === "garbage behind a header") {
    const h = createHarness(role, { echo: false, maxMessageSize: 1 << 20 });
    // A plausible first byte and mask bit, so the garbage reaches the later checks.
    const byte0 = PLAUSIBLE_BYTE0[randomInt(random, 0, PLAUSIBLE_BYTE0.length - 1)]!;
    const byte1 = (role === "server" ? 0x80 : 0) | randomInt(random, 0, 127);
    const bytes = concat(
      Uint8Array.of(byte0, byte1),
      randomBytes(random, randomInt(random, 0, 300)),
    );
    const label = `${kind}, ${role}, seed ${seed} (${hex(bytes.subarray(0, 16))}...)`;
    return checkSurvives(h, randomSplit(random, bytes), label);
  }
  const bytes = randomStream(random, role).bytes.slice();
  const flips = randomInt(random, 1, 4);
  const flipped: number[] = [];
  for (let i = 0; i < flips; i++) {
    // Flip mostly near the start, where the headers are dense.
    const at = random() < 0.6
      ? randomInt(random, 0, Math.min(bytes.length - 1, 40))
      : randomInt(random, 0, bytes.length - 1);
    bytes[at]! ^= 1 << randomInt(random, 0, 7);
    flipped.push(at);
  }
  const h = createHarness(role, { echo: random() < 0.5, maxMessageSize: 1 << 20 });
  const label = `${kind}, ${role}, seed ${seed} (bits flipped at ${flipped})`;
  return checkSurvives(h, randomSplit(random, bytes), label);
}
