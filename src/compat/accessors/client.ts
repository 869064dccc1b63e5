/**
 * The Accessors `Client`: one WebSocket connection to a server, opened with
 * retries, with messages converted by MIME type.
 *
 * @module
 */

import type { ClientChannel } from "../../connect.ts";
import type { MessageInput } from "../../protocol/channel.ts";
import { reconnecting } from "../../reconnecting.ts";
import { Emitter } from "../_events.ts";
import { type Conversion, conversionOf, encode } from "./_convert.ts";
import { messageOf, Outbox, relay, report } from "./_relay.ts";

/** Options of {@linkcode Client}, as the Accessors documentation names them. */
export interface ClientOptions {
  /**
   * The IP address or host name of the server.
   *
   * @default {"localhost"}
   */
  host?: string;
  /**
   * The port the server listens on.
   *
   * @default {80}
   */
  port?: number;
  /**
   * The MIME type of incoming messages; one of {@linkcode supportedReceiveTypes}.
   *
   * @default {"application/json"}
   */
  receiveType?: string;
  /**
   * The MIME type of outgoing messages; one of {@linkcode supportedSendTypes}.
   *
   * @default {"application/json"}
   */
  sendType?: string;
  /**
   * How long one attempt to connect may take before it is given up, in
   * milliseconds: TCP and the opening handshake.
   *
   * @default {1000}
   */
  connectTimeout?: number;
  /**
   * How many times to retry connecting after the first attempt fails;
   * `Infinity` retries for ever.
   *
   * @default {10}
   */
  numberOfRetries?: number;
  /**
   * The time between a failed attempt and the next, in milliseconds.
   *
   * @default {500}
   */
  timeBetweenRetries?: number;
  /**
   * Whether `send()` drops messages while the socket is not open, instead
   * of queueing them until it opens.
   *
   * @default {false}
   */
  discardMessagesBeforeOpen?: boolean;
  /**
   * How many milliseconds `send()` stalls its caller for each message
   * waiting to be sent ahead of the new one: the promise it returns
   * resolves that much later.
   *
   * @default {0}
   */
  throttleFactor?: number;
}

type State = "idle" | "connecting" | "open" | "closed";

/** setTimeout and AbortSignal.timeout fire at once for a longer delay. */
const LONGEST_TIMER = 2 ** 31 - 1;

/**
 * A WebSocket connection to a server, as the Accessors `webSocket` module
 * documents it: an event emitter of `open`, `message`, `close` and `error`,
 * with `open()`, `send(data)` and `close()`. Construct it with `new`.
 *
 * Events:
 * - `open`: the socket has opened; messages queued before are sent by then.
 * - `message`: a message arrived, converted by `receiveType`: for
 *   `application/json` the parsed value, or the text when it is not JSON;
 *   for `text/*` a string; for binary types a `Uint8Array`.
 * - `close`: the socket has closed, whoever closed it; also after `close()`
 *   stopped the attempts to connect.
 * - `error`: something failed, with a message as the first argument, as
 *   documented, and the `Error` as the second: all attempts to connect
 *   failed (once, naming the number of attempts), the connection ended
 *   abnormally (before `close`), a message could not be sent, or messages
 *   queued before the socket opened were lost at `close()`.
 *
 * The options are readable as properties of the same name, defaults
 * filled in.
 *
 * @example Sending before the socket opens, as the documentation's example does
 * ```ts ignore
 * import { Client } from "@seed/websocket/accessors";
 *
 * const client = new Client({ host: "localhost", port: 8080 });
 * client.send({ foo: "bar" });
 * client.on("message", (message: unknown) => {
 *   console.log("Received from web socket: " + message);
 * });
 * client.open();
 * ```
 *
 * @example The documented defaults
 * ```ts
 * import { Client } from "@seed/websocket/accessors";
 * import assert from "node:assert/strict";
 *
 * const client = new Client();
 * assert.equal(client.host, "localhost");
 * assert.equal(client.port, 80);
 * assert.equal(client.receiveType, "application/json");
 * assert.equal(client.numberOfRetries, 10);
 * assert.equal(client.timeBetweenRetries, 500);
 * ```
 */
