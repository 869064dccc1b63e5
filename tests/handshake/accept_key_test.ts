import { test } from "node:test";
import assert from "node:assert/strict";
import { computeAcceptKey, generateKey } from "../../src/handshake/accept_key.ts";
import { RFC_ACCEPT, RFC_KEY } from "./_helpers.ts";

test("computeAcceptKey gives the RFC 6455 §1.3 value for its example key", async () => {
  assert.equal(await computeAcceptKey(RFC_KEY), RFC_ACCEPT);
  assert.equal(RFC_ACCEPT, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

// Computed independently: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
const VECTORS: [key: string, accept: string][] = [
  ["x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="],
  ["AAAAAAAAAAAAAAAAAAAAAA==", "ICX+Yqv66kxgM0FcWaLWlFLwTAI="],
  ["AQIDBAUGBwgJCgsMDQ4PEA==", "C/0nmHhBztSRGR1CwL6Tf4ZjwpY="],
];

test("computeAcceptKey gives the SHA-1 of the key and the GUID, in base64", async () => {
  for (const [key, accept] of VECTORS) {
    assert.equal(await computeAcceptKey(key), accept, key);
  }
});

test("computeAcceptKey hashes the key as text, without decoding or normalizing it", async () => {
  // Without its padding, or in another case, the same nonce gives another value.
  assert.equal(await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ"), "RZWuh2JK/hL0RMgTNJFfZIAppXg=");
  assert.equal(await computeAcceptKey("dghlihnhbxbszsbub25jzq=="), "CAV2rT4szLbzEtluVJbfjB7GFPY=");
  assert.equal(await computeAcceptKey(""), "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=");
});

test("generateKey returns 16 bytes in canonical base64", () => {
  for (let i = 0; i < 100; i++) {
    const key = generateKey();
    assert.match(key, /^[A-Za-z0-9+/]{21}[AQgw]==$/);
    assert.equal(atob(key).length, 16);
  }
});

test("generateKey returns a fresh key each time", () => {
  const keys = new Set(Array.from({ length: 1000 }, generateKey));
  assert.equal(keys.size, 1000);
});

test("generateKey uses every byte position", () => {
  // With a fixed or partly fixed nonce, some position would keep one value.
  const decoded = Array.from(
    { length: 64 },
    () => Uint8Array.from(atob(generateKey()), (c) => c.charCodeAt(0)),
  );
  for (let position = 0; position < 16; position++) {
    const values = new Set(decoded.map((bytes) => bytes[position]));
    assert.ok(values.size > 1, `byte ${position} never changes`);
  }
});
