// Group 6: UTF-8 handling (RFC 6455 §8.1). Text must be valid UTF-8 or the
// connection fails with 1007. A single frame is validated once it is
// complete; across fragments the connection fails on the fragment that makes
// the text invalid, without waiting for the end of the message. The vectors
// follow Markus Kuhn's UTF-8 decoder capability and stress test.

import { test } from "node:test";
import assert from "node:assert/strict";
import { OPCODE } from "../../src/codec/mod.ts";
import {
  assertBytes,
  assertFailed,
  assertWireFrames,
  concat,
  continuationFrame,
  createHarness,
  describeFrames,
  fromHex,
  type Harness,
  hex,
  pingFrame,
  type Role,
  ROLES,
  textFrame,
  utf8,
} from "./_harness.ts";

/**
 * A reference validator written from the Unicode well-formed byte sequence
 * table (Unicode §3.9, Table 3-7): returns the index of the byte at which the
 * input stops being a prefix of valid UTF-8, `bytes.length` when it ends
 * inside a sequence, or `undefined` when it is valid.
 */
function utf8FailIndex(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    let ranges: [number, number][];
    if (lead <= 0x7f) ranges = [];
    else if (lead >= 0xc2 && lead <= 0xdf) ranges = [[0x80, 0xbf]];
    else if (lead === 0xe0) ranges = [[0xa0, 0xbf], [0x80, 0xbf]];
    else if (lead === 0xed) ranges = [[0x80, 0x9f], [0x80, 0xbf]];
    else if (lead >= 0xe1 && lead <= 0xef) ranges = [[0x80, 0xbf], [0x80, 0xbf]];
    else if (lead === 0xf0) ranges = [[0x90, 0xbf], [0x80, 0xbf], [0x80, 0xbf]];
    else if (lead === 0xf4) ranges = [[0x80, 0x8f], [0x80, 0xbf], [0x80, 0xbf]];
    else if (lead >= 0xf1 && lead <= 0xf3) ranges = [[0x80, 0xbf], [0x80, 0xbf], [0x80, 0xbf]];
    else return i;
    i++;
    for (const [low, high] of ranges) {
      if (i === bytes.length) return i;
      const byte = bytes[i]!;
      if (byte < low || byte > high) return i;
      i++;
    }
  }
  return undefined;
}

interface Vector {
  id: string;
  what: string;
  bytes: Uint8Array;
  /** The decoded text of a valid vector; `undefined` for an invalid one. */
  text: string | undefined;
}

const valid = (id: string, what: string, text: string, hexBytes?: string): Vector => ({
  id,
  what,
  bytes: hexBytes === undefined ? utf8(text) : fromHex(hexBytes),
  text,
});
const invalid = (id: string, what: string, hexBytes: string): Vector => ({
  id,
  what,
  bytes: fromHex(hexBytes),
  text: undefined,
});

