/**
 * The Accessors `Socket`: the server's end of one connection, handed to
 * the `connection` listeners of a `Server`.
 *
 * @module
 */

import type { ServerChannel } from "../../_accept.ts";
import { Emitter } from "../_events.ts";
import { type Conversion, conversionOf, encode } from "./_convert.ts";
import { Outbox, relay, report } from "./_relay.ts";

/** The MIME types a {@linkcode Socket} converts with, its server's. */
export interface SocketTypes {
  /**
   * The MIME type of incoming messages.
   *
   * @default {"application/json"}
   */
  receiveType?: string;
  /**
   * The MIME type of outgoing messages.
   *
   * @default {"application/json"}
   */
  sendType?: string;
}

/** Closes a socket with a code of the server's choosing; set in the class's static block. */
let closeWith: (socket: Socket, code: number, reason: string) => void;

/**
 * One open connection on the server side, as the Accessors `webSocket`
 * module documents it: an event emitter of `open`, `message`, `close` and
 * `error`, with `send(message)`, `isOpen()` and `close()`. A
 * `Server` creates it and emits it with `connection`; the
 * constructor is not meant to be called otherwise.
 *
 * Events:
 * - `open`: emitted right after the `connection` listeners have run, so
 *   that a listener they add hears it.
 * - `message`: a message arrived, converted by the server's `receiveType`,
 *   as for `Client`.
 * - `close`: the socket has closed, whoever closed it.
 * - `error`: something failed, with a message as the first argument and the
 *   `Error` as the second: the connection ended abnormally (before
 *   `close`), or a message could not be sent.
 *
 * @example Replying to each message, as the documentation's example does
 * ```ts ignore
 * import { Server, type Socket } from "@seed/websocket/accessors";
 *
 * const server = new Server({ port: 8082 });
 * server.on("connection", (socket: Socket) => {
 *   socket.on("message", (message: unknown) => {
 *     console.log(message);
 *     socket.send("Reply message");
 *   });
 * });
 * server.start();
 * ```
 */
export class Socket extends Emitter {
  readonly #receive: Conversion;
  readonly #send: Conversion;
  readonly #sendType: string;
  readonly #outbox: Outbox;
  #open = true;

  static {
    closeWith = (socket, code, reason) => socket.#close(code, reason);
  }

  /**
   * Wraps a server connection; `open` is emitted in a microtask.
   *
   * @param channel The open connection.
   * @param types The server's MIME types.
   * @throws {TypeError} When a type is not a string.
   * @throws {RangeError} When a type is not supported.
   */
  constructor(channel: ServerChannel, types: SocketTypes = {}) {
    super();
    this.#sendType = types.sendType ?? "application/json";
    this.#receive = conversionOf(types.receiveType ?? "application/json", "receiveType", "Socket");
    this.#send = conversionOf(this.#sendType, "sendType", "Socket");
    this.#outbox = new Outbox(channel, (message, error) => report(this, message, error));
    queueMicrotask(() => {
      this.emit("open");
      relay(channel, this, this.#receive, () => this.#open = false);
    });
  }

  /**
   * Sends a message to the client, converted by the server's `sendType` as
   * `Client.send()` converts it. Once the socket is closed or
   * closing, it is not sent and an `error` is emitted.
   *
   * @param message What to send.
   * @throws {TypeError} When the message cannot be converted to `sendType`.
   *
   * @example Replying with JSON
   * ```ts ignore
   * import type { Socket } from "@seed/websocket/accessors";
   *
   * function onConnection(socket: Socket): void {
   *   socket.on("message", (message: { n: number }) => socket.send({ n: message.n + 1 }));
   * }
   * ```
   */
  send(message: unknown): void {
    const data = encode(this.#send, this.#sendType, message);
    if (this.#open) return this.#outbox.write(data);
    report(
      this,
      "Cannot send message: the socket is closed",
      new Error("Cannot send message: the socket is closed"),
    );
  }

  /**
   * Tells whether the socket is open: true from its creation until
   * `close()` is called or the connection ends.
   *
   * @returns Whether messages can be sent.
   *
   * @example Sending only while open
   * ```ts ignore
   * import type { Socket } from "@seed/websocket/accessors";
   *
   * function notify(sockets: Socket[], news: string): void {
   *   for (const socket of sockets) if (socket.isOpen()) socket.send(news);
   * }
   * ```
   */
  isOpen(): boolean {
    return this.#open;
  }

  /**
   * Closes the socket with 1000 once the messages already sent have gone
   * out; `close` is emitted when the connection has closed. Does nothing
   * once closed.
   *
   * @example Closing after a reply
   * ```ts ignore
   * import type { Socket } from "@seed/websocket/accessors";
   *
   * function onConnection(socket: Socket): void {
   *   socket.on("message", () => {
   *     socket.send("bye");
   *     socket.close();
   *   });
   * }
   * ```
   */
  close(): void {
    this.#close(1000, "");
  }

  #close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#open = false;
    this.#outbox.close(code, reason);
  }
}

/**
 * Closes a socket with the given code, as `Server.stop()` does with 1001;
 * not part of the public module.
 *
 * @param socket The socket.
 * @param code The close code.
 * @param reason The close reason.
 */
export function closeSocket(socket: Socket, code: number, reason: string): void {
  closeWith(socket, code, reason);
}
