/**
 * Byte helpers shared by the message layer, the transports and the
 * extensions.
 *
 * @module
 */

/** The chunks joined into one new array of `length` bytes, their total. */
export function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

/**
 * A message to send as a string or a `Uint8Array`: an `ArrayBuffer` or
 * another view is viewed as bytes, not copied.
 *
 * @param message What the application gave.
 * @param action What was being done, for the error: "send message".
 * @throws {TypeError} When it is neither text nor bytes.
 */
export function toMessage(
  message: string | ArrayBuffer | ArrayBufferView,
  action: string,
): string | Uint8Array {
  if (typeof message === "string" || message instanceof Uint8Array) return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  if (ArrayBuffer.isView(message)) {
    return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  }
  throw new TypeError(
    `Cannot ${action}: expected a string, an ArrayBuffer or a view, got ${typeof message}`,
  );
}