// Kuhn's κόσμε, with U+1F79 (GREEK SMALL LETTER OMICRON WITH OXIA) as its second letter.
const KOSME = "\u03ba\u1f79\u03c3\u03bc\u03b5";
const KOSME_HEX = "ce ba e1 bd b9 cf 83 ce bc ce b5";
const KOSME_VALID_PREFIXES = new Set([2, 5, 7, 9, 11]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function hexOf(bytes: readonly number[]): string {
  return hex(Uint8Array.from(bytes));
}

const NONCHARACTERS: Vector[] = range(0, 16).flatMap((plane, i) => {
  const base = plane * 0x10000;
  return [
    valid(
      `6.22.${2 * i + 1}`,
      `the noncharacter U+${(base + 0xfffe).toString(16).toUpperCase()}`,
      String.fromCodePoint(base + 0xfffe),
    ),
    valid(
      `6.22.${2 * i + 2}`,
      `the noncharacter U+${(base + 0xffff).toString(16).toUpperCase()}`,
      String.fromCodePoint(base + 0xffff),
    ),
  ];
});

const VECTORS: readonly Vector[] = [
  valid("6.1.1", "an empty text message", ""),
  valid("6.2.1", "mixed ASCII and 2-byte characters", "Hello-µ@ßöäüàá-UTF-8!!"),
  invalid("6.3.1", "κόσμε, a surrogate, then ASCII", `${KOSME_HEX} ed a0 80 65 64 69 74 65 64`),
  valid("6.5.1", "the Greek word κόσμε", KOSME, KOSME_HEX),
  valid("6.5.2", "κόσμε between ASCII", `a${KOSME}z`),
  valid("6.5.3", "characters of every length", "a\u00e9\u20ac\u{1f600}"),
  ...range(1, 11).map((length) => {
    const prefix = fromHex(KOSME_HEX).subarray(0, length);
    return KOSME_VALID_PREFIXES.has(length)
      ? valid(
        `6.6.${length}`,
        `the first ${length} bytes of κόσμε`,
        new TextDecoder().decode(prefix),
        hex(prefix),
      )
      : invalid(`6.6.${length}`, `the first ${length} bytes of κόσμε`, hex(prefix));
  }),
  valid("6.7.1", "U+0000, the first 1-byte sequence", "\u0000", "00"),
  valid("6.7.2", "U+0080, the first 2-byte sequence", "\u0080", "c2 80"),
  valid("6.7.3", "U+0800, the first 3-byte sequence", "\u0800", "e0 a0 80"),
  valid("6.7.4", "U+10000, the first 4-byte sequence", "\u{10000}", "f0 90 80 80"),
  invalid("6.8.1", "the first 5-byte sequence", "f8 88 80 80 80"),
  invalid("6.8.2", "the first 6-byte sequence", "fc 84 80 80 80 80"),
  valid("6.9.1", "U+007F, the last 1-byte sequence", "\u007f", "7f"),
  valid("6.9.2", "U+07FF, the last 2-byte sequence", "\u07ff", "df bf"),
  valid("6.9.3", "U+FFFF, the last 3-byte sequence", "\uffff", "ef bf bf"),
  invalid("6.9.4", "U+1FFFFF, the last 4-byte form", "f7 bf bf bf"),
  invalid("6.10.1", "the last 5-byte form", "fb bf bf bf bf"),
  invalid("6.10.2", "the last 6-byte form", "fd bf bf bf bf bf"),
  valid("6.11.1", "U+D7FF, just below the surrogates", "\ud7ff", "ed 9f bf"),
  valid("6.11.2", "U+E000, just above the surrogates", "\ue000", "ee 80 80"),
  valid("6.11.3", "U+FFFD", "\ufffd", "ef bf bd"),
  valid("6.11.4", "U+10FFFF, the last code point", "\u{10ffff}", "f4 8f bf bf"),
  invalid("6.11.5", "U+110000, past the last code point", "f4 90 80 80"),
  invalid("6.11.6", "a code point far past U+10FFFF", "f5 80 80 80"),
  invalid("6.12.1", "a lone continuation byte 0x80", "80"),
  invalid("6.12.2", "a lone continuation byte 0xBF", "bf"),
  invalid("6.12.3", "2 continuation bytes", "80 bf"),
  invalid("6.12.4", "3 continuation bytes", "80 bf 80"),
  invalid("6.12.5", "4 continuation bytes", "80 bf 80 bf"),
  invalid("6.12.6", "5 continuation bytes", "80 bf 80 bf 80"),
  invalid("6.12.7", "6 continuation bytes", "80 bf 80 bf 80 bf"),
  invalid("6.12.8", "7 continuation bytes", "80 bf 80 bf 80 bf 80"),
  invalid("6.12.9", "all 64 continuation bytes", hexOf(range(0x80, 0xbf))),
  invalid(
    "6.13.1",
    "the 32 first bytes of 2-byte sequences, each followed by a space",
    hexOf(range(0xc0, 0xdf).flatMap((byte) => [byte, 0x20])),
  ),
  invalid(
    "6.13.2",
    "the 16 first bytes of 3-byte sequences, each followed by a space",
    hexOf(range(0xe0, 0xef).flatMap((byte) => [byte, 0x20])),
  ),
  invalid(
    "6.13.3",
    "the 8 first bytes of 4-byte sequences, each followed by a space",
    hexOf(range(0xf0, 0xf7).flatMap((byte) => [byte, 0x20])),
  ),
  invalid(
    "6.13.4",
    "the 4 first bytes of 5-byte sequences, each followed by a space",
    hexOf(range(0xf8, 0xfb).flatMap((byte) => [byte, 0x20])),
  ),
  invalid(
    "6.13.5",
    "the 2 first bytes of 6-byte sequences, each followed by a space",
    "fc 20 fd 20",
  ),
  invalid("6.14.1", "a 2-byte sequence for U+0000 missing its last byte", "c0"),
  invalid("6.14.2", "a 3-byte sequence for U+0000 missing its last byte", "e0 80"),
  invalid("6.14.3", "a 4-byte sequence for U+0000 missing its last byte", "f0 80 80"),
  invalid("6.14.4", "a 5-byte sequence for U+0000 missing its last byte", "f8 80 80 80"),
  invalid("6.14.5", "a 6-byte sequence for U+0000 missing its last byte", "fc 80 80 80 80"),
  invalid("6.14.6", "a 2-byte sequence for U+07FF missing its last byte", "df"),
  invalid("6.14.7", "a 3-byte sequence for U+FFFF missing its last byte", "ef bf"),
  invalid("6.14.8", "a 4-byte sequence for U+1FFFFF missing its last byte", "f7 bf bf"),
  invalid("6.14.9", "a 5-byte sequence missing its last byte", "fb bf bf bf"),
  invalid("6.14.10", "a 6-byte sequence missing its last byte", "fd bf bf bf bf"),
  invalid("6.14.11", "ASCII then a 3-byte sequence cut at the end", "61 62 e2 82"),
  invalid("6.14.12", "ASCII then a 4-byte sequence cut at the end", "61 f0 9f 98"),
  invalid(
    "6.15.1",
    "all the incomplete sequences concatenated",
    "c0 e0 80 f0 80 80 f8 80 80 80 fc 80 80 80 80 df ef bf f7 bf bf fb bf bf bf fd bf bf bf bf",
  ),
  invalid("6.16.1", "the impossible byte 0xFE", "fe"),
  invalid("6.16.2", "the impossible byte 0xFF", "ff"),
  invalid("6.16.3", "the impossible bytes FE FE FF FF", "fe fe ff ff"),
  invalid("6.16.4", "ASCII then the impossible byte 0xFF", "61 62 63 ff"),
  invalid("6.17.1", "'/' in an overlong 2-byte form", "c0 af"),
  invalid("6.17.2", "'/' in an overlong 3-byte form", "e0 80 af"),
  invalid("6.17.3", "'/' in an overlong 4-byte form", "f0 80 80 af"),
  invalid("6.17.4", "'/' in an overlong 5-byte form", "f8 80 80 80 af"),
  invalid("6.17.5", "'/' in an overlong 6-byte form", "fc 80 80 80 80 af"),
  invalid("6.18.1", "U+007F in the largest overlong 2-byte form", "c1 bf"),
  invalid("6.18.2", "U+07FF in the largest overlong 3-byte form", "e0 9f bf"),
  invalid("6.18.3", "U+FFFF in the largest overlong 4-byte form", "f0 8f bf bf"),
  invalid("6.18.4", "U+1FFFFF in the largest overlong 5-byte form", "f8 87 bf bf bf"),
  invalid("6.18.5", "U+3FFFFFF in the largest overlong 6-byte form", "fc 83 bf bf bf bf"),
  invalid("6.19.1", "U+0000 in an overlong 2-byte form", "c0 80"),
  invalid("6.19.2", "U+0000 in an overlong 3-byte form", "e0 80 80"),
  invalid("6.19.3", "U+0000 in an overlong 4-byte form", "f0 80 80 80"),
  invalid("6.19.4", "U+0000 in an overlong 5-byte form", "f8 80 80 80 80"),
  invalid("6.19.5", "U+0000 in an overlong 6-byte form", "fc 80 80 80 80 80"),
  invalid("6.20.1", "the lone surrogate U+D800", "ed a0 80"),
  invalid("6.20.2", "the lone surrogate U+DB7F", "ed ad bf"),
  invalid("6.20.3", "the lone surrogate U+DB80", "ed ae 80"),
  invalid("6.20.4", "the lone surrogate U+DBFF", "ed af bf"),
  invalid("6.20.5", "the lone surrogate U+DC00", "ed b0 80"),
  invalid("6.20.6", "the lone surrogate U+DF80", "ed be 80"),
  invalid("6.20.7", "the lone surrogate U+DFFF", "ed bf bf"),
  invalid("6.20.8", "ASCII then the lone surrogate U+D800", "61 62 ed a0 80 63"),
  invalid("6.21.1", "the surrogate pair U+D800 U+DC00", "ed a0 80 ed b0 80"),
  invalid("6.21.2", "the surrogate pair U+D800 U+DFFF", "ed a0 80 ed bf bf"),
  invalid("6.21.3", "the surrogate pair U+DB7F U+DC00", "ed ad bf ed b0 80"),
  invalid("6.21.4", "the surrogate pair U+DB7F U+DFFF", "ed ad bf ed bf bf"),
  invalid("6.21.5", "the surrogate pair U+DB80 U+DC00", "ed ae 80 ed b0 80"),
  invalid("6.21.6", "the surrogate pair U+DB80 U+DFFF", "ed ae 80 ed bf bf"),
  invalid("6.21.7", "the surrogate pair U+DBFF U+DC00", "ed af bf ed b0 80"),
  invalid("6.21.8", "the surrogate pair U+DBFF U+DFFF", "ed af bf ed bf bf"),
  ...NONCHARACTERS,
  valid(
    "6.22.35",
    "the noncharacters U+FDD0 to U+FDEF",
    String.fromCodePoint(...range(0xfdd0, 0xfdef)),
  ),
  valid("6.23.1", "U+FFFD, the replacement character, as data", "\ufffd", "ef bf bd"),
  valid("6.23.2", "a leading U+FEFF, kept as data", "\ufeffabc", "ef bb bf 61 62 63"),
  valid("6.23.3", "U+FEFF alone, kept as data", "\ufeff", "ef bb bf"),
  valid("6.23.4", "U+FEFF twice, both kept", "\ufeff\ufeff", "ef bb bf ef bb bf"),
  valid("6.23.5", "U+FEFF in the middle, kept", "a\ufeffb", "61 ef bb bf 62"),
  valid("6.23.6", "U+0000 inside text", "a\u0000b", "61 00 62"),
];

/** One text message in fragments cut at `cuts`, as frames from the peer. */
function fragmentFrames(role: Role, bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const bounds = [0, ...cuts, bytes.length];
  const frames: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = bytes.slice(bounds[i], bounds[i + 1]);
    const fin = i + 2 === bounds.length;
    frames.push(i === 0 ? textFrame(role, piece, fin) : continuationFrame(role, piece, fin));
  }
  return frames;
}