export class Client extends Emitter {
  /** The server's host name or IP address. */
  readonly host: string;
  /** The server's port. */
  readonly port: number;
  /** The MIME type of incoming messages. */
  readonly receiveType: string;
  /** The MIME type of outgoing messages. */
  readonly sendType: string;
  /** How long one attempt to connect may take, in milliseconds. */
  readonly connectTimeout: number;
  /** How many times a failed attempt to connect is retried. */
  readonly numberOfRetries: number;
  /** The time between attempts to connect, in milliseconds. */
  readonly timeBetweenRetries: number;
  /** Whether messages sent while the socket is not open are dropped. */
  readonly discardMessagesBeforeOpen: boolean;
  /** Milliseconds `send()` stalls for each message waiting ahead. */
  readonly throttleFactor: number;

  readonly #url: string;
  readonly #receive: Conversion;
  readonly #send: Conversion;
  #state: State = "idle";
  #queue: MessageInput[] = [];
  #outbox: Outbox | undefined;
  #stop: AbortController | undefined;

  /**
   * Creates a client; nothing happens on the network until `open()`.
   *
   * @param options The server's address, the message types, and the retries.
   * @throws {TypeError} When an option has the wrong type, or `host` is not a host name.
   * @throws {RangeError} When a number is out of range or a MIME type is not supported.
   */
  constructor(options: ClientOptions = {}) {
    super();
    this.host = options.host ?? "localhost";
    this.port = options.port ?? 80;
    this.receiveType = options.receiveType ?? "application/json";
    this.sendType = options.sendType ?? "application/json";
    this.connectTimeout = options.connectTimeout ?? 1000;
    this.numberOfRetries = options.numberOfRetries ?? 10;
    this.timeBetweenRetries = options.timeBetweenRetries ?? 500;
    this.discardMessagesBeforeOpen = options.discardMessagesBeforeOpen ?? false;
    this.throttleFactor = options.throttleFactor ?? 0;
    this.#receive = conversionOf(this.receiveType, "receiveType", "Client");
    this.#send = conversionOf(this.sendType, "sendType", "Client");
    this.#url = urlOf(this.host, this.port);
    checkNumber("connectTimeout", this.connectTimeout, 1, LONGEST_TIMER);
    checkNumber("timeBetweenRetries", this.timeBetweenRetries, 0, LONGEST_TIMER);
    checkNumber("throttleFactor", this.throttleFactor, 0, Number.MAX_SAFE_INTEGER);
    if (
      !(this.numberOfRetries === Infinity ||
        (Number.isInteger(this.numberOfRetries) && this.numberOfRetries >= 0))
    ) {
      throw new RangeError(
        `Cannot create Client: numberOfRetries must be a whole number of at least 0 or Infinity, got ${this.numberOfRetries}`,
      );
    }
    if (typeof this.discardMessagesBeforeOpen !== "boolean") {
      throw new TypeError(
        `Cannot create Client: discardMessagesBeforeOpen must be a boolean, got ${typeof this
          .discardMessagesBeforeOpen}`,
      );
    }
  }

  /**
   * Opens the socket: call it once the listeners are set. The first attempt
   * starts at once; a failed one is retried `numberOfRetries` times,
   * `timeBetweenRetries` apart, each given `connectTimeout`. When the socket
   * opens, the queued messages are sent in order, then `open` is emitted;
   * when every attempt has failed, one `error` is emitted and the queued
   * messages stay queued for another `open()`. Does nothing while the
   * socket is opening or open; after it has closed, opens a new one.
   *
   * @example Opening, and hearing that it failed
   * ```ts ignore
   * import { Client } from "@seed/websocket/accessors";
   *
   * const client = new Client({ port: 8080, numberOfRetries: 2 });
   * client.on("open", () => console.log("open"));
   * client.on("error", (message: string) => console.error(message));
   * client.open();
   * ```
   */
  open(): void {
    if (this.#state === "connecting" || this.#state === "open") return;
    this.#state = "connecting";
    const stop = new AbortController();
    this.#stop = stop;
    this.#connect(stop);
  }

  /**
   * Sends data, converted by `sendType`: `application/json` sends
   * `JSON.stringify(data)` as text; `text/*` sends a string (or a number or
   * boolean as one); binary types send the bytes of an `ArrayBuffer` or a
   * view. Before the socket has opened, the message is queued, or dropped
   * with `discardMessagesBeforeOpen`. After `close()` or once the socket has
   * closed, it is not sent and an `error` is emitted.
   *
   * @param data What to send.
   * @returns A promise that resolves after `throttleFactor` milliseconds for
   * each message waiting to be sent ahead of this one (at once by default);
   * it never rejects.
   * @throws {TypeError} When the data cannot be converted to `sendType`.
   *
   * @example Queueing before the socket opens
   * ```ts ignore
   * import { Client } from "@seed/websocket/accessors";
   *
   * const client = new Client({ port: 8080 });
   * client.send({ n: 1 });
   * client.send({ n: 2 }); // sent after { n: 1 } once open
   * client.open();
   * ```
   */
  send(data: unknown): Promise<void> {
    const message = encode(this.#send, this.sendType, data);
    let ahead = 0;
    if (this.#state === "open") {
      ahead = this.#outbox!.pending;
      this.#outbox!.write(message);
    } else if (this.#state === "closed") {
      report(
        this,
        "Cannot send message: the socket is closed",
        new Error("Cannot send message: the socket is closed"),
      );
    } else if (!this.discardMessagesBeforeOpen) {
      ahead = this.#queue.length;
      this.#queue.push(message);
    }
    const stall = this.throttleFactor * ahead;
    return stall === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, stall));
  }

