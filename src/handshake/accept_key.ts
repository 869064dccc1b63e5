/**
 * The key of the opening handshake (RFC 6455 §4.1, §4.2.2): the client's
 * random nonce and the server's proof that it read it.
 *
 * @module
 */

// The GUID a server appends to the client's key before hashing (RFC 6455 §1.3).
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const encoder = new TextEncoder();

/**
 * Computes the `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: the
 * base64 SHA-1 digest of the key followed by the GUID
 * `258EAFA5-E914-47DA-95CA-C5AB0DC85B11` (RFC 6455 §4.2.2). The key is hashed as given, not decoded; checking that it
 * is base64 of 16 bytes is the job of `checkUpgradeRequest`.
 *
 * @param key The `Sec-WebSocket-Key` value, without surrounding whitespace.
 * @returns The `Sec-WebSocket-Accept` value.
 *
 * @example The RFC 6455 §1.3 example
 * ```ts
 * import { computeAcceptKey } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
 *   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
 * );
 * ```
 */
export async function computeAcceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + WEBSOCKET_GUID));
  return encodeBase64(new Uint8Array(digest));
}

/**
 * Generates a `Sec-WebSocket-Key`: 16 random bytes in base64, fresh for each
 * connection (RFC 6455 §4.1).
 *
 * @returns The key, 24 characters ending in `==`.
 *
 * @example A fresh key for each connection
 * ```ts
 * import { generateKey } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const key = generateKey();
 * assert.equal(atob(key).length, 16);
 * assert.notEqual(generateKey(), key);
 * ```
 */
export function generateKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(16)));
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
