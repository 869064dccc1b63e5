/**
 * {@linkcode Connection}: the sans-I/O WebSocket message layer. It takes the
 * bytes a transport received, hands back the bytes to send and reports
 * messages, pings, pongs and the end of the connection. It reassembles
 * fragmented messages, validates text as UTF-8 as it arrives, answers pings
 * and runs the closing handshake (RFC 6455 §5.4, §5.5, §7).
 *
 * @module
 */

import {
  CLOSE_CODE,
  type ClosePayload,
  encodeClosePayload,
  isValidCloseCode,
  MAX_CLOSE_REASON_BYTES,
  parseClosePayload,
} from "../codec/close_code.ts";
import {
  checkFragmentSize,
  DEFAULT_MAX_MESSAGE_SIZE,
  encodeFrameChunks,
  encodeTextFrame,
  type Frame,
  FrameParser,
  type FrameParserOptions,
  MAX_CONTROL_PAYLOAD,
} from "../codec/frame.ts";
import { OPCODE } from "../codec/opcode.ts";
import { decodeUtf8, Utf8StreamDecoder } from "../codec/utf8.ts";
import { ConnectionClosedError, type LimitError, ProtocolError } from "../errors.ts";
import type { MessageCompressor } from "./compressor.ts";
import { type Deferred, deferred } from "./_deferred.ts";

/** A WebSocket message: a string for text, bytes for binary. */
export type Message = string | Uint8Array;

/** How a connection ended. */
export interface CloseInfo {
  /**
   * The close code: the peer's (1005 when its close frame had none), the one
   * we sent when we failed the connection, or 1006 when the transport ended
   * without a closing handshake.
   */
  code: number;
  /** The close reason that went with the code. */
  reason: string;
  /** Whether both close frames were exchanged. */
  wasClean: boolean;
}

/** Where a {@linkcode Connection} sends its output. Every callback is called synchronously. */
export interface ConnectionHandler {
  /**
   * Bytes to write to the transport, in order. Must not throw. In the server
   * role a binary message of 16 KiB or more is passed on uncopied: the bytes
   * given to {@linkcode Connection.send} must not change until written.
   */
  write(bytes: Uint8Array): void;
  /** A complete message arrived. A binary message may be a view into received bytes. */
  message(data: Message): void;
  /** A ping arrived; its pong has been written, unless we had already sent a close frame. */
  ping?(payload: Uint8Array): void;
  /** A pong arrived. */
  pong?(payload: Uint8Array): void;
  /**
   * The connection is over at the protocol level: the closing handshake is
   * complete, the connection failed, or the transport ended. Nothing more is
   * written or reported; the transport should be closed (RFC 6455 §7.1.1: the
   * server closes it at once, a client waits briefly for the server to).
   */
  end(info: CloseInfo, error?: unknown): void;
}

/** Options of {@linkcode Connection}: the role and the parser's limits. */
export interface ConnectionOptions extends FrameParserOptions {
  /**
   * The largest payload of one outgoing data frame, in bytes; a longer message
   * is sent as several fragments.
   *
   * @default {Infinity}
   */
  fragmentSize?: number;
  /**
   * The per-message compression the handshake agreed on, such as
   * permessage-deflate: messages with RSV1 set are decompressed, and
   * messages from its threshold on are sent compressed.
   *
   * @default {undefined}
   */
  compressor?: MessageCompressor;
}

/** The state of a {@linkcode Connection}. */
export type ConnectionState = "open" | "closing" | "closed";

const EMPTY = new Uint8Array(0);
// The first buffer of a fragmented binary message, so small fragments do not regrow it each time.
const MIN_BUFFER = 4096;
const textEncoder = new TextEncoder();
/** Texts up to this many UTF-16 units are encoded straight into their frame. */
const SHORT_TEXT_LENGTH = 8192;

