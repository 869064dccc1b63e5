import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeUtf8, Utf8StreamDecoder } from "../../src/codec/utf8.ts";
import { ProtocolError } from "../../src/errors.ts";
import { byteByByte, hexToBytes, protocolError, splitAtEveryOffset } from "../_helpers.ts";

// Valid text and its bytes, written out by hand.
const VALID: { name: string; hex: string; text: string }[] = [
  { name: "empty text", hex: "", text: "" },
  { name: "ASCII", hex: "48 65 6c 6c 6f", text: "Hello" },
  { name: "two-byte characters", hex: "68 c3 a9 ce ba", text: "héκ" },
  { name: "a three-byte character", hex: "e2 82 ac 31", text: "€1" },
  { name: "a four-byte character", hex: "f0 9f 98 80 21", text: "😀!" },
  { name: "the highest code point", hex: "f4 8f bf bf", text: "\u{10ffff}" },
  { name: "a leading byte order mark", hex: "ef bb bf 61", text: "\ufeffa" },
  { name: "a NUL byte", hex: "61 00 62", text: "a\u0000b" },
];

// Invalid bytes, and how many bytes it takes to see they cannot be valid.
const INVALID: { name: string; hex: string; failsAfter: number }[] = [
  { name: "a lone continuation byte", hex: "80", failsAfter: 1 },
  { name: "the never-valid byte 0xC0", hex: "c0 80", failsAfter: 1 },
  { name: "the never-valid byte 0xFF", hex: "ff", failsAfter: 1 },
  { name: "an overlong three-byte form", hex: "e0 80 af", failsAfter: 2 },
  { name: "an encoded UTF-16 surrogate", hex: "ed a0 80", failsAfter: 2 },
  { name: "a code point above U+10FFFF", hex: "f4 90 80 80", failsAfter: 2 },
  { name: "a lead byte followed by ASCII", hex: "c3 41", failsAfter: 2 },
];

// Valid prefixes that the end of the text cuts.
const TRUNCATED: { name: string; hex: string }[] = [
  { name: "a truncated two-byte character", hex: "61 c3" },
  { name: "a truncated three-byte character", hex: "e2 82" },
  { name: "a truncated four-byte character", hex: "f0 9f 98" },
];

for (const { name, hex, text } of VALID) {
  test(`decodeUtf8 decodes ${name}`, () => {
    assert.equal(decodeUtf8(hexToBytes(hex)), text);
  });
}

for (const { name, hex } of [...INVALID, ...TRUNCATED]) {
  test(`decodeUtf8 rejects ${name} with 1007`, () => {
    assert.throws(
      () => decodeUtf8(hexToBytes(hex)),
      protocolError(1007, /^Cannot decode text: invalid UTF-8$/),
    );
  });
}

test("decodeUtf8 names what it decodes in the error message", () => {
  assert.throws(
    () => decodeUtf8(hexToBytes("ff"), "close reason"),
    protocolError(1007, /^Cannot decode close reason: invalid UTF-8$/),
  );
});

test("decodeUtf8 forwards the decoder's error as the cause", () => {
  try {
    decodeUtf8(hexToBytes("ff"));
    assert.fail("decodeUtf8 did not throw");
  } catch (error) {
    assert.ok(error instanceof ProtocolError);
    assert.ok(error.cause instanceof Error, `cause is ${String(error.cause)}`);
  }
});

/** Decodes pieces with a new stream decoder, then ends it. */
function decodePieces(pieces: Iterable<Uint8Array>): string {
  const decoder = new Utf8StreamDecoder();
  let text = "";
  for (const piece of pieces) text += decoder.decode(piece);
  return text + decoder.end();
}

for (const { name, hex, text } of VALID) {
  test(`Utf8StreamDecoder decodes ${name} cut at every offset and byte by byte`, () => {
    const bytes = hexToBytes(hex);
    for (const [head, tail] of splitAtEveryOffset(bytes)) {
      assert.equal(decodePieces([head, tail]), text, `cut at ${head.length}`);
    }
    assert.equal(decodePieces(byteByByte(bytes)), text, "byte by byte");
  });
}

for (const { name, hex, failsAfter } of INVALID) {
  test(`Utf8StreamDecoder rejects ${name} with 1007 as soon as its bytes cannot continue`, () => {
    const bytes = hexToBytes(hex);
    // Fed byte by byte, the error comes with the first byte that cannot continue.
    const decoder = new Utf8StreamDecoder();
    for (let i = 0; i < failsAfter - 1; i++) decoder.decode(bytes.subarray(i, i + 1));
    assert.throws(
      () => decoder.decode(bytes.subarray(failsAfter - 1, failsAfter)),
      protocolError(1007, /^Cannot decode text message: invalid UTF-8$/),
    );
    // Cut anywhere, the error comes by the end of the text.
    for (const [head, tail] of splitAtEveryOffset(bytes)) {
      assert.throws(() => decodePieces([head, tail]), protocolError(1007), `cut at ${head.length}`);
    }
  });
}

for (const { name, hex } of TRUNCATED) {
  test(`Utf8StreamDecoder accepts ${name} until end, which rejects it with 1007`, () => {
    const bytes = hexToBytes(hex);
    for (const [head, tail] of splitAtEveryOffset(bytes)) {
      const decoder = new Utf8StreamDecoder();
      decoder.decode(head);
      decoder.decode(tail);
      assert.throws(() => decoder.end(), protocolError(1007), `cut at ${head.length}`);
    }
  });
}

test("Utf8StreamDecoder decode holds back an incomplete character until it completes", () => {
  const decoder = new Utf8StreamDecoder();
  assert.equal(decoder.decode(hexToBytes("61 f0 9f")), "a");
  assert.equal(decoder.decode(hexToBytes("98")), "");
  assert.equal(decoder.decode(hexToBytes("80 62")), "😀b");
  assert.equal(decoder.end(), "");
});

test("Utf8StreamDecoder end resets the decoder for the next message", () => {
  const decoder = new Utf8StreamDecoder();
  assert.equal(decoder.decode(hexToBytes("ce ba")), "κ");
  assert.equal(decoder.end(), "");
  assert.equal(decoder.decode(hexToBytes("ce")), "");
  assert.equal(decoder.decode(hexToBytes("bb")), "λ");
  assert.equal(decoder.end(), "");
});

test("Utf8StreamDecoder keeps a byte order mark at the start of every message", () => {
  const decoder = new Utf8StreamDecoder();
  assert.equal(decoder.decode(hexToBytes("ef bb bf 61")) + decoder.end(), "\ufeffa");
  assert.equal(
    decoder.decode(hexToBytes("ef bb")) + decoder.decode(hexToBytes("bf 62")),
    "\ufeffb",
  );
  assert.equal(decoder.end(), "");
});
