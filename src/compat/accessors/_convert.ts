/**
 * The MIME types the Accessors module converts, and the conversions: what
 * `send()` takes to a WebSocket message, and a message to what `message`
 * listeners receive.
 *
 * @module
 */

import type { MessageInput } from "../../protocol/channel.ts";
import type { Message } from "../../protocol/connection.ts";

/** The types both directions support; `text/*` and `image/*` stand for any subtype. */
export const SUPPORTED_TYPES: readonly string[] = [
  "application/json",
  "text/*",
  "application/octet-stream",
  "image/*",
];

/** How a type is converted: JSON as text, text as it is, or raw bytes. */
export type Conversion = "json" | "text" | "bytes";

// RFC 9110 §5.6.2: a type and a subtype are tokens; `*` is one of their characters.
const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const TEXT = new RegExp(`^text/${TOKEN}$`);
const IMAGE = new RegExp(`^image/${TOKEN}$`);

/**
 * Finds how a MIME type given as an option is converted. The comparison
 * ignores case and parameters, except a `charset` other than UTF-8, which
 * could not be honoured.
 *
 * @param type The option's value.
 * @param option The option's name, for the error message.
 * @param who What is being created, for the error message.
 * @returns The conversion.
 * @throws {TypeError} When the value is not a string.
 * @throws {RangeError} When the type is not supported.
 */
export function conversionOf(type: unknown, option: string, who: string): Conversion {
  if (typeof type !== "string") {
    throw new TypeError(`Cannot create ${who}: ${option} must be a string, got ${typeof type}`);
  }
  const [essence = "", ...parameters] = type.toLowerCase().split(";").map((part) => part.trim());
  const charset = parameters.find((parameter) => parameter.startsWith("charset="))
    ?.slice("charset=".length).replace(/^"(.*)"$/, "$1");
  let conversion: Conversion | undefined;
  if (essence === "application/json") conversion = "json";
  else if (TEXT.test(essence)) conversion = "text";
  else if (essence === "application/octet-stream" || IMAGE.test(essence)) conversion = "bytes";
  if (conversion === undefined || (charset !== undefined && charset !== "utf-8")) {
    throw new RangeError(
      `Cannot create ${who}: ${option} ${JSON.stringify(type)} is not supported, use one of ${
        SUPPORTED_TYPES.join(", ")
      }${conversion === undefined ? "" : " in UTF-8"}`,
    );
  }
  return conversion;
}

/**
 * Turns what `send()` was given into a message: JSON text, text, or bytes.
 *
 * @param conversion The send type's conversion.
 * @param type The send type, for error messages.
 * @param data What `send()` was given.
 * @returns The message to write.
 * @throws {TypeError} When the data cannot be converted.
 */
export function encode(conversion: Conversion, type: string, data: unknown): MessageInput {
  if (conversion === "json") {
    let text: string | undefined;
    try {
      text = JSON.stringify(data);
    } catch (error) {
      throw new TypeError(
        `Cannot send message: JSON.stringify failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
    if (text === undefined) {
      throw new TypeError(`Cannot send message: ${describe(data)} has no JSON form`);
    }
    return text;
  }
  if (conversion === "text") {
    if (typeof data === "string") return data;
    if (typeof data === "number" || typeof data === "boolean" || typeof data === "bigint") {
      return String(data);
    }
    throw new TypeError(
      `Cannot send message: ${type} takes a string, a number or a boolean, got ${describe(data)}`,
    );
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data;
  throw new TypeError(
    `Cannot send message: ${type} takes bytes (an ArrayBuffer or a view), got ${describe(data)}`,
  );
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Turns a received message into what `message` listeners get: for JSON,
 * the parsed value, or the text when it does not parse; for text, a
 * string; for bytes, a `Uint8Array`. Text and binary messages are both
 * accepted, converted through UTF-8.
 *
 * @param conversion The receive type's conversion.
 * @param message The message received.
 * @returns The value to emit.
 */
export function decode(conversion: Conversion, message: Message): unknown {
  if (conversion === "bytes") {
    if (typeof message === "string") return encoder.encode(message);
    // A runtime may hand a subclass such as Buffer; listeners get a plain view.
    return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  }
  const text = typeof message === "string" ? message : decoder.decode(message);
  if (conversion === "text") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(data: unknown): string {
  if (data === null) return "null";
  if (typeof data === "object") return data.constructor?.name ?? "object";
  return typeof data;
}
