/**
 * Payload masking (RFC 6455 §5.3) and fresh masking keys.
 *
 * @module
 */

// Below this length a byte loop beats setting up a 32-bit view.
const WORD_LOOP_MIN_LENGTH = 64;
const wordKeyBytes = new Uint8Array(4);
const wordKey = new Int32Array(wordKeyBytes.buffer);

/**
 * XORs `data` in place with a 4-byte masking key. Masking and unmasking are
 * the same operation. Aligned 32-bit words are XORed four at a time, about
 * ten times faster than a byte loop on large payloads.
 *
 * @param data The payload, modified in place.
 * @param key The 4-byte masking key.
 * @throws {RangeError} When the key is not 4 bytes.
 *
 * @example Masking and unmasking
 * ```ts
 * import { applyMask } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * const data = new TextEncoder().encode("Hello");
 * applyMask(data, key);
 * assert.deepEqual(data, new Uint8Array([0x7f, 0x9f, 0x4d, 0x51, 0x58]));
 * applyMask(data, key);
 * assert.equal(new TextDecoder().decode(data), "Hello");
 * ```
 */
export function applyMask(data: Uint8Array, key: Uint8Array): void {
  if (key.length !== 4) throw new RangeError(`Cannot mask: key is ${key.length} bytes, not 4`);
  maskRange(data, 0, data.length, key, 0);
}

/**
 * {@linkcode applyMask} over `data[start..end]`, with the key read from
 * `keySource[keyOffset..keyOffset + 4]`, so that neither the payload inside a
 * frame nor the key inside its header needs a view of its own.
 *
 * @param data Holds the payload, modified in place.
 * @param start Where the payload starts in `data`.
 * @param end Where the payload ends in `data`.
 * @param keySource Holds the key.
 * @param keyOffset Where the key starts in `keySource`.
 */
export function maskRange(
  data: Uint8Array,
  start: number,
  end: number,
  keySource: Uint8Array,
  keyOffset: number,
): void {
  const k0 = keySource[keyOffset]!;
  const k1 = keySource[keyOffset + 1]!;
  const k2 = keySource[keyOffset + 2]!;
  const k3 = keySource[keyOffset + 3]!;
  let i = start;
  if (end - start >= WORD_LOOP_MIN_LENGTH) {
    // Int32Array views need 4-byte alignment: XOR bytes up to the boundary,
    // then words with the key rotated to match, then the tail bytes. Int32
    // rather than Uint32 keeps every value a small integer in the engine.
    const head = (4 - ((data.byteOffset + start) & 3)) & 3;
    for (; i < start + head; i++) data[i]! ^= keySource[keyOffset + ((i - start) & 3)]!;
    wordKeyBytes[(4 - head) & 3] = k0;
    wordKeyBytes[(5 - head) & 3] = k1;
    wordKeyBytes[(6 - head) & 3] = k2;
    wordKeyBytes[(7 - head) & 3] = k3;
    const mask = wordKey[0]!;
    const wordCount = (end - i) >>> 2;
    const words = new Int32Array(data.buffer, data.byteOffset + i, wordCount);
    const unrolledEnd = wordCount & ~3;
    let w = 0;
    for (; w < unrolledEnd; w += 4) {
      words[w]! ^= mask;
      words[w + 1]! ^= mask;
      words[w + 2]! ^= mask;
      words[w + 3]! ^= mask;
    }
    for (; w < wordCount; w++) words[w]! ^= mask;
    i += wordCount * 4;
  } else {
    for (; i + 3 < end; i += 4) {
      data[i]! ^= k0;
      data[i + 1]! ^= k1;
      data[i + 2]! ^= k2;
      data[i + 3]! ^= k3;
    }
  }
  for (; i < end; i++) data[i]! ^= keySource[keyOffset + ((i - start) & 3)]!;
}

const KEY_POOL_SIZE = 4096;
// Keys are copied out of the pool, so it can be refilled in place.
const keyPool = new Uint8Array(KEY_POOL_SIZE);
let keyPoolOffset = KEY_POOL_SIZE;

/**
 * Returns a fresh random 4-byte masking key. Keys come from the platform's
 * cryptographic random source, drawn 4 KiB at a time so a frame does not pay
 * for a call into it; no key is ever handed out twice.
 *
 * @returns A new 4-byte key.
 *
 * @example Two keys in a row differ
 * ```ts
 * import { generateMaskKey } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const key = generateMaskKey();
 * assert.equal(key.length, 4);
 * assert.notDeepEqual(generateMaskKey(), key);
 * ```
 */
export function generateMaskKey(): Uint8Array {
  const key = new Uint8Array(4);
  writeMaskKey(key, 0);
  return key;
}

/**
 * Writes a fresh random 4-byte masking key into `target` at `offset`, as
 * {@linkcode generateMaskKey} does, without creating an array for it.
 *
 * @param target Where to write.
 * @param offset Where the key starts.
 */
export function writeMaskKey(target: Uint8Array, offset: number): void {
  if (keyPoolOffset === keyPool.length) {
    crypto.getRandomValues(keyPool);
    keyPoolOffset = 0;
  }
  target[offset] = keyPool[keyPoolOffset]!;
  target[offset + 1] = keyPool[keyPoolOffset + 1]!;
  target[offset + 2] = keyPool[keyPoolOffset + 2]!;
  target[offset + 3] = keyPool[keyPoolOffset + 3]!;
  keyPoolOffset += 4;
}