  /**
   * Closes the connection with 1000 once the messages already sent have
   * gone out, or stops the attempts to connect and emits `close`. Messages
   * still queued because the socket never opened are lost, as documented:
   * their number is returned, and an `error` says so when it is not 0.
   * Does nothing once closed.
   *
   * @returns How many queued messages were lost.
   *
   * @example Closing before the socket opened
   * ```ts
   * import { Client } from "@seed/websocket/accessors";
   * import assert from "node:assert/strict";
   *
   * const client = new Client();
   * const errors: string[] = [];
   * client.on("error", (message: string) => errors.push(message));
   * client.send("a");
   * client.send("b");
   * assert.equal(client.close(), 2);
   * assert.deepEqual(errors, ["Cannot send 2 messages: the client closed before the socket opened"]);
   * ```
   */
  close(): number {
    const state = this.#state;
    if (state === "closed") return 0;
    this.#state = "closed";
    const lost = this.#queue.splice(0).length;
    if (state === "open") this.#outbox!.close(1000);
    if (state === "connecting") this.#stop!.abort();
    if (lost > 0) {
      const message = `Cannot send ${lost} message${
        lost === 1 ? "" : "s"
      }: the client closed before the socket opened`;
      report(this, message, new Error(message));
    }
    if (state === "connecting") this.emit("close");
    return lost;
  }

  async #connect(stop: AbortController): Promise<void> {
    let channel: ClientChannel | undefined;
    try {
      const connections = reconnecting(this.#url, {
        maxAttempts: this.numberOfRetries + 1,
        initialDelay: this.timeBetweenRetries,
        backoffFactor: 1,
        jitter: 0,
        handshakeTimeout: this.connectTimeout,
        signal: stop.signal,
      });
      // Only the first connection: an Accessors client does not reopen by itself.
      channel = (await connections.next()).value ?? undefined;
      await connections.return();
    } catch (error) {
      if (stop.signal.aborted) return;
      this.#state = "idle";
      report(this, messageOf(error), error);
      return;
    }
    if (channel === undefined) return; // close() stopped the attempts
    if (stop.signal.aborted) {
      // close() came between the connection opening and this continuation.
      channel.close(1000);
      return;
    }
    const outbox = new Outbox(channel, (message, error) => report(this, message, error));
    this.#outbox = outbox;
    this.#state = "open";
    for (const message of this.#queue.splice(0)) outbox.write(message);
    this.emit("open");
    await relay(channel, this, this.#receive, () => {
      // Unless open() has already started a new connection.
      if (this.#outbox === outbox && this.#state === "open") this.#state = "closed";
    });
  }
}

/** The URL of a host and port; an IPv6 address gets its brackets. */
function urlOf(host: string, port: number): string {
  if (typeof host !== "string") {
    throw new TypeError(`Cannot create Client: host must be a string, got ${typeof host}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Cannot create Client: port must be from 1 to 65535, got ${port}`);
  }
  const name = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  let url: URL | undefined;
  try {
    url = new URL(`ws://${name}:${port}/`);
  } catch {
    // Reported below with the host's own spelling.
  }
  if (url === undefined || url.pathname !== "/" || url.username !== "" || /[/?#@\s]/.test(host)) {
    throw new TypeError(`Cannot create Client: host ${JSON.stringify(host)} is not a host name`);
  }
  return url.href;
}

function checkNumber(name: string, value: number, min: number, max: number): void {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot create Client: ${name} must be a number, got ${typeof value}`);
  }
  if (!(value >= min && value <= max)) {
    throw new RangeError(
      `Cannot create Client: ${name} must be from ${min} to ${max}, got ${value}`,
    );
  }
}
