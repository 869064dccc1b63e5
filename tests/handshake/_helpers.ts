/**
 * Helpers shared by the handshake tests: heads built from lines, the RFC 6455
 * §1.2 and §1.3 examples, and an assertion for a {@linkcode HandshakeError}.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HandshakeError } from "../../src/errors.ts";

/** The key of the RFC 6455 §1.2 example request. */
export const RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
/** The accept value RFC 6455 §1.3 derives from {@linkcode RFC_KEY}. */
export const RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/** The request of RFC 6455 §1.2, line by line, without the empty line. */
export const RFC_REQUEST_LINES: readonly string[] = [
  "GET /chat HTTP/1.1",
  "Host: server.example.com",
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Key: ${RFC_KEY}`,
  "Origin: http://example.com",
  "Sec-WebSocket-Protocol: chat, superchat",
  "Sec-WebSocket-Version: 13",
];

/** The response of RFC 6455 §1.2, line by line, without the empty line. */
export const RFC_RESPONSE_LINES: readonly string[] = [
  "HTTP/1.1 101 Switching Protocols",
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Accept: ${RFC_ACCEPT}`,
  "Sec-WebSocket-Protocol: chat",
];

/**
 * Builds a head from its lines: each line and then the empty line end in
 * CRLF; each character becomes one byte, so `"\x80"` is the byte 0x80.
 *
 * @param lines The start line and the field lines.
 * @returns The head's bytes.
 */
export function headBytes(lines: readonly string[]): Uint8Array {
  return latin1(lines.map((line) => `${line}\r\n`).join("") + "\r\n");
}

/**
 * Encodes a string one byte per character.
 *
 * @param text Characters up to U+00FF.
 * @returns The bytes.
 */
export function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new TypeError(`Cannot encode U+${code.toString(16)} as one byte`);
    bytes[i] = code;
  }
  return bytes;
}

/**
 * Decodes bytes one character per byte.
 *
 * @param bytes The bytes.
 * @returns The string.
 */
export function fromLatin1(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => String.fromCharCode(byte)).join("");
}

/**
 * Returns a validator for `assert.throws` and `assert.rejects` that checks for
 * a {@linkcode HandshakeError} with the given status and, optionally, a
 * message matching a pattern.
 *
 * @param status The expected HTTP status.
 * @param message A pattern the message must match.
 * @param label Names the case in assertion messages.
 * @returns The validator.
 */
export function handshakeError(
  status: number,
  message?: RegExp,
  label = "",
): (error: unknown) => boolean {
  return (error) => {
    assert.ok(
      error instanceof HandshakeError,
      `${label}: expected a HandshakeError, got ${String(error)}`,
    );
    assert.equal(error.status, status, `${label}: status of "${error.message}"`);
    if (message !== undefined) assert.match(error.message, message, label);
    return true;
  };
}

/**
 * Returns a validator for a `DOMException` named `SyntaxError`, as the
 * `WebSocket` constructor throws.
 *
 * @param label Names the case in assertion messages.
 * @returns The validator.
 */
export function syntaxError(label = ""): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof DOMException, `${label}: expected a DOMException, got ${error}`);
    assert.equal(error.name, "SyntaxError", label);
    return true;
  };
}

/**
 * Replaces, adds or removes a field line in a list of head lines. The field
 * is found by name, case-insensitively; `undefined` removes it, and a field
 * not found is added at the end.
 *
 * @param lines The head's lines.
 * @param name The field name.
 * @param value The new value, or `undefined` to remove the field.
 * @returns The new lines.
 */
export function withField(
  lines: readonly string[],
  name: string,
  value: string | undefined,
): string[] {
  const prefix = `${name.toLowerCase()}:`;
  const index = lines.findIndex((line, i) => i > 0 && line.toLowerCase().startsWith(prefix));
  const result = [...lines];
  if (index < 0) {
    if (value !== undefined) result.push(`${name}: ${value}`);
  } else if (value === undefined) {
    result.splice(index, 1);
  } else {
    result[index] = `${name}: ${value}`;
  }
  return result;
}