/**
 * The WebSocket protocol for one open connection, free of I/O. Feed it the
 * transport's bytes with {@linkcode Connection.receive}; it writes frames and
 * reports events through its {@linkcode ConnectionHandler}. Whatever a peer
 * sends, `receive` does not throw: a violation fails the connection with the
 * right close code (1002, 1007, 1008, 1009) and ends it.
 *
 * @example A server echoes a client's text message
 * ```ts
 * import { Connection } from "@seed/websocket";
 * import { encodeFrame, FrameParser, OPCODE } from "@seed/websocket/codec";
 * import assert from "node:assert/strict";
 *
 * const written: Uint8Array[] = [];
 * const server = new Connection({ role: "server" }, {
 *   write: (bytes) => written.push(bytes),
 *   message: (data) => server.send(data),
 *   end: () => {},
 * });
 * const payload = new TextEncoder().encode("hi");
 * const mask = new Uint8Array([1, 2, 3, 4]);
 * server.receive(encodeFrame({ fin: true, opcode: OPCODE.Text, payload }, { mask }));
 *
 * new FrameParser({ role: "client" }).push(written[0]!, (echo) => {
 *   assert.equal(new TextDecoder().decode(echo.payload), "hi");
 * });
 * ```
 *
 * @example A protocol violation closes with 1002
 * ```ts
 * import { Connection } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * let closeCode = 0;
 * const client = new Connection({ role: "client" }, {
 *   write: () => {},
 *   message: () => {},
 *   end: (info) => closeCode = info.code,
 * });
 * client.receive(new Uint8Array([0x83, 0x00])); // reserved opcode 0x3
 * assert.equal(closeCode, 1002);
 * assert.equal(client.state, "closed");
 * ```
 */
export class Connection {
  readonly #handler: ConnectionHandler;
  readonly #write: (bytes: Uint8Array) => void;
  readonly #parser: FrameParser;
  readonly #masked: boolean;
  readonly #fragmentSize: number;
  readonly #maxMessageSize: number;
  #state: ConnectionState = "open";
  // The close frame we sent, once we have.
  #closeSent: ClosePayload | undefined;
  #closeInfo: CloseInfo | undefined;
  // The fragmented message being reassembled: text is decoded as it arrives,
  // binary gathered into a buffer that grows by doubling.
  #messageOpcode = 0;
  #text = "";
  readonly #utf8 = new Utf8StreamDecoder();
  #binary = EMPTY;
  #binaryLength = 0;
  // Compression, when negotiated: the compressed message being received,
  // and while one is decompressed, the frames that arrived after it.
  readonly #compressor: MessageCompressor | undefined;
  #compressedOpcode = 0;
  #compressedPieces: Uint8Array[] = [];
  #decompressing = false;
  #framesWaiting: Frame[] = [];
  #receiveDone: Deferred | undefined;
  // Messages waiting for their turn to be compressed and sent, then our close frame.
  #sendQueue: OutgoingMessage[] = [];
  #closeWaiting: Uint8Array | undefined;
  #sendDone: Deferred | undefined;

