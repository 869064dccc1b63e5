/**
 * {@linkcode fromByteStreams}: a WebSocket connection over any pair of byte
 * streams, as one {@linkcode Channel}, the object every transport and runtime
 * adapter hands out. It is runtime-neutral: adapters open sockets and pass
 * their streams here.
 *
 * @module
 */

import { concatBytes, toMessage } from "../_bytes.ts";
import { CLOSE_CODE } from "../codec/close_code.ts";
import { type Role, ZERO_COPY_MIN_PAYLOAD } from "../codec/frame.ts";
import { ConnectionClosedError, LimitError, TimeoutError } from "../errors.ts";
import { type CloseInfo, Connection, type ConnectionOptions, type Message } from "./connection.ts";
import { type PublishedMessage, QUEUE_PUBLISHED, QUEUED_BYTES } from "./_publish_target.ts";
import { type Deferred, deferred } from "./_deferred.ts";
import { ReadableFailure } from "./_readable_failure.ts";

/** The two directions of a transport, such as a TCP connection's streams. */
export interface ByteStreams {
  /** The bytes received. */
  readable: ReadableStream<Uint8Array>;
  /** The bytes to send. */
  writable: WritableStream<Uint8Array>;
}

/** Options of {@linkcode fromByteStreams}. */
export interface ChannelOptions extends ConnectionOptions {
  /** The side this end plays: a client masks its frames. */
  role: Role;
  /**
   * The subprotocol the opening handshake agreed on.
   *
   * @default {""}
   */
  protocol?: string;
  /**
   * The extensions the opening handshake agreed on.
   *
   * @default {""}
   */
  extensions?: string;
  /**
   * How long to wait, in milliseconds, for the peer to answer our close
   * frame, and then for a server to close the transport, before the
   * connection is cut off (reported as 1006).
   *
   * @default {5000}
   */
  closeTimeout?: number;
  /**
   * How many bytes of received messages may wait in `readable` before the
   * transport is no longer read, so that a consumer that stops reading stops
   * the peer too.
   *
   * @default {1048576}
   */
  readableHighWaterMark?: number;
  /**
   * The heartbeat: seconds without receiving anything after which a ping is
   * sent (its round trip is then `latency`); when nothing arrives for as long
   * again, the connection is closed with 1001. 0 turns it off. Deno's and
   * Bun's servers count this option in seconds too.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * How many bytes of messages may wait to be sent, in `writable`'s queue
   * and ours, before `onQueueFull` applies: a peer that stops reading must
   * not make the sender's memory grow without bound.
   *
   * @default {16777216}
   */
  maxQueuedBytes?: number;
  /**
   * What to do when more than `maxQueuedBytes` wait to be sent: `"wait"`
   * lets them wait (`writer.ready` and `pipeTo` wait meanwhile; writes that
   * do not wait queue in memory); `"close"` sends a close frame with 1008
   * behind the frames already handed over (at most 64 KiB and the write in
   * flight), rejects the writes still waiting with a
   * {@linkcode ConnectionClosedError} whose cause is a {@linkcode LimitError},
   * and cuts the connection off after `closeTimeout` if the peer, not
   * reading, does not answer (1006).
   *
   * @default {"wait"}
   */
  onQueueFull?: "wait" | "close";
  /**
   * Called with the payload of each ping received, and the channel it came
   * on (so that one callback can serve every connection of a server); the
   * pong is sent by itself.
   */
  onPing?: (payload: Uint8Array, channel: Channel) => void;
  /** Called with the payload of each pong received, solicited or not, and the channel. */
  onPong?: (payload: Uint8Array, channel: Channel) => void;
}

/** A value `writable` accepts: text, or bytes in any binary form. */
export type MessageInput = string | ArrayBuffer | ArrayBufferView;

/**
 * One open WebSocket connection, streams first: read messages from
 * `readable`, write them to `writable`, and `closed` tells how it ended.
 */