function assertValidDelivered(h: Harness, text: string, label: string): void {
  assert.deepEqual(h.messages, [text], label);
  assertWireFrames(h.role, h.written(), [{ opcode: OPCODE.Text, payload: utf8(text) }], label);
  assert.equal(h.ends.length, 0, `${label}: ended ${JSON.stringify(h.ends[0]?.info)}`);
}

function assertInvalidRejected(h: Harness, label: string): void {
  assert.deepEqual(h.messages, [], label);
  assertFailed(h, 1007, label);
  assert.equal(h.frames().length, 1, `${label}: ${describeFrames(h.frames())}`);
}

test("utf8FailIndex 6.0 agrees with the validity of every vector, and TextEncoder with its bytes", () => {
  for (const { id, bytes, text } of VECTORS) {
    const failIndex = utf8FailIndex(bytes);
    if (text === undefined) {
      assert.notEqual(failIndex, undefined, `${id} should be invalid: ${hex(bytes)}`);
    } else {
      assert.equal(failIndex, undefined, `${id} should be valid: ${hex(bytes)}`);
      assertBytes(utf8(text), bytes, id);
    }
  }
});

for (const vector of VECTORS) {
  const { id, what, bytes, text } = vector;
  const outcome = text === undefined ? "fails with 1007 on" : "accepts";
  test(`Connection ${id} ${outcome} ${what} (${hex(bytes) || "empty"}), whole and fragmented`, () => {
    const failIndex = utf8FailIndex(bytes);
    for (const role of ROLES) {
      // One frame, validated when it is complete.
      const whole = createHarness(role);
      whole.feed(textFrame(role, bytes));
      if (text === undefined) assertInvalidRejected(whole, `${role}, one frame`);
      else assertValidDelivered(whole, text, `${role}, one frame`);

      // Two fragments, cut at every offset.
      for (let cut = 0; cut <= bytes.length; cut++) {
        const h = createHarness(role);
        h.feedEach(fragmentFrames(role, bytes, [cut]));
        const label = `${role}, cut at ${cut}`;
        if (text === undefined) assertInvalidRejected(h, label);
        else assertValidDelivered(h, text, label);
      }

      // One byte per fragment: the close comes with the fragment that holds
      // the first byte that cannot continue, or with the last one when the
      // text ends inside a sequence.
      if (bytes.length === 0) continue;
      const h = createHarness(role);
      const frames = fragmentFrames(role, bytes, Array.from(bytes.keys()).slice(1));
      const failFrame = failIndex === undefined ? -1 : Math.min(failIndex, bytes.length - 1);
      for (const [index, frame] of frames.entries()) {
        h.feed(frame);
        if (index < failFrame || failFrame === -1) {
          assert.equal(h.ends.length, 0, `${role}: ended after fragment ${index}`);
          if (index + 1 < frames.length) assert.equal(h.writes.length, 0, `${role}: wrote early`);
        } else {
          assertInvalidRejected(h, `${role}, one byte per fragment, after fragment ${index}`);
        }
      }
      if (text !== undefined) assertValidDelivered(h, text, `${role}, one byte per fragment`);
    }
  });
}

