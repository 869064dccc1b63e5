import { test } from "node:test";
import assert from "node:assert/strict";
import { applyMask, generateMaskKey, maskRange, writeMaskKey } from "../../src/codec/mask.ts";
import { hexToBytes, naiveMask, patternBytes, utf8 } from "../_helpers.ts";

const KEY = hexToBytes("37 fa 21 3d");
const LARGE_LENGTHS = [127, 128, 1000, 4093, 65536, 65539];
const LENGTHS = [...Array.from({ length: 101 }, (_, length) => length), ...LARGE_LENGTHS];
// Guard bytes around the view, which must not be touched.
const GUARD = 8;

/**
 * Places `data` at `byteOffset` of a larger buffer whose other bytes are a
 * known pattern, so misaligned views and writes outside the view both show.
 */
function placeAt(data: Uint8Array, byteOffset: number): { view: Uint8Array; buffer: Uint8Array } {
  const buffer = patternBytes(byteOffset + data.length + GUARD, 99);
  const view = buffer.subarray(byteOffset, byteOffset + data.length);
  view.set(data);
  return { view, buffer };
}

test("applyMask masks the RFC 6455 §5.7 example", () => {
  const data = utf8("Hello");
  applyMask(data, KEY);
  assert.deepEqual(data, hexToBytes("7f 9f 4d 51 58"));
});

test("applyMask matches the byte-at-a-time reference for every length and byteOffset", () => {
  for (const length of LENGTHS) {
    const data = patternBytes(length, length);
    const expected = naiveMask(data, KEY);
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      const { view } = placeAt(data, byteOffset);
      assert.equal(view.byteOffset, byteOffset);
      applyMask(view, KEY);
      assert.deepEqual(view, expected, `length ${length}, byteOffset ${byteOffset}`);
    }
  }
});

test("applyMask leaves the bytes around the view untouched at every byteOffset", () => {
  for (const length of LENGTHS) {
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      const { view, buffer } = placeAt(patternBytes(length, 3), byteOffset);
      const before = buffer.slice();
      applyMask(view, KEY);
      const label = `length ${length}, byteOffset ${byteOffset}`;
      assert.deepEqual(buffer.subarray(0, byteOffset), before.subarray(0, byteOffset), label);
      assert.deepEqual(
        buffer.subarray(byteOffset + length),
        before.subarray(byteOffset + length),
        label,
      );
    }
  }
});

test("applyMask restores the data when applied twice, at every length and byteOffset", () => {
  for (const length of LENGTHS) {
    const data = patternBytes(length, 7);
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      const { view } = placeAt(data, byteOffset);
      applyMask(view, KEY);
      if (length > 0) assert.notDeepEqual(view, data, `masked, length ${length}`);
      applyMask(view, KEY);
      assert.deepEqual(view, data, `length ${length}, byteOffset ${byteOffset}`);
    }
  }
});

test("applyMask accepts a key that is a misaligned view", () => {
  const keyBuffer = new Uint8Array(7);
  const key = keyBuffer.subarray(3, 7);
  key.set(KEY);
  for (const length of [5, 64, 1001]) {
    const data = patternBytes(length);
    const expected = naiveMask(data, KEY);
    applyMask(data, key);
    assert.deepEqual(data, expected, `length ${length}`);
  }
  assert.deepEqual(key, KEY);
});

test("applyMask with a zero key leaves the data unchanged", () => {
  const data = patternBytes(100);
  applyMask(data, new Uint8Array(4));
  assert.deepEqual(data, patternBytes(100));
});

test("applyMask rejects a key that is not 4 bytes with a RangeError", () => {
  for (const length of [0, 3, 5, 8]) {
    const data = patternBytes(40);
    assert.throws(() => applyMask(data, new Uint8Array(length)), RangeError, `key ${length}`);
    assert.deepEqual(data, patternBytes(40), "data left unchanged");
  }
});