export interface Channel {
  /**
   * The messages received: a string for text, a `Uint8Array` for binary. It
   * ends after a clean close; after a failure, once the messages received
   * before it are read, it errors with a {@linkcode ConnectionClosedError}.
   */
  readonly readable: ReadableStream<Message>;
  /**
   * Sends messages: a string as text, bytes as binary. A write resolves once
   * its frame was handed to the transport, or waits, joined with the frames
   * after it, for the transport's write in flight, as long as under 64 KiB
   * wait; past that it resolves once the transport took it, so `writer.ready`
   * waits while the transport cannot take more. A server's binary message of
   * 16 KiB or more is sent uncopied, and its write resolves only once written.
   */
  readonly writable: WritableStream<MessageInput>;
  /** The subprotocol agreed on, or `""`. */
  readonly protocol: string;
  /** The extensions agreed on, or `""`. */
  readonly extensions: string;
  /** Resolves once the connection and its transport are closed; never rejects. */
  readonly closed: Promise<CloseInfo>;
  /**
   * The round-trip time, in milliseconds, of the last ping answered, a
   * heartbeat's or `ping()`'s; `undefined` before the first answer, and
   * always on a server that cannot see pongs (Deno's).
   */
  readonly latency: number | undefined;
  /**
   * Starts the closing handshake. Does nothing once it has started.
   *
   * @param code The close code; omit it to send a close frame without one.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @throws {RangeError} When the code may not be sent or the reason is too long.
   */
  close(code?: number, reason?: string): void;
  /**
   * Sends a ping.
   *
   * @param payload At most 125 bytes; a unique one is made when omitted.
   * @returns The round-trip time in milliseconds, once the matching pong
   * arrives. It rejects with a `RangeError` when the payload is over 125
   * bytes, and with {@linkcode ConnectionClosedError} when the connection
   * closes first or had started closing.
   */
  ping(payload?: Uint8Array): Promise<number>;
  /**
   * Sends an unsolicited pong, a one-way heartbeat (RFC 6455 §5.5.3).
   *
   * @param payload At most 125 bytes.
   * @throws {RangeError} When the payload is over 125 bytes.
   * @throws {ConnectionClosedError} When the closing handshake has started.
   */
  pong(payload?: Uint8Array): void;
}

const DEFAULT_CLOSE_TIMEOUT = 5000;
/**
 * While a transport write is in flight, frames wait in a batch written next
 * in one piece; a message write resolves at once while the batch holds less
 * than this, and otherwise once the batch is written.
 */
const WRITE_BATCH_LIMIT = 64 * 1024;
const DEFAULT_READABLE_HIGH_WATER_MARK = 1024 * 1024;
const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

interface PendingPing {
  payload: Uint8Array;
  sent: number;
  resolve(roundTrip: number): void;
  reject(error: unknown): void;
}

/**
 * Runs the WebSocket protocol over a transport whose opening handshake is
 * done, and returns the connection as a {@linkcode Channel}.
 *
 * Backpressure holds both ways: the transport is read only while fewer than
 * `readableHighWaterMark` bytes of messages wait in `readable`, and writes
 * wait once 64 KiB of frames wait for the transport (frames written while a
 * transport write is in flight go out together, in one write when they are
 * small). Pings are answered while the
 * transport is being read. When the connection ends, the server closes the
 * transport at once; a client waits up to `closeTimeout` for the server to
 * close it first (RFC 6455 §7.1.1).
 *
 * @param transport The transport's byte streams; the channel takes them over.
 * @param options The role, the handshake's results, limits and timeouts.
 * @returns The connection.
 * @throws {RangeError} When an option is out of range.
 *
 * @example Two channels talking through memory
 * ```ts
 * import { fromByteStreams } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const toServer = new TransformStream<Uint8Array, Uint8Array>();
 * const toClient = new TransformStream<Uint8Array, Uint8Array>();
 * const client = fromByteStreams(
 *   { readable: toClient.readable, writable: toServer.writable },
 *   { role: "client" },
 * );
 * const server = fromByteStreams(
 *   { readable: toServer.readable, writable: toClient.writable },
 *   { role: "server" },
 * );
 *
 * // The server echoes every message
 * server.readable.pipeTo(server.writable);
 *
 * const writer = client.writable.getWriter();
 * await writer.write("hello");
 * const reader = client.readable.getReader();
 * assert.deepEqual(await reader.read(), { value: "hello", done: false });
 *
 * client.close(1000, "done");
 * assert.deepEqual(await client.closed, { code: 1000, reason: "done", wasClean: true });
 * ```
 */