for (const role of ROLES) {
  test(`Connection 6.2.2 (${role}) accepts mixed text cut into 3 fragments at every pair of offsets`, () => {
    const text = `µ${KOSME}\u{10ffff}\u0800`;
    const bytes = utf8(text);
    for (let first = 0; first <= bytes.length; first++) {
      for (let second = first; second <= bytes.length; second++) {
        const h = createHarness(role);
        h.feedEach(fragmentFrames(role, bytes, [first, second]));
        assertValidDelivered(h, text, `cut at ${first} and ${second}`);
      }
    }
  });

  test(`Connection 6.2.3 (${role}) accepts a fragmented text message fed byte by byte`, () => {
    const text = "Hello-µ@ßöäüàá-UTF-8!!";
    const h = createHarness(role);
    h.feed(concat(...fragmentFrames(role, utf8(text), [1, 4, 5, 9, 20])), "bytewise");
    assertValidDelivered(h, text, "byte by byte");
  });

  test(`Connection 6.4.1 (${role}) fails with 1007 on the fragment holding F4 90 80 80, before the final one`, () => {
    const h = createHarness(role);
    const [first, second, third] = [
      textFrame(role, KOSME, false),
      continuationFrame(role, fromHex("f4 90 80 80"), false),
      continuationFrame(role, "edited", true),
    ];
    h.feed(first);
    assert.equal(h.writes.length, 0);
    h.feed(second);
    assertInvalidRejected(h, "after the second fragment");
    h.feed(third);
    assertInvalidRejected(h, "after the final fragment");
  });

  test(`Connection 6.4.2 (${role}) fails with 1007 on the fragment whose one byte, 0x90, cannot follow F4`, () => {
    const h = createHarness(role);
    h.feed(textFrame(role, concat(utf8(KOSME), Uint8Array.of(0xf4)), false));
    assert.equal(h.writes.length, 0, "F4 at the end of a fragment may still begin a sequence");
    h.feed(continuationFrame(role, Uint8Array.of(0x90), false));
    assertInvalidRejected(h, "after the 0x90 fragment");
    h.feed(continuationFrame(role, fromHex("80 80 65 64 69 74 65 64"), true));
    assertInvalidRejected(h, "after the final fragment");
  });

  test(`Connection 6.4.3 (${role}) fails with 1007 on a single frame holding F4 90 80 80 once it is complete`, () => {
    const h = createHarness(role);
    const payload = concat(utf8(KOSME), fromHex("f4 90 80 80"), utf8("edited"));
    h.feed(textFrame(role, payload), [7, 9, 1000]);
    assertInvalidRejected(h, "one frame in three chunks");
  });

  test(`Connection 6.4.4 (${role}) fails with 1007 on a bad middle fragment and answers no later ping`, () => {
    const h = createHarness(role);
    h.feedEach([
      textFrame(role, "ok ", false),
      continuationFrame(role, fromHex("ed a0 80"), false),
      pingFrame(role, "after"),
      continuationFrame(role, "end", true),
    ]);
    assertInvalidRejected(h, "surrogate fragment");
    assert.deepEqual(h.pings, []);
  });

  test(`Connection 6.4.5 (${role}) fails with 1007 on a fragmented message that ends inside a sequence`, () => {
    const h = createHarness(role);
    h.feed(textFrame(role, fromHex("61 62 e2"), false));
    h.feed(continuationFrame(role, fromHex("82"), false));
    assert.equal(h.writes.length, 0, "E2 82 may still become U+20AC");
    h.feed(pingFrame(role, "mid"));
    assert.equal(h.frames().length, 1, "the ping is answered");
    h.feed(continuationFrame(role, new Uint8Array(0), true));
    assert.deepEqual(h.messages, []);
    assertFailed(h, 1007);
  });

  test(`Connection 6.4.6 (${role}) delivers valid text after a fragmented message, with no state carried over`, () => {
    const h = createHarness(role);
    h.feedEach([
      textFrame(role, fromHex("e2 82"), false),
      continuationFrame(role, fromHex("ac"), true),
      textFrame(role, fromHex("e2"), false),
      continuationFrame(role, fromHex("82 ac 21"), true),
      textFrame(role, "plain"),
    ]);
    assert.deepEqual(h.messages, ["\u20ac", "\u20ac!", "plain"]);
    assert.equal(h.ends.length, 0);
  });
}
