/**
 * {@linkcode MessageCompressor}: what the message layer needs of a
 * per-message compression extension, so that it stays free of I/O; the
 * permessage-deflate implementation on `node:zlib` is given to it by the
 * runtime side.
 *
 * @module
 */

/** Called once with the result of a compression or decompression, or the error. */
export type CompressorCallback = (error: unknown, result?: Uint8Array) => void;

/**
 * Compresses outgoing and decompresses incoming messages for one connection.
 * Work is asynchronous; the {@linkcode Connection} makes at most one call in
 * each direction at a time and keeps messages in order around it.
 */
export interface MessageCompressor {
  /** Messages shorter than this many bytes are sent uncompressed. */
  readonly threshold: number;
  /** Decides, for a message from the threshold on, whether to compress it; absent compresses all. */
  readonly shouldCompress?: ((data: string | Uint8Array) => boolean) | undefined;
  /**
   * Compresses a whole message into one compressed payload.
   *
   * @param data The message's bytes; they must not change until `done` is called.
   * @param done Called with the compressed payload.
   */
  compress(data: Uint8Array, done: CompressorCallback): void;
  /**
   * Decompresses a whole message received in one or more frames.
   *
   * @param data The payloads of its frames, in order.
   * @param maxSize The largest size allowed once decompressed: past it,
   * decompression stops and `done` gets a `ProtocolError` with 1009.
   * @param done Called with the message's bytes, or a `ProtocolError`
   * (1007 for data that is not valid compressed data).
   */
  decompress(data: Uint8Array[], maxSize: number, done: CompressorCallback): void;
  /** Frees what the compressor holds; pending callbacks are never called. */
  close(): void;
}
