/**
 * The permessage-deflate compressor (RFC 7692 §7.2) on `node:zlib`, which
 * Deno, Bun and Node all provide: raw deflate streams flushed with
 * `Z_SYNC_FLUSH` at each message's end, the `00 00 ff ff` tail stripped when
 * sending and added back when receiving. Web `CompressionStream` cannot
 * flush without ending the stream, so it cannot keep a context between
 * messages.
 *
 * Memory is bounded four ways: zlib streams are created only when a message
 * needs one and closed after each message when its side has no context
 * takeover; a compressor unused for `compressorIdleTimeout` is closed (a
 * fresh one is always valid: the peer's decompressor needs only what it
 * received); decompression stops at the first output chunk past the size
 * limit; and at most {@linkcode MAX_CONCURRENT_JOBS} zlib jobs run at once
 * in the process, as `ws` does, since many at once fragment the memory
 * allocator's arenas.
 *
 * @module
 */

import zlib from "node:zlib";
import { concatBytes } from "../_bytes.ts";
import { CLOSE_CODE } from "../codec/close_code.ts";
import { ProtocolError } from "../errors.ts";
import type { Role } from "../codec/frame.ts";
import type { CompressorCallback, MessageCompressor } from "../protocol/compressor.ts";
import {
  type CompressionOptions,
  DEFAULT_COMPRESSION_THRESHOLD,
  DEFAULT_COMPRESSOR_IDLE_TIMEOUT,
  type DeflateParams,
} from "./permessage_deflate.ts";

/** RFC 7692 §7.2.1: what a sync flush ends with, removed from each compressed message. */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
/** How many zlib jobs may run at once in the process; the others wait their turn. */
const MAX_CONCURRENT_JOBS = 10;

let running = 0;
const waiting: (() => void)[] = [];

/** The compressors holding a deflate stream, checked for idleness by one timer. */
const holdingDeflate = new Set<DeflateCompressor>();
let sweeper: ReturnType<typeof setInterval> | undefined;
const SWEEP_INTERVAL = 1000;

