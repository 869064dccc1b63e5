/**
 * The argument checks of `close()` shared by {@linkcode WebSocketStream} and
 * {@linkcode WebSocket}, with the WebIDL conversions the standards give them.
 *
 * @module
 */

import { CLOSE_CODE } from "./codec/close_code.ts";

/** How a close code is converted: WebIDL `[Clamp]` or `[EnforceRange]` `unsigned short`. */
export type CloseCodeConversion = "clamp" | "enforce-range";

/** A close code and reason checked by {@linkcode checkCloseArguments}. */
export interface CheckedCloseArguments {
  /** The close code to send; `undefined` to send a close frame without one. */
  code: number | undefined;
  /** The close reason, `""` when none. */
  reason: string;
}

/**
 * Checks a close code and reason as the WHATWG "close the WebSocket" steps
 * do, for {@linkcode WebSocketStream}, {@linkcode WebSocketError} and the
 * `WebSocket` class; it is not part of the package's entry points.
 *
 * @param code The close code; `undefined` or `null` for none.
 * @param reason The close reason; `undefined` for none.
 * @param conversion How a code that is not a whole number is converted.
 * @param what What is being done, for the error messages.
 * @returns The code (1000 when only a reason was given) and the reason.
 * @throws {TypeError} With `"enforce-range"`, when the code is not a whole
 * number from 0 to 65535.
 * @throws {DOMException} An `InvalidAccessError` when the code is not 1000 or
 * in 3000-4999, a `SyntaxError` when the reason is over 123 bytes of UTF-8.
 *
 * @example A code the application may not send
 * ```ts ignore
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => checkCloseArguments(1001, undefined, "clamp", "close connection"),
 *   (error) => error instanceof DOMException && error.name === "InvalidAccessError",
 * );
 * ```
 */
export function checkCloseArguments(
  code: unknown,
  reason: unknown,
  conversion: CloseCodeConversion,
  what: string,
): CheckedCloseArguments {
  let checkedCode: number | undefined;
  if (code !== undefined && code !== null) {
    checkedCode = conversion === "clamp" ? clampCode(code) : enforceCodeRange(code, what);
    if (checkedCode !== CLOSE_CODE.NormalClosure && !(checkedCode >= 3000 && checkedCode <= 4999)) {
      throw new DOMException(
        `Cannot ${what}: close code ${checkedCode} is neither 1000 nor in 3000-4999`,
        "InvalidAccessError",
      );
    }
  }
  const checkedReason = reason === undefined ? "" : toUsvString(String(reason));
  const length = utf8Length(checkedReason);
  if (length > 123) {
    throw new DOMException(
      `Cannot ${what}: close reason is ${length} bytes, limit is 123`,
      "SyntaxError",
    );
  }
  // A reason goes in a close frame after a code: 1000 when none was given.
  if (checkedCode === undefined && checkedReason !== "") checkedCode = CLOSE_CODE.NormalClosure;
  return { code: checkedCode, reason: checkedReason };
}

/**
 * Counts the bytes of a string's UTF-8 encoding without encoding it; a lone
 * surrogate counts 3, as the U+FFFD that replaces it.
 *
 * @param text The string.
 * @returns Its length in UTF-8.
 *
 * @example Counting multi-byte characters
 * ```ts ignore
 * import assert from "node:assert/strict";
 *
 * assert.equal(utf8Length("h\u00e9\u20ac\u{1F600}"), 1 + 2 + 3 + 4);
 * ```
 */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** WebIDL `[Clamp] unsigned short`: clamped to 0-65535, rounded half to even. */
function clampCode(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** WebIDL `[EnforceRange] unsigned short`: a finite number, truncated, from 0 to 65535. */
function enforceCodeRange(value: unknown, what: string): number {
  const number = Number(value);
  const truncated = Math.trunc(number);
  if (!Number.isFinite(number) || truncated < 0 || truncated > 65535) {
    throw new TypeError(`Cannot ${what}: close code ${String(value)} is not from 0 to 65535`);
  }
  return truncated;
}

/** WebIDL `USVString`: each lone surrogate becomes U+FFFD. */
function toUsvString(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "\ufffd",
  );
}
