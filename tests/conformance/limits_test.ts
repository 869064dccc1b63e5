// Group 9 style: large messages, whole, fragmented and fed in chunks of many
// sizes (bounded at 4 MiB so the suite stays fast), and the limits:
// maxFrameSize and maxMessageSize fail with 1009 as soon as a header takes a
// frame or message past them, maxFragments fails with 1008.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Connection, type Message } from "../../mod.ts";
import { FrameParser, OPCODE } from "../../src/codec/mod.ts";
import {
  assertBytes,
  assertFailed,
  assertSilentAndOpen,
  assertWireFrames,
  binaryFrame,
  concat,
  continuationFrame,
  createHarness,
  type Harness,
  headerBytes,
  patternBytes,
  patternText,
  pingFrame,
  rawFrame,
  type Role,
  ROLES,
  textFrame,
  utf8,
} from "./_harness.ts";

const KiB = 1024;
const MiB = 1024 * 1024;

function sizeName(size: number): string {
  return size >= MiB ? `${size / MiB} MiB` : size >= KiB ? `${size / KiB} KiB` : `${size} bytes`;
}

/** The frames of one message cut into fragments of `fragmentSize` bytes. */
function fragmented(
  role: Role,
  opcode: number,
  payload: Uint8Array,
  fragmentSize: number,
): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let start = 0; start < payload.length; start += fragmentSize) {
    const end = Math.min(start + fragmentSize, payload.length);
    const piece = payload.subarray(start, end);
    const fin = end === payload.length;
    frames.push(
      start === 0
        ? (opcode === OPCODE.Text ? textFrame : binaryFrame)(role, piece, fin)
        : continuationFrame(role, piece, fin),
    );
  }
  return concat(...frames);
}

/** Checks the one message received and its echo, compared byte for byte. */
function assertEchoed(h: Harness, expected: Message, label: string): void {
  assert.equal(h.messages.length, 1, label);
  const [message] = h.messages;
  if (typeof expected === "string") {
    assert.equal(typeof message, "string", label);
    assert.ok(message === expected, `${label}: text differs`);
  } else {
    assert.ok(message instanceof Uint8Array, label);
    assertBytes(message, expected, label);
  }
  const payload = typeof expected === "string" ? utf8(expected) : expected;
  const opcode = typeof expected === "string" ? OPCODE.Text : OPCODE.Binary;
  assertWireFrames(h.role, h.written(), [{ opcode, payload }], `${label}: echo`);
  assert.equal(h.ends.length, 0, label);
}

const WHOLE_SIZES = [64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB];
const FRAGMENT_SIZES = [64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB];
const CHUNK_SIZES = [64, 128, 256, 512, 1 * KiB, 2 * KiB, 4 * KiB, 64 * KiB];

