// Properties over seeded random input. (a) However an encoded stream of random
// messages is split, it decodes to the same frames and messages, and every
// ping is answered in order. (b) Random garbage and bit-flipped valid traffic
// never make `receive` throw; the connection always ends once, with a close
// code allowed on the wire or 1006, within bounded time and output. Every
// failure message names its seed, so `mulberry32(seed)` reproduces it.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { Message } from "../../mod.ts";
import { type Frame, FrameParser, OPCODE } from "../../src/codec/mod.ts";
import {
  assertBytes,
  createHarness,
  describeFrames,
  mulberry32,
  randomInt,
  ROLES,
} from "./_harness.ts";
import { checkSurvives, type HostileInput, randomSplit, randomStream, survive } from "./_fuzz.ts";

function assertSameMessages(
  actual: readonly Message[],
  expected: readonly Message[],
  label: string,
) {
  assert.equal(actual.length, expected.length, `${label}: message count`);
  for (const [i, message] of expected.entries()) {
    const got = actual[i];
    if (typeof message === "string") {
      assert.ok(got === message, `${label}: text message ${i} differs`);
    } else {
      assert.ok(got instanceof Uint8Array, `${label}: message ${i} is not binary`);
      assertBytes(got, message, `${label}: binary message ${i}`);
    }
  }
}

for (const role of ROLES) {
  test(`FrameParser (${role}, property a) decodes any split of a random stream to the same frames, seeds 1-100`, () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = mulberry32(seed);
      const stream = randomStream(random, role);
      const parser = new FrameParser({ role });
      const frames: Frame[] = [];
      for (const chunk of randomSplit(random, stream.bytes.slice())) {
        parser.push(chunk, (frame) => frames.push({ ...frame, payload: frame.payload.slice() }));
      }
      const label = `seed ${seed}`;
      assert.equal(parser.hasPartialFrame, false, label);
      assert.equal(frames.length, stream.frames.length, `${label}: frame count`);
      for (const [i, frame] of stream.frames.entries()) {
        const got = frames[i]!;
        assert.equal(got.opcode, frame.opcode, `${label}: opcode of frame ${i}`);
        assert.equal(got.fin, frame.fin, `${label}: fin of frame ${i}`);
        assertBytes(got.payload, frame.payload, `${label}: payload of frame ${i}`);
      }
    }
  });

  test(`Connection (${role}, property a) delivers any split of a random stream as the same messages, seeds 1-100`, () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = mulberry32(seed);
      const stream = randomStream(random, role);
      const h = createHarness(role, { echo: false });
      for (const chunk of randomSplit(random, stream.bytes)) h.feed(chunk);
      const label = `seed ${seed}`;
      assertSameMessages(h.messages, stream.messages, label);
      assert.deepEqual(h.pings, stream.pings, `${label}: pings`);
      assert.deepEqual(h.pongs, stream.pongs, `${label}: pongs`);
      const written = h.frames();
      assert.deepEqual(
        written.map((frame) => frame.opcode),
        stream.pings.map(() => OPCODE.Pong),
        `${label}: one pong per ping, nothing else: ${describeFrames(written)}`,
      );
      for (const [i, pong] of written.entries()) {
        assertBytes(pong.payload, stream.pings[i]!, `${label}: pong ${i}`);
      }
      assert.equal(h.ends.length, 0, `${label}: ended ${JSON.stringify(h.ends[0]?.info)}`);
    }
  });
}

/** Asserts that the random inputs reached each of `expected` close codes at least once. */
function assertReached(codes: ReadonlySet<number>, expected: readonly number[]): void {
  for (const code of expected) {
    assert.ok(codes.has(code), `no input ended with ${code}; reached ${[...codes].join(", ")}`);
  }
}

for (const role of ROLES) {
  const cases: [HostileInput, number, number[]][] = [
    ["garbage", 400, [1002, 1006]],
    ["garbage behind a header", 400, [1002, 1006, 1007]],
    ["bit-flipped traffic", 200, [1002, 1006, 1007]],
  ];
  for (const [kind, seeds, expected] of cases) {
    test(`Connection (${role}, property b) survives ${kind}, seeds 1-${seeds}`, () => {
      const codes = new Set<number>();
      for (let seed = 1; seed <= seeds; seed++) codes.add(survive(kind, role, seed));
      assertReached(codes, expected);
    });
  }

  test(`Connection (${role}, property b) reports 1006 for valid traffic cut short, seeds 1-100`, () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = mulberry32(seed);
      const bytes = randomStream(random, role).bytes;
      const cut = randomInt(random, 0, bytes.length - 1);
      const h = createHarness(role, { echo: false });
      checkSurvives(h, randomSplit(random, bytes.subarray(0, cut)), `seed ${seed} (cut at ${cut})`);
      assert.equal(h.ends[0]!.info.code, 1006, `seed ${seed}`);
    }
  });
}