function watchIdle(compressor: DeflateCompressor): void {
  holdingDeflate.add(compressor);
  if (sweeper !== undefined) return;
  sweeper = setInterval(() => {
    const now = performance.now();
    for (const held of holdingDeflate) held.releaseIfIdle(now);
    if (holdingDeflate.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }, SWEEP_INTERVAL);
  // The timer alone must not keep a process alive.
  const timer = sweeper as unknown as { unref?: () => void } | number;
  if (typeof timer === "object") timer.unref?.();
  else (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer);
}

/** Runs `job` once fewer than {@linkcode MAX_CONCURRENT_JOBS} jobs run; it calls `release` when done. */
function schedule(job: () => void): void {
  if (running < MAX_CONCURRENT_JOBS) {
    running++;
    job();
  } else {
    waiting.push(job);
  }
}

function release(): void {
  const next = waiting.shift();
  if (next === undefined) running--;
  else next();
}

/** One message in progress in one direction. */
interface Job {
  done: CompressorCallback;
  chunks: Uint8Array[];
  length: number;
  // Whether it holds one of the process's job slots.
  holdsSlot: boolean;
}

/**
 * Creates the permessage-deflate compressor of one connection.
 *
 * @param params What the handshake agreed on.
 * @param role Which end this is: it compresses with its own side's parameters.
 * @param options The level, memory level and threshold.
 * @returns The compressor, holding no zlib stream until a message needs one.
 */
export function createDeflateCompressor(
  params: DeflateParams,
  role: Role,
  options: CompressionOptions,
): MessageCompressor {
  return new DeflateCompressor(params, role, options);
}

class DeflateCompressor implements MessageCompressor {
  readonly threshold: number;
  readonly shouldCompress: ((data: string | Uint8Array) => boolean) | undefined;
  readonly #ownBits: number;
  readonly #peerBits: number;
  readonly #ownNoContextTakeover: boolean;
  readonly #peerNoContextTakeover: boolean;
  readonly #level: number | undefined;
  readonly #memLevel: number | undefined;
  #deflate: zlib.DeflateRaw | undefined;
  #inflate: zlib.InflateRaw | undefined;
  #compressing: Job | undefined;
  #decompressing: Job | undefined;
  #maxSize = 0;
  readonly #idleTimeout: number;
  #lastCompressed = 0;

  constructor(params: DeflateParams, role: Role, options: CompressionOptions) {
    this.threshold = options.threshold ?? DEFAULT_COMPRESSION_THRESHOLD;
    this.shouldCompress = options.shouldCompress;
    const server = role === "server";
    // zlib cannot deflate with an 8-bit window; with 9 its matches stay
    // within 250 bytes, so an 8-bit window inflates them.
    this.#ownBits = Math.max(9, server ? params.serverMaxWindowBits : params.clientMaxWindowBits);
    this.#peerBits = Math.max(9, server ? params.clientMaxWindowBits : params.serverMaxWindowBits);
    this.#ownNoContextTakeover = server
      ? params.serverNoContextTakeover
      : params.clientNoContextTakeover;
    this.#peerNoContextTakeover = server
      ? params.clientNoContextTakeover
      : params.serverNoContextTakeover;
    this.#level = options.level;
    this.#memLevel = options.memLevel;
    this.#idleTimeout = options.compressorIdleTimeout ?? DEFAULT_COMPRESSOR_IDLE_TIMEOUT;
  }

  /** Closes the deflate stream when it has not been used for the idle timeout. */
  releaseIfIdle(now: number): void {
    if (this.#compressing !== undefined || this.#deflate === undefined) return;
    if (now - this.#lastCompressed >= this.#idleTimeout) this.#closeDeflate();
  }

  compress(data: Uint8Array, done: CompressorCallback): void {
    const job: Job = { done, chunks: [], length: 0, holdsSlot: false };
    this.#compressing = job;
    schedule(() => {
      job.holdsSlot = true;
      if (this.#compressing !== job) return this.#release(job);
      const deflate = this.#deflate ??= this.#createDeflate();
      deflate.write(data);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        if (this.#compressing !== job) return;
        // Deno calls back before it emits the stream's error.
        if (deflate.errored) return this.#failCompression(deflate.errored);
        this.#compressing = undefined;
        this.#release(job);
        let payload = joinChunks(job.chunks, job.length);
        if (endsWithTail(payload)) payload = payload.subarray(0, payload.length - TAIL.length);
        this.#lastCompressed = performance.now();
        if (this.#ownNoContextTakeover) this.#closeDeflate();
        else if (this.#idleTimeout > 0 && this.#idleTimeout < Infinity) watchIdle(this);
        done(undefined, payload);
      });
    });
  }

  decompress(data: Uint8Array[], maxSize: number, done: CompressorCallback): void {
    const job: Job = { done, chunks: [], length: 0, holdsSlot: false };
    this.#decompressing = job;
    this.#maxSize = maxSize;
    schedule(() => {
      job.holdsSlot = true;
      if (this.#decompressing !== job) return this.#release(job);
      const inflate = this.#inflate ??= this.#createInflate();
      for (const chunk of data) inflate.write(chunk);
      inflate.write(TAIL);
      inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        if (this.#decompressing !== job) return;
        // Deno calls back before it emits the stream's error.
        if (inflate.errored) return this.#failDecompression(inflate.errored);
        this.#decompressing = undefined;
        this.#release(job);
        if (this.#peerNoContextTakeover) this.#closeInflate();
        done(undefined, joinChunks(job.chunks, job.length));
      });
    });
  }

  close(): void {
    for (const job of [this.#compressing, this.#decompressing]) {
      if (job !== undefined) this.#release(job);
    }
    this.#compressing = undefined;
    this.#decompressing = undefined;
    this.#closeDeflate();
    this.#closeInflate();
  }

  #createDeflate(): zlib.DeflateRaw {
    const deflate = zlib.createDeflateRaw({
      windowBits: this.#ownBits,
      ...(this.#level === undefined ? {} : { level: this.#level }),
      ...(this.#memLevel === undefined ? {} : { memLevel: this.#memLevel }),
    });
    deflate.on("data", (chunk: Uint8Array) => {
      const job = this.#compressing;
      if (job === undefined) return;
      job.chunks.push(chunk);
      job.length += chunk.length;
    });
    deflate.on("error", (error: unknown) => this.#failCompression(error));
    return deflate;
  }

  #createInflate(): zlib.InflateRaw {
    const inflate = zlib.createInflateRaw({ windowBits: this.#peerBits });
    inflate.on("data", (chunk: Uint8Array) => {
      const job = this.#decompressing;
      if (job === undefined) return;
      job.length += chunk.length;
      if (job.length <= this.#maxSize) {
        job.chunks.push(chunk);
        return;
      }
      // Past the limit: stop inflating now, before another chunk is made.
      this.#decompressing = undefined;
      this.#release(job);
      this.#closeInflate();
      job.chunks = [];
      job.done(
        new ProtocolError(
          `Cannot decode message: it is over ${this.#maxSize} bytes once decompressed, the limit`,
          { closeCode: CLOSE_CODE.MessageTooBig },
        ),
      );
    });
    inflate.on("error", (error: unknown) => this.#failDecompression(error));
    return inflate;
  }

  #failCompression(error: unknown): void {
    const job = this.#compressing;
    this.#closeDeflate();
    if (job === undefined) return;
    this.#compressing = undefined;
    this.#release(job);
    job.done(error);
  }

  #failDecompression(error: unknown): void {
    const job = this.#decompressing;
    this.#closeInflate();
    if (job === undefined) return;
    this.#decompressing = undefined;
    this.#release(job);
    job.done(
      new ProtocolError("Cannot decode message: it is not valid compressed data", {
        closeCode: CLOSE_CODE.InvalidFramePayloadData,
        cause: error,
      }),
    );
  }

  #closeDeflate(): void {
    const deflate = this.#deflate;
    this.#deflate = undefined;
    holdingDeflate.delete(this);
    if (deflate !== undefined) closeStream(deflate);
  }

  #closeInflate(): void {
    const inflate = this.#inflate;
    this.#inflate = undefined;
    if (inflate !== undefined) closeStream(inflate);
  }

  /** Gives back the job's slot, if it holds one; a job still waiting gives it back when its turn comes. */
  #release(job: Job): void {
    if (!job.holdsSlot) return;
    job.holdsSlot = false;
    release();
  }
}

function closeStream(stream: zlib.DeflateRaw | zlib.InflateRaw): void {
  stream.removeAllListeners("data");
  // A late error from a stream being torn down concerns nobody.
  stream.removeAllListeners("error");
  stream.on("error", () => {});
  stream.close();
}

function endsWithTail(payload: Uint8Array): boolean {
  const at = payload.length - TAIL.length;
  return at >= 0 && payload[at] === 0x00 && payload[at + 1] === 0x00 &&
    payload[at + 2] === 0xff && payload[at + 3] === 0xff;
}

/** Joins zlib's output into one plain `Uint8Array` (a lone chunk is viewed, not copied). */
function joinChunks(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) {
    const chunk = chunks[0]!;
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
  }
  return concatBytes(chunks, length);
}