for (const role of ROLES) {
  for (const [index, size] of WHOLE_SIZES.entries()) {
    test(`Connection 9.1.${index + 1} (${role}) echoes a ${sizeName(size)} text message`, () => {
      const h = createHarness(role);
      const text = patternText(size);
      h.feed(textFrame(role, text));
      assertEchoed(h, text, sizeName(size));
    });

    test(`Connection 9.2.${index + 1} (${role}) echoes a ${sizeName(size)} binary message`, () => {
      const h = createHarness(role);
      const payload = patternBytes(size, index);
      h.feed(binaryFrame(role, payload));
      assertEchoed(h, payload, sizeName(size));
    });
  }

  for (const [index, fragmentSize] of FRAGMENT_SIZES.entries()) {
    test(`Connection 9.3.${index + 1} (${role}) echoes a 4 MiB text message in ${sizeName(fragmentSize)} fragments`, () => {
      const h = createHarness(role);
      // Multi-byte characters, so fragments also split characters.
      const text = "aé€😀".repeat(Math.floor(4 * MiB / 10));
      h.feed(fragmented(role, OPCODE.Text, utf8(text), fragmentSize));
      assertEchoed(h, text, sizeName(fragmentSize));
    });

    test(`Connection 9.4.${index + 1} (${role}) echoes a 4 MiB binary message in ${sizeName(fragmentSize)} fragments`, () => {
      const h = createHarness(role);
      const payload = patternBytes(4 * MiB, index);
      h.feed(fragmented(role, OPCODE.Binary, payload, fragmentSize));
      assertEchoed(h, payload, sizeName(fragmentSize));
    });
  }

  test(`Connection 9.5 (${role}) echoes a 1 MiB text message fed in chunks of 64 bytes to 64 KiB`, () => {
    const text = patternText(MiB);
    const frame = textFrame(role, text);
    for (const chunkSize of CHUNK_SIZES) {
      const h = createHarness(role);
      h.feed(frame, chunkSize);
      assertEchoed(h, text, `chunks of ${sizeName(chunkSize)}`);
    }
  });

  test(`Connection 9.6 (${role}) echoes a fragmented 1 MiB binary message fed in chunks of 64 bytes to 64 KiB`, () => {
    const payload = patternBytes(MiB, 6);
    const frames = fragmented(role, OPCODE.Binary, payload, 3000);
    for (const chunkSize of CHUNK_SIZES) {
      const h = createHarness(role);
      h.feed(frames, chunkSize);
      assertEchoed(h, payload, `chunks of ${sizeName(chunkSize)}`);
    }
  });

  test(`Connection 9.7 (${role}) echoes a fragmented 1 MiB text message fed in chunks of varied sizes`, () => {
    const text = "κόσμε 😀 ".repeat(MiB / 16);
    const frames = fragmented(role, OPCODE.Text, utf8(text), 997);
    const h = createHarness(role);
    h.feed(frames, [1, 13, 4096, 7, 65536, 2, 333]);
    assertEchoed(h, text, "varied chunks");
  });

  // maxFrameSize: 1009 once the header is read, whatever the length form.
  for (const [index, limit] of [100, 1000, 100_000].entries()) {
    test(`Connection 9.8.${index + 1} (${role}) with maxFrameSize ${limit} accepts a ${limit}-byte frame and fails with 1009 on the header of a longer one`, () => {
      const ok = createHarness(role, { maxFrameSize: limit });
      ok.feed(binaryFrame(role, patternBytes(limit)));
      assertEchoed(ok, patternBytes(limit), "at the limit");

      const h = createHarness(role, { maxFrameSize: limit });
      const frame = binaryFrame(role, patternBytes(limit + 1));
      const headerLength = frame.length - (limit + 1);
      h.feed(frame.subarray(0, headerLength));
      assertFailed(h, 1009);
      h.feed(frame.subarray(headerLength));
      assert.deepEqual(h.messages, []);
    });
  }

  test(`Connection 9.8.4 (${role}) with maxFrameSize applies it to each fragment, not to the message`, () => {
    const h = createHarness(role, { maxFrameSize: 100 });
    const payload = patternBytes(1000);
    h.feed(fragmented(role, OPCODE.Binary, payload, 100));
    assertEchoed(h, payload, "ten 100-byte fragments");

    const over = createHarness(role, { maxFrameSize: 100 });
    over.feed(binaryFrame(role, patternBytes(100), false));
    const frame = continuationFrame(role, patternBytes(101), true);
    over.feed(frame.subarray(0, frame.length - 101));
    assertFailed(over, 1009);
  });

  test(`Connection 9.9.1 (${role}) with maxMessageSize accepts a message at the limit and fails with 1009 on the header of a longer one`, () => {
    const ok = createHarness(role, { maxMessageSize: 5000 });
    ok.feed(textFrame(role, patternText(5000)));
    assertEchoed(ok, patternText(5000), "at the limit");

    const h = createHarness(role, { maxMessageSize: 5000 });
    const frame = textFrame(role, patternText(5001));
    h.feed(frame.subarray(0, frame.length - 5001));
    assertFailed(h, 1009);
  });

  test(`Connection 9.9.2 (${role}) with maxMessageSize fails with 1009 on the header of the fragment that passes it`, () => {
    const h = createHarness(role, { maxMessageSize: 5000 });
    h.feed(binaryFrame(role, patternBytes(2000), false));
    h.feed(continuationFrame(role, patternBytes(2000), false));
    h.feed(continuationFrame(role, patternBytes(1000), false));
    assertSilentAndOpen(h, "5000 bytes so far");
    const last = continuationFrame(role, patternBytes(1), true);
    h.feed(last.subarray(0, last.length - 1));
    assertFailed(h, 1009);
    h.feed(last.subarray(last.length - 1));
    assert.deepEqual(h.messages, []);
  });

  test(`Connection 9.9.3 (${role}) with maxMessageSize counts neither pings between fragments nor earlier messages`, () => {
    const h = createHarness(role, { maxMessageSize: 300 });
    const payload = patternBytes(300);
    h.feedEach([
      binaryFrame(role, payload.subarray(0, 150), false),
      pingFrame(role, patternBytes(125)),
      continuationFrame(role, payload.subarray(150), true),
      textFrame(role, patternText(300)),
    ]);
    assert.equal(h.messages.length, 2);
    assertBytes(h.messages[0] as Uint8Array, payload);
    assert.equal(h.messages[1], patternText(300));
    assert.equal(h.ends.length, 0);
  });

  test(`Connection 9.9.4 (${role}) with maxMessageSize 0 accepts only empty messages`, () => {
    const h = createHarness(role, { maxMessageSize: 0, echo: false });
    h.feed(concat(textFrame(role, ""), binaryFrame(role, new Uint8Array(0), false)));
    h.feed(continuationFrame(role, new Uint8Array(0), true));
    assert.deepEqual(h.messages, ["", new Uint8Array(0)]);
    h.feed(textFrame(role, "x"));
    assertFailed(h, 1009);
  });

  test(`Connection 9.9.5 (${role}) with the default limits fails with 1009 on the header of a frame over 64 MiB`, () => {
    const h = createHarness(role);
    const length = 64 * MiB + 1;
    const key = role === "server" ? Uint8Array.of(1, 2, 3, 4) : undefined;
    h.feed(headerBytes(0x82, length, key));
    assertFailed(h, 1009);
  });

  test(`Connection 9.10.1 (${role}) with maxFragments 4 accepts 4 fragments and fails with 1008 on the header of a 5th`, () => {
    const ok = createHarness(role, { maxFragments: 4 });
    ok.feed(fragmented(role, OPCODE.Text, utf8("abcd"), 1));
    assertEchoed(ok, "abcd", "4 fragments");

    const h = createHarness(role, { maxFragments: 4 });
    h.feed(
      fragmented(role, OPCODE.Text, utf8("abcde"), 1).subarray(0, 4 * (role === "server" ? 7 : 3)),
    );
    assertSilentAndOpen(h, "4 fragments, the last not final");
    h.feed(continuationFrame(role, "e", true).subarray(0, 2 + (role === "server" ? 4 : 0)));
    assertFailed(h, 1008);
    assert.deepEqual(h.messages, []);
  });

  test(`Connection 9.10.2 (${role}) with maxFragments counts each message apart and ignores control frames`, () => {
    const h = createHarness(role, { maxFragments: 2, echo: false });
    h.feedEach([
      textFrame(role, "a", false),
      pingFrame(role),
      pingFrame(role),
      continuationFrame(role, "b", true),
      binaryFrame(role, Uint8Array.of(1), false),
      continuationFrame(role, Uint8Array.of(2), true),
      textFrame(role, "single"),
    ]);
    assert.deepEqual(h.messages, ["ab", Uint8Array.of(1, 2), "single"]);
    assert.equal(h.ends.length, 0);
  });

  test(`Connection 9.10.3 (${role}) with maxFragments 1 accepts single frames and fails with 1008 on a second fragment`, () => {
    const h = createHarness(role, { maxFragments: 1, echo: false });
    h.feed(concat(textFrame(role, "one"), textFrame(role, "two", false)));
    assert.deepEqual(h.messages, ["one"]);
    assert.equal(h.ends.length, 0);
    h.feed(continuationFrame(role, "!", true));
    assertFailed(h, 1008);
  });

  test(`Connection 9.11 (${role}) refuses limits that are negative or not numbers`, () => {
    const handler = { write() {}, message() {}, end() {} };
    for (const key of ["maxFrameSize", "maxMessageSize", "maxFragments"] as const) {
      assert.throws(() => new Connection({ role, [key]: -1 }, handler), RangeError, key);
      assert.throws(() => new Connection({ role, [key]: Number.NaN }, handler), RangeError, key);
      assert.throws(() => new FrameParser({ role, [key]: -1 }), RangeError, key);
    }
  });

  test(`Connection 9.12 (${role}) fails with 1009 on the header of a too-large frame sent as raw 16-bit and 64-bit lengths`, () => {
    const h16 = createHarness(role, { maxFrameSize: 200 });
    h16.feed(rawFrame(role, 0x82, [126, 0x00, 0xc9]).subarray(0, role === "server" ? 8 : 4));
    assertFailed(h16, 1009);
    const h64 = createHarness(role, { maxMessageSize: 70_000 });
    h64.feed(rawFrame(role, 0x81, [127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x71]));
    assertFailed(h64, 1009);
  });
}