  /**
   * Constructs a new instance, for a connection whose opening handshake is done.
   *
   * @param options The role, the limits and the outgoing fragment size.
   * @param handler Where bytes to send and events go.
   * @throws {RangeError} When a limit or the fragment size is out of range.
   */
  constructor(options: ConnectionOptions, handler: ConnectionHandler) {
    this.#compressor = options.compressor;
    const onOversized = options.onOversizedMessage;
    // RSV1 is allowed exactly when there is a compressor to read it.
    this.#parser = new FrameParser({
      ...options,
      allowRsv1: this.#compressor !== undefined,
      ...(onOversized !== undefined && {
        onOversizedMessage: (error: LimitError) => {
          this.#dropPartialMessage();
          onOversized(error);
        },
      }),
    });
    this.#handler = handler;
    this.#write = (bytes) => handler.write(bytes);
    this.#masked = options.role === "client";
    this.#fragmentSize = checkFragmentSize(options.fragmentSize, "connection");
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** `"open"`, `"closing"` once we sent a close frame, `"closed"` once the connection ended. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** How the connection ended, once it has. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /**
   * While a compressed message is being decompressed, settles once it and
   * the frames received after it were handled; `undefined` when nothing
   * waits. A transport should not be read further meanwhile, so that
   * backpressure holds.
   */
  get receiving(): Promise<void> | undefined {
    if (!this.#decompressing) return undefined;
    return (this.#receiveDone ??= deferred()).promise;
  }

  /**
   * While messages wait to be compressed, settles once they were written;
   * `undefined` when nothing waits. It rejects with
   * {@linkcode ConnectionClosedError} when the connection ends first.
   */
  get sending(): Promise<void> | undefined {
    if (this.#sendQueue.length === 0) return undefined;
    return (this.#sendDone ??= deferred()).promise;
  }

  /**
   * Feeds bytes received from the transport. Bytes after the connection
   * ended are ignored.
   *
   * @param bytes The received bytes; the connection takes ownership of them.
   */
  receive(bytes: Uint8Array): void {
    if (this.#state === "closed") return;
    try {
      this.#parser.push(bytes, this.#onFrame);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Tells the connection that the transport will deliver no more bytes. */
  receiveEnd(): void {
    if (this.#state === "closed") return;
    this.#end({ code: CLOSE_CODE.AbnormalClosure, reason: "", wasClean: false });
  }

  /**
   * Sends a message: a string as text, bytes as binary. With compression
   * negotiated, a message from the compressor's threshold on (counted in
   * UTF-16 units for text) is compressed first, asynchronously, and the
   * messages sent after it wait for it, so that order holds.
   *
   * @param data The message.
   * @param compress `false` sends this message uncompressed even when
   * compression was negotiated.
   * @throws {ConnectionClosedError} When a close frame was already sent or the connection ended.
   */
  send(data: Message, compress = true): void {
    this.#checkOpen("send message");
    if (this.#compressor !== undefined) {
      const compressor = this.#compressor;
      const worth = compress &&
        (typeof data === "string" ? data.length : data.byteLength) >= compressor.threshold &&
        (compressor.shouldCompress?.(data) ?? true);
      if (worth || this.#sendQueue.length > 0) return this.#queueSend(data, worth);
    }
    if (typeof data === "string") {
      if (data.length <= SHORT_TEXT_LENGTH && data.length * 3 <= this.#fragmentSize) {
        this.#write(encodeTextFrame(data, this.#masked));
      } else {
        this.#writeData(OPCODE.Text, textEncoder.encode(data));
      }
    } else {
      this.#writeData(OPCODE.Binary, data);
    }
  }

  /**
   * Sends a ping.
   *
   * @param payload At most 125 bytes, echoed back in the pong.
   * @throws {RangeError} When the payload is over 125 bytes.
   * @throws {ConnectionClosedError} When a close frame was already sent or the connection ended.
   */
  ping(payload: Uint8Array = EMPTY): void {
    this.#writeControl(OPCODE.Ping, payload, "send ping");
  }

  /**
   * Sends an unsolicited pong, as a one-way heartbeat (RFC 6455 §5.5.3).
   *
   * @param payload At most 125 bytes.
   * @throws {RangeError} When the payload is over 125 bytes.
   * @throws {ConnectionClosedError} When a close frame was already sent or the connection ended.
   */
  pong(payload: Uint8Array = EMPTY): void {
    this.#writeControl(OPCODE.Pong, payload, "send pong");
  }

  /**
   * Starts the closing handshake: sends a close frame and waits for the
   * peer's. Does nothing when a close frame was already sent.
   *
   * @param code The close code; omit it to send a close frame without payload.
   * @param reason The close reason, at most 123 bytes of UTF-8.
   * @throws {RangeError} When the code may not be sent or the reason is too long.
   * @throws {TypeError} When a reason is given without a code.
   */
  close(code?: number, reason = ""): void {
    const payload = encodeClosePayload(code, reason);
    if (this.#closeSent !== undefined || this.#state === "closed") return;
    // Closing before the write: a peer wired in memory may answer inside it.
    this.#state = "closing";
    if (this.#sendQueue.length > 0) {
      // After the messages still being compressed.
      this.#closeSent = { code: code ?? CLOSE_CODE.NoStatusReceived, reason };
      this.#closeWaiting = payload;
      return;
    }
    this.#writeClose(payload, { code: code ?? CLOSE_CODE.NoStatusReceived, reason });
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a close frame with the code
   * the error calls for, unless one was sent already, and ends the
   * connection. This is the one place where an error becomes a close code: a
   * {@linkcode ProtocolError} closes with its `closeCode` and its message as
   * the reason; anything else closes with 1011 and no reason, so internal
   * details never reach the peer.
   *
   * @param error Why the connection fails.
   */
  fail(error: unknown): void {
    if (this.#state === "closed") return;
    const code = error instanceof ProtocolError ? error.closeCode : CLOSE_CODE.InternalError;
    const reason = error instanceof ProtocolError ? fitCloseReason(error.message) : "";
    if ((this.#closeSent === undefined || this.#closeWaiting) && isValidCloseCode(code)) {
      this.#writeClose(encodeClosePayload(code, reason), { code, reason });
    }
    this.#end({ code, reason, wasClean: false }, error);
  }

  readonly #onFrame = (frame: Frame): void => {
    // A close frame or a failure ended the connection: ignore what follows it.
    if (this.#closeInfo !== undefined) return;
    if (this.#decompressing) this.#framesWaiting.push(frame);
    else this.#receiveFrame(frame);
  };

  #receiveFrame(frame: Frame): void {
    switch (frame.opcode) {
      case OPCODE.Text:
      case OPCODE.Binary:
        if (frame.rsv1) {
          this.#compressedOpcode = frame.opcode;
          this.#compressedPieces.push(frame.payload);
          if (frame.fin) this.#decompress();
        } else if (frame.fin) {
          this.#handler.message(
            frame.opcode === OPCODE.Text
              ? decodeUtf8(frame.payload, "text message")
              : frame.payload,
          );
        } else {
          this.#messageOpcode = frame.opcode;
          this.#appendFragment(frame.payload);
        }
        return;
      case OPCODE.Continuation:
        if (this.#compressedOpcode !== 0) {
          this.#compressedPieces.push(frame.payload);
          if (frame.fin) this.#decompress();
          return;
        }
        this.#appendFragment(frame.payload);
        if (frame.fin) this.#completeFragmentedMessage();
        return;
      case OPCODE.Ping:
        // After our close frame nothing more may be sent but its answer.
        if (this.#closeSent === undefined) this.#writeFrame(OPCODE.Pong, frame.payload, true);
        this.#handler.ping?.(frame.payload);
        return;
      case OPCODE.Pong:
        this.#handler.pong?.(frame.payload);
        return;
      case OPCODE.Close:
        this.#receiveClose(frame.payload);
        return;
    }
  }

  /** Decompresses the message received; frames arriving meanwhile wait their turn. */
  #decompress(): void {
    const opcode = this.#compressedOpcode;
    const pieces = this.#compressedPieces;
    this.#compressedOpcode = 0;
    this.#compressedPieces = [];
    this.#decompressing = true;
    this.#compressor!.decompress(pieces, this.#maxMessageSize, (error, data) => {
      if (this.#state === "closed") return;
      try {
        if (error !== undefined) throw error;
        this.#decompressing = false;
        this.#handler.message(opcode === OPCODE.Text ? decodeUtf8(data!, "text message") : data!);
        // The frames that waited, until one starts another decompression.
        while (!this.#decompressing && this.#closeInfo === undefined) {
          const frame = this.#framesWaiting.shift();
          if (frame === undefined) break;
          this.#receiveFrame(frame);
        }
      } catch (failure) {
        this.fail(failure);
      }
      if (!this.#decompressing) this.#settleReceiving();
    });
  }

  #settleReceiving(): void {
    this.#framesWaiting = [];
    this.#receiveDone?.resolve();
    this.#receiveDone = undefined;
  }

  #queueSend(data: Message, compress: boolean): void {
    const opcode = typeof data === "string" ? OPCODE.Text : OPCODE.Binary;
    const bytes = typeof data === "string" ? textEncoder.encode(data) : data;
    this.#sendQueue.push({ opcode, bytes, compress });
    if (this.#sendQueue.length === 1) this.#sendNext();
  }

  /** Writes the queued messages in order, compressing those that asked for it. */
  #sendNext(): void {
    for (;;) {
      const message = this.#sendQueue[0];
      if (message === undefined) break;
      if (message.compress) {
        this.#compressor!.compress(message.bytes, (error, payload) => {
          if (this.#state === "closed") return;
          if (error !== undefined) return this.fail(error);
          this.#sendQueue.shift();
          this.#writeData(message.opcode, payload!, true);
          this.#sendNext();
        });
        return;
      }
      this.#sendQueue.shift();
      this.#writeData(message.opcode, message.bytes);
    }
    if (this.#closeWaiting !== undefined) {
      const payload = this.#closeWaiting;
      this.#closeWaiting = undefined;
      this.#writeClose(payload, this.#closeSent!);
    }
    this.#sendDone?.resolve();
    this.#sendDone = undefined;
  }

  #appendFragment(payload: Uint8Array): void {
    if (this.#messageOpcode === OPCODE.Text) {
      this.#text += this.#utf8.decode(payload);
      return;
    }
    const needed = this.#binaryLength + payload.length;
    if (needed > this.#binary.length) {
      // Doubling keeps appends linear; the parser has already checked that
      // `needed` is within the limit, and growth never goes past it.
      const capacity = Math.max(needed, Math.min(this.#binary.length * 2, this.#maxMessageSize));
      const grown = new Uint8Array(Math.max(capacity, Math.min(MIN_BUFFER, this.#maxMessageSize)));
      grown.set(this.#binary.subarray(0, this.#binaryLength));
      this.#binary = grown;
    }
    this.#binary.set(payload, this.#binaryLength);
    this.#binaryLength = needed;
  }

  /** Forgets the fragments of a message being skipped as oversized. */
  #dropPartialMessage(): void {
    try {
      this.#utf8.end();
    } catch {
      // An incomplete sequence at the cut: the message is dropped anyway.
    }
    this.#text = "";
    this.#binary = EMPTY;
    this.#binaryLength = 0;
  }

  #completeFragmentedMessage(): void {
    let message: Message;
    if (this.#messageOpcode === OPCODE.Text) {
      message = this.#text + this.#utf8.end();
      this.#text = "";
    } else {
      message = this.#binary.subarray(0, this.#binaryLength);
      this.#binary = EMPTY;
      this.#binaryLength = 0;
    }
    this.#handler.message(message);
  }

  #receiveClose(payload: Uint8Array): void {
    const { code, reason } = parseClosePayload(payload);
    if (this.#closeSent === undefined || this.#closeWaiting !== undefined) {
      // RFC 6455 §5.5.1: answer with a close frame, echoing the code and, as
      // browsers, ws, Deno and Bun do, the reason.
      const echo = code === CLOSE_CODE.NoStatusReceived ? EMPTY : encodeClosePayload(code, reason);
      this.#writeClose(echo, { code, reason });
    }
    this.#end({ code, reason, wasClean: true });
  }

  #checkOpen(what: string): void {
    if (this.#closeSent !== undefined || this.#closeInfo !== undefined) {
      // Ended: how it ended. Closing: the close frame we sent.
      const { code, reason } = this.#closeInfo ?? this.#closeSent!;
      throw new ConnectionClosedError(`Cannot ${what}: connection is ${this.#state}`, {
        closeCode: code,
        reason,
        wasClean: this.#closeInfo?.wasClean ?? false,
      });
    }
  }

  #writeControl(opcode: number, payload: Uint8Array, what: string): void {
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(
        `Cannot ${what}: payload is ${payload.length} bytes, limit is ${MAX_CONTROL_PAYLOAD}`,
      );
    }
    this.#checkOpen(what);
    this.#writeFrame(opcode, payload, true);
  }

  /** Writes a message, in fragments past the fragment size; RSV1 marks a compressed one's first frame. */
  #writeData(opcode: number, payload: Uint8Array, compressed = false): void {
    const length = payload.length;
    if (length <= this.#fragmentSize) {
      this.#writeFrame(opcode, payload, true, compressed);
      return;
    }
    for (let start = 0; start < length; start += this.#fragmentSize) {
      const end = Math.min(start + this.#fragmentSize, length);
      this.#writeFrame(
        start === 0 ? opcode : OPCODE.Continuation,
        payload.subarray(start, end),
        end === length,
        compressed && start === 0,
      );
    }
  }

  #writeClose(payload: Uint8Array, sent: ClosePayload): void {
    this.#closeSent = sent;
    this.#writeFrame(OPCODE.Close, payload, true);
  }

  #writeFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv1 = false): void {
    encodeFrameChunks(
      rsv1 ? { fin, opcode, payload, rsv1 } : { fin, opcode, payload },
      this.#masked,
      this.#write,
    );
  }

  #end(info: CloseInfo, error?: unknown): void {
    this.#state = "closed";
    this.#closeInfo = info;
    this.#text = "";
    this.#binary = EMPTY;
    if (this.#compressor !== undefined) this.#endCompression(info);
    this.#handler.end(info, error);
  }

  #endCompression(info: CloseInfo): void {
    this.#compressor!.close();
    this.#compressedPieces = [];
    this.#decompressing = false;
    this.#settleReceiving();
    this.#sendQueue = [];
    this.#closeWaiting = undefined;
    this.#sendDone?.reject(
      new ConnectionClosedError(`Cannot send message: connection closed with ${info.code}`, {
        closeCode: info.code,
        reason: info.reason,
        wasClean: info.wasClean,
      }),
    );
    this.#sendDone = undefined;
  }
}

/** A message waiting to be sent behind one being compressed. */
interface OutgoingMessage {
  opcode: number;
  bytes: Uint8Array;
  compress: boolean;
}

// A reason that does not fit a control frame is dropped rather than cut,
// since cutting could split a character.
function fitCloseReason(reason: string): string {
  return textEncoder.encode(reason).length <= MAX_CLOSE_REASON_BYTES ? reason : "";
}