export function fromByteStreams(transport: ByteStreams, options: ChannelOptions): Channel {
  return new ByteStreamChannel(transport, options);
}

/**
 * Ends a channel made by {@linkcode fromByteStreams} at once, without a
 * closing handshake: its transport is closed and it ends with 1006, its
 * error's cause being `cause`. Does nothing to other channels and to one
 * already ended. For servers that shut down and cannot wait any longer.
 */
export function cutOff(channel: Channel, cause: Error): void {
  ByteStreamChannel.cutOff(channel, cause);
}

class ByteStreamChannel implements Channel {
  static cutOff(channel: Channel, cause: Error): void {
    if (!(#finished in channel) || channel.#finished) return;
    channel.#endCause ??= cause;
    channel.#abortTransport();
  }

  readonly readable: ReadableStream<Message>;
  readonly writable: WritableStream<MessageInput>;
  readonly protocol: string;
  readonly extensions: string;
  readonly closed: Promise<CloseInfo>;

  readonly #role: Role;
  /** Whether a published message's shared frame can be sent as it is: unmasked, unfragmented, uncompressed. */
  readonly #sharesFrames: boolean;
  readonly #closeTimeout: number;
  readonly #connection: Connection;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #readableController!: ReadableStreamDefaultController<Message>;
  #readableOpen = true;
  #reading: Promise<void> | undefined;
  #draining = false;
  #transportEnded = false;
  #finished = false;
  // The transport write in flight, and the frames waiting for it to finish.
  #writing = false;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #batchWritten: Deferred | undefined;
  /** Settles once the last frame handed to the transport so far is written. */
  #lastWrite: Promise<void> = Promise.resolve();
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  #pings: PendingPing[] = [];
  #pingCount = 0;
  readonly #idleTimeout: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #lastReceived = 0;
  #idlePinged = false;
  #latency: number | undefined;
  readonly #maxQueuedBytes: number;
  readonly #closeWhenQueueFull: boolean;
  /** Bytes of messages written to `writable` that its sink has not taken yet. */
  #unsentBytes = 0;
  /** Why the connection ended, when it was not the peer's doing. */
  #endCause: Error | undefined;
  readonly #readableFailure: ReadableFailure;

  constructor(transport: ByteStreams, options: ChannelOptions) {
    this.#role = options.role;
    this.protocol = options.protocol ?? "";
    this.extensions = options.extensions ?? "";
    this.#sharesFrames = this.#role === "server" && this.extensions === "" &&
      (options.fragmentSize ?? Infinity) === Infinity;
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (!(this.#closeTimeout >= 0)) {
      throw new RangeError(
        `Cannot create channel: closeTimeout must be at least 0, got ${this.#closeTimeout}`,
      );
    }
    this.#idleTimeout = (options.idleTimeout ?? 0) * 1000;
    if (!(this.#idleTimeout >= 0)) {
      throw new RangeError(
        `Cannot create channel: idleTimeout must be at least 0, got ${options.idleTimeout}`,
      );
    }
    const highWaterMark = options.readableHighWaterMark ?? DEFAULT_READABLE_HIGH_WATER_MARK;
    this.#readableFailure = new ReadableFailure(() => this.#readableController, highWaterMark);
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    if (!(this.#maxQueuedBytes > 0)) {
      throw new RangeError(
        `Cannot create channel: maxQueuedBytes must be over 0, got ${options.maxQueuedBytes}`,
      );
    }
    this.#closeWhenQueueFull = options.onQueueFull === "close";
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#reader = transport.readable.getReader();
    this.#writer = transport.writable.getWriter();
    this.#connection = new Connection(options, {
      write: (bytes) => this.#write(bytes),
      message: (data) => {
        if (this.#readableOpen) this.#readableController.enqueue(data);
      },
      ping: (payload) => options.onPing?.(payload, this),
      pong: (payload) => {
        this.#settlePings(payload);
        options.onPong?.(payload, this);
      },
      end: (info) => this.#end(info),
    });
    this.readable = new ReadableStream<Message>({
      start: (controller) => {
        this.#readableController = controller;
      },
      pull: (controller) => this.#fill(controller),
      cancel: () => {
        this.#readableOpen = false;
        this.close(CLOSE_CODE.NormalClosure);
      },
    }, { highWaterMark, size: messageSize });
    this.writable = new WritableStream<MessageInput>({
      write: (message) => {
        const data = toMessage(message, "send message");
        if (this.#closeWhenQueueFull) this.#unsentBytes -= messageSize(message);
        try {
          this.#connection.send(data);
        } catch (error) {
          // Closing because of a limit or a timeout: the error says which.
          if (error instanceof ConnectionClosedError && this.#endCause !== undefined) {
            error.cause ??= this.#endCause;
          }
          throw error;
        }
        // A server sends large binary payloads uncopied: they must not change until written.
        const uncopied = this.#role === "server" && typeof data !== "string" &&
          data.byteLength >= ZERO_COPY_MIN_PAYLOAD;
        // Messages waiting for one being compressed: wait for them, then as any write does.
        const sending = this.#connection.sending;
        if (sending !== undefined) return sending.then(() => this.#backpressure(uncopied));
        return this.#backpressure(uncopied);
      },
      close: async () => {
        this.close(CLOSE_CODE.NormalClosure);
        await this.closed;
      },
      abort: () => this.close(CLOSE_CODE.NormalClosure),
    }, this.#closeWhenQueueFull ? { size: (message) => this.#queue(message) } : undefined);
    if (this.#idleTimeout > 0) {
      this.#lastReceived = performance.now();
      this.#scheduleIdleCheck(this.#idleTimeout);
    }
  }

  get latency(): number | undefined {
    return this.#latency;
  }

  close(code?: number, reason?: string): void {
    this.#connection.close(code, reason);
    if (this.#connection.state !== "closing") return;
    // The peer's answer has to be read whether or not anyone reads messages.
    this.#startCloseTimer();
    this.#drain();
  }

  ping(payload?: Uint8Array): Promise<number> {
    const data = payload ?? uniquePingPayload(++this.#pingCount);
    return new Promise((resolve, reject) => {
      this.#connection.ping(data);
      this.#pings.push({ payload: data.slice(), sent: performance.now(), resolve, reject });
    });
  }

  pong(payload?: Uint8Array): void {
    this.#connection.pong(payload);
  }

  /** Queues a published message behind the frames already handed over, without waiting. */
  [QUEUE_PUBLISHED](published: PublishedMessage): void {
    if (this.#connection.state !== "open") return;
    if (this.#sharesFrames) this.#write(published.frame);
    else this.#connection.send(published.message);
  }

  /** The bytes of frames waiting for the transport's write in flight. */
  get [QUEUED_BYTES](): number {
    return this.#batchBytes;
  }

  /**
   * Reads the transport while `readable` has room. A stream pulls again only
   * after something was enqueued, and a chunk may hold no message (a ping,
   * half a frame): stopping there would leave pings unanswered.
   */
  async #fill(controller: ReadableStreamDefaultController<Message>): Promise<void> {
    if (this.#readableFailure.pull()) return;
    while (this.#readableOpen && !this.#transportEnded && (controller.desiredSize ?? 0) > 0) {
      await this.#readOnce();
    }
  }

  /** Reads one chunk from the transport and feeds it to the connection. */
  #readOnce(): Promise<void> {
    this.#reading ??= this.#read().finally(() => this.#reading = undefined);
    return this.#reading;
  }

  async #read(): Promise<void> {
    if (this.#transportEnded) return;
    // A transport that fails to read has ended, like one that reached its end.
    const chunk = await this.#reader.read().then((result) => result.value, () => undefined);
    if (chunk === undefined) {
      this.#transportEnded = true;
      this.#connection.receiveEnd();
      this.#finish();
      return;
    }
    this.#lastReceived = performance.now();
    this.#idlePinged = false;
    this.#connection.receive(chunk);
    // A compressed message being decompressed: read on once it was handled.
    const receiving = this.#connection.receiving;
    if (receiving !== undefined) await receiving;
  }

  /** Keeps reading until the transport ends, so that a close frame or FIN is seen. */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    (async () => {
      while (!this.#transportEnded) await this.#readOnce();
    })();
  }

  #write(bytes: Uint8Array): void {
    if (!this.#writing) {
      this.#writing = true;
      this.#lastWrite = this.#handOver(this.#writer.write(bytes));
      return;
    }
    this.#batch.push(bytes);
    this.#batchBytes += bytes.length;
    this.#batchWritten ??= deferred();
    this.#lastWrite = this.#batchWritten.promise;
  }

  /** What a message write waits for: nothing while the batch is small, unless its bytes are uncopied. */
  #backpressure(uncopied: boolean): Promise<void> | undefined {
    if (uncopied || this.#batchBytes >= WRITE_BATCH_LIMIT) return this.#lastWrite;
  }

  /** Writes the batch gathered meanwhile once `written` is written. */
  #handOver(written: Promise<void>): Promise<void> {
    // A failed write is the transport failing: nothing more can be exchanged.
    written.then(() => this.#writeBatch(), () => this.#abortTransport());
    return written;
  }

  /** Hands the batch to the transport, small frames joined into one write. */
  #writeBatch(): void {
    const batch = this.#batchWritten;
    if (batch === undefined) {
      this.#writing = false;
      return;
    }
    const frames = this.#batch;
    const length = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#batchWritten = undefined;
    let written: Promise<void>;
    if (frames.length === 1) {
      written = this.#writer.write(frames[0]!);
    } else if (length <= WRITE_BATCH_LIMIT) {
      written = this.#writer.write(concatBytes(frames, length));
    } else {
      // Large frames are not copied again; the transport queues them in order.
      for (const frame of frames.slice(0, -1)) this.#writer.write(frame).catch(() => {});
      written = this.#writer.write(frames.at(-1)!);
    }
    this.#handOver(written).then(batch.resolve, batch.reject);
  }

  /** Waits until every frame handed over so far is written, or the transport has failed. */
  async #flushed(): Promise<void> {
    while (this.#writing && !this.#transportEnded) await this.#lastWrite.catch(() => {});
  }

  /**
   * Checks for idleness at most once per `idleTimeout`, rather than
   * resetting a timer on every chunk received.
   */
  #scheduleIdleCheck(delay: number): void {
    this.#idleTimer = setTimeout(() => this.#checkIdle(), delay);
  }

  #checkIdle(): void {
    if (this.#connection.state !== "open") return;
    // A consumer that stopped reading stopped the transport: that is not the peer being idle.
    if ((this.#readableController.desiredSize ?? 1) <= 0) this.#lastReceived = performance.now();
    const idle = performance.now() - this.#lastReceived;
    if (idle < this.#idleTimeout) return this.#scheduleIdleCheck(this.#idleTimeout - idle);
    if (this.#idlePinged) {
      this.#endCause = new TimeoutError(
        `Cannot keep connection open: no answer to a ping within ${this.#idleTimeout} ms`,
        { option: "idleTimeout", timeout: this.#idleTimeout },
      );
      return this.close(CLOSE_CODE.GoingAway, "Idle timeout");
    }
    this.#idlePinged = true;
    this.#lastReceived = performance.now();
    // Its round trip becomes `latency`; a connection that ends first is reported by `closed`.
    this.ping().catch(() => {});
    this.#scheduleIdleCheck(this.#idleTimeout);
  }

  /** Bounds the closing handshake and the shutdown of the transport by one deadline. */
  #startCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#finished) return;
    this.#closeTimer = setTimeout(() => {
      this.#endCause ??= new TimeoutError(
        `Cannot close connection: not closed within ${this.#closeTimeout} ms`,
        { option: "closeTimeout", timeout: this.#closeTimeout },
      );
      this.#abortTransport();
    }, this.#closeTimeout);
  }

  /** The connection is over at the protocol level: settle everything, then close the transport. */
  #end(info: CloseInfo): void {
    const closed = (what: string) =>
      new ConnectionClosedError(`Cannot ${what}: connection closed with ${info.code}`, {
        closeCode: info.code,
        reason: info.reason,
        wasClean: info.wasClean,
        ...(this.#endCause === undefined ? {} : { cause: this.#endCause }),
      });
    const pingError = closed("receive pong");
    for (const ping of this.#pings.splice(0)) ping.reject(pingError);
    if (this.#readableOpen) {
      this.#readableOpen = false;
      if (info.wasClean) {
        this.#readableController.close();
      } else {
        // The messages received before the failure are read first.
        this.#readableFailure.fail(closed("receive message"));
      }
    }
    this.#startCloseTimer();
    this.#shutDown();
  }

  async #shutDown(): Promise<void> {
    // Flush what was written, our close frame last, then half-close.
    await this.#flushed();
    await this.#writer.close().catch(() => {});
    if (this.#role === "server" || this.#transportEnded) {
      this.#abortTransport();
    } else {
      // RFC 6455 §7.1.1: the server closes the TCP connection first.
      this.#drain();
    }
  }

  /** Ends the transport now, in both directions; ends the connection with 1006 if it had not ended. */
  #abortTransport(): void {
    if (!this.#transportEnded) {
      this.#transportEnded = true;
      this.#reader.cancel().catch(() => {});
    }
    this.#writer.abort().catch(() => {});
    this.#batchWritten?.reject(
      new ConnectionClosedError("Cannot send message: transport closed", {
        closeCode: CLOSE_CODE.AbnormalClosure,
        reason: "",
        wasClean: false,
        ...(this.#endCause === undefined ? {} : { cause: this.#endCause }),
      }),
    );
    this.#batchWritten = undefined;
    this.#connection.receiveEnd();
    this.#finish();
  }

  /** Resolves `closed` once both the connection and the transport have ended. */
  #finish(): void {
    const info = this.#connection.closeInfo;
    if (this.#finished || info === undefined || !this.#transportEnded) return;
    this.#finished = true;
    clearTimeout(this.#closeTimer);
    clearTimeout(this.#idleTimer);
    this.#resolveClosed(info);
  }

  #settlePings(payload: Uint8Array): void {
    const index = this.#pings.findIndex((ping) => equalBytes(ping.payload, payload));
    if (index < 0) return;
    // A pong acknowledges its ping and every ping sent before it.
    const now = performance.now();
    this.#latency = now - this.#pings[index]!.sent;
    for (const ping of this.#pings.splice(0, index + 1)) ping.resolve(now - ping.sent);
  }

  /**
   * Counts a message entering `writable`'s queue (the stream asks its size
   * as it enqueues) and cuts the connection off once more than
   * `maxQueuedBytes` wait to be sent.
   */
  #queue(message: MessageInput): number {
    this.#unsentBytes += messageSize(message);
    const queued = this.#unsentBytes + this.#batchBytes;
    if (queued > this.#maxQueuedBytes && this.#endCause === undefined && !this.#finished) {
      this.#endCause = new LimitError(
        `Cannot send message: ${queued} bytes wait to be sent, limit is ${this.#maxQueuedBytes}`,
        {
          closeCode: CLOSE_CODE.PolicyViolation,
          option: "maxQueuedBytes",
          limit: this.#maxQueuedBytes,
        },
      );
      queueMicrotask(() => this.#closeForFullQueue());
    }
    return 1;
  }

  /**
   * The peer is not reading: a close frame with 1008 goes out behind the
   * frames already handed over (at most a batch and the write in flight),
   * the writes still waiting are rejected, and the close timeout cuts the
   * connection off if the peer never reads it.
   */
  #closeForFullQueue(): void {
    if (this.#finished || this.#connection.state !== "open") return;
    this.close(CLOSE_CODE.PolicyViolation, "Too much waiting to be sent");
  }
}

/** The size `writable` and `readable` count a message by: UTF-16 units of text, bytes of binary. */
function messageSize(message: MessageInput): number {
  return typeof message === "string" ? message.length : message.byteLength;
}

function uniquePingPayload(count: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, count);
  return payload;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