test("maskRange masks only data[start..end], with the key read at any offset of its source", () => {
  for (const length of [0, 1, 3, 4, 5, 63, 64, 65, 100, 1000, 4099]) {
    for (let start = 0; start < 4; start++) {
      for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
        const label = `length ${length}, start ${start}, keyOffset ${keyOffset}`;
        const keySource = patternBytes(keyOffset + 6, 5);
        keySource.set(KEY, keyOffset);
        const original = patternBytes(start + length + 3, length);
        const data = original.slice();
        maskRange(data, start, start + length, keySource, keyOffset);
        assert.deepEqual(data.subarray(0, start), original.subarray(0, start), label);
        assert.deepEqual(
          data.subarray(start, start + length),
          naiveMask(original.subarray(start, start + length), KEY),
          label,
        );
        assert.deepEqual(data.subarray(start + length), original.subarray(start + length), label);
      }
    }
  }
});

test("maskRange matches the reference on views at every byteOffset", () => {
  for (const length of [64, 65, 66, 67, 127, 1000]) {
    const data = patternBytes(length, 1);
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      const { view, buffer } = placeAt(data, byteOffset);
      const before = buffer.slice();
      maskRange(view, 1, length - 1, KEY, 0);
      const label = `length ${length}, byteOffset ${byteOffset}`;
      assert.deepEqual(
        view.subarray(1, length - 1),
        naiveMask(data.subarray(1, length - 1), KEY),
        label,
      );
      assert.equal(view[0], data[0], label);
      assert.equal(view[length - 1], data[length - 1], label);
      assert.deepEqual(
        buffer.subarray(byteOffset + length),
        before.subarray(byteOffset + length),
        label,
      );
    }
  }
});

test("maskRange reads the key from the array it masks, as in an encoded frame", () => {
  const payload = patternBytes(200);
  const frame = new Uint8Array(8 + 200);
  frame.set(hexToBytes("82 fe 00 c8"), 0);
  frame.set(KEY, 4);
  frame.set(payload, 8);
  maskRange(frame, 8, frame.length, frame, 4);
  assert.deepEqual(frame.subarray(0, 8), hexToBytes("82 fe 00 c8 37 fa 21 3d"));
  assert.deepEqual(frame.subarray(8), naiveMask(payload, KEY));
});

test("writeMaskKey writes 4 bytes at the offset and leaves the rest alone", () => {
  // Four random bytes all equal to the guard value have probability 2^-32.
  const target = new Uint8Array(10).fill(0xee);
  writeMaskKey(target, 3);
  assert.deepEqual(target.subarray(0, 3), hexToBytes("ee ee ee"));
  assert.deepEqual(target.subarray(7), hexToBytes("ee ee ee"));
  assert.notDeepEqual(target.subarray(3, 7), hexToBytes("ee ee ee ee"));
});

test("writeMaskKey writes a different key each call", () => {
  const target = new Uint8Array(8);
  for (let i = 0; i < 1100; i++) {
    writeMaskKey(target, 4);
    assert.notDeepEqual(target.subarray(4), target.subarray(0, 4), `key ${i}`);
    target.copyWithin(0, 4);
  }
});

test("generateMaskKey returns 4 bytes", () => {
  for (let i = 0; i < 10; i++) assert.equal(generateMaskKey().length, 4);
});

test("generateMaskKey returns a different key each call, past its 4 KiB pool", () => {
  // 1100 keys cross the boundary of a 4096-byte pool. Two random keys in a
  // row are equal with probability 2^-32.
  let previous = generateMaskKey().slice();
  for (let i = 0; i < 1100; i++) {
    const key = generateMaskKey();
    assert.notDeepEqual(key, previous, `key ${i}`);
    previous = key.slice();
  }
});

test("generateMaskKey keys keep their value while later keys are drawn", () => {
  const keys = Array.from({ length: 2100 }, () => generateMaskKey());
  const copies = keys.map((key) => key.slice());
  for (let i = 0; i < 2100; i++) generateMaskKey();
  assert.deepEqual(keys, copies);
});

test("generateMaskKey keys are not all zero", () => {
  // A zero key would leave every payload in the clear; 32 zero keys in a row
  // from a random source have probability 2^-1024.
  const keys = Array.from({ length: 32 }, () => generateMaskKey());
  assert.ok(keys.some((key) => key.some((byte) => byte !== 0)));
});
