/**
 * One websocket connection as the handler sees it, client or server side:
 * it calls the handler's callbacks in order, queues what is sent before the
 * connection opens, and closes after what was sent before `close()`.
 *
 * @module
 */

import { CLOSE_CODE } from "../../codec/close_code.ts";
import { ConnectionClosedError } from "../../errors.ts";
import type { Channel, MessageInput } from "../../protocol/channel.ts";
import type { CloseInfo } from "../../protocol/connection.ts";
import type { WebsocketClient, WebsocketState } from "./client.ts";
import { dispatch, type WebsocketMethod } from "./context.ts";
import { describe, typeName, type WebsocketHandler } from "./_handler.ts";

/** How a session was made and where what it cannot hand to the handler goes. */
export interface SessionInit {
  uri: string;
  handler: string | URL | WebsocketHandler;
  engine: string;
  /** Receives what a callback threw when no `onError` can take it. */
  report: (error: unknown) => void;
  /** Called once the connection has closed, before `onClose`. */
  ended: (session: Session) => void;
}

/** A connection and the handler its events go to. */
export class Session implements WebsocketClient {
  readonly id: string = crypto.randomUUID();
  readonly uri: string;
  readonly handler: string | URL | WebsocketHandler;
  readonly engine: string;
  readonly #report: (error: unknown) => void;
  readonly #ended: (session: Session) => void;
  #state: WebsocketState = "connecting";
  #callbacks: WebsocketHandler = {};
  #channel: Channel | undefined;
  #writer: WritableStreamDefaultWriter<MessageInput> | undefined;
  #pending: string[] = [];
  #closeRequested = false;
  #closeCode: number = CLOSE_CODE.NormalClosure;
  #closeInfo: CloseInfo | undefined;
  // Settles once everything sent so far was taken by the socket or refused.
  #sent: Promise<void> = Promise.resolve();

  constructor(init: SessionInit) {
    this.uri = init.uri;
    this.handler = init.handler;
    this.engine = init.engine;
    this.#report = init.report;
    this.#ended = init.ended;
  }

  get state(): WebsocketState {
    return this.#state;
  }

  send(message: string): void {
    if (typeof message !== "string") {
      throw new TypeError(`Cannot send message: expected a string, got ${typeName(message)}`);
    }
    if (this.#closeRequested || this.#state === "closing" || this.#state === "closed") {
      const info = this.#closeInfo;
      throw new ConnectionClosedError(
        `Cannot send message: the websocket is ${info === undefined ? "closing" : "closed"}`,
        info === undefined
          ? { closeCode: this.#closeCode }
          : { closeCode: info.code, reason: info.reason, wasClean: info.wasClean },
      );
    }
    if (this.#writer === undefined) this.#pending.push(message);
    else this.#write(message);
  }

  close(): void {
    if (this.#closeRequested || this.#state === "closed") return;
    this.#closeRequested = true;
    // Before the connection opens, it closes once opened, after what was sent.
    if (this.#state === "open") this.#startClose(CLOSE_CODE.NormalClosure);
  }

  /** Closes with 1001 (going away), as a server shutting down does. */
  goAway(): void {
    if (this.#state !== "open") return;
    this.#closeRequested = true;
    this.#startClose(CLOSE_CODE.GoingAway, "Server shutting down");
  }

  /** Runs the session over an open connection until it has closed. */
  async run(channel: Channel, callbacks: WebsocketHandler): Promise<void> {
    this.#callbacks = callbacks;
    this.#channel = channel;
    this.#writer = channel.writable.getWriter();
    this.#state = "open";
    this.#call("onopen", null);
    this.#flushPending();
    if (this.#closeRequested && this.#state === "open") this.#startClose(CLOSE_CODE.NormalClosure);
    const reader = channel.readable.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        if (typeof value === "string") {
          this.#call("onmessage", value);
        } else if (this.#state === "open") {
          // The handler takes text only: RFC 6455 §7.4.1 has 1003 for data that cannot be accepted.
          this.#startClose(CLOSE_CODE.UnsupportedData, "Binary messages are not accepted");
        }
      }
    } catch {
      // The connection failed; `closed` says how.
    }
    const info = await channel.closed;
    this.#end(info, info.wasClean ? undefined : describeFailure(info));
  }

  /** Ends a session whose connection never opened: `onError`, then `onClose`. */
  fail(callbacks: WebsocketHandler, error: unknown): void {
    this.#callbacks = callbacks;
    this.#end({ code: CLOSE_CODE.AbnormalClosure, reason: "", wasClean: false }, describe(error));
  }

  /** Ends a session that has no handler to tell. */
  abandon(): void {
    this.#state = "closed";
    this.#closeInfo = { code: CLOSE_CODE.AbnormalClosure, reason: "", wasClean: false };
    this.#ended(this);
  }

  #end(info: CloseInfo, error: string | undefined): void {
    this.#state = "closed";
    this.#closeInfo = info;
    this.#ended(this);
    if (error !== undefined) this.#call("onerror", error);
    this.#call("onclose", null);
  }

  #call(method: WebsocketMethod, argument: string | null): void {
    dispatch(this.#callbacks, this, method, argument, (error) => {
      // As a Jakarta WebSocket endpoint's @OnError receives what its @OnMessage threw.
      const handled = method !== "onerror" &&
        dispatch(this.#callbacks, this, "onerror", describe(error), this.#report);
      if (!handled) this.#report(error);
    });
  }

  #write(message: string): void {
    // A write refused because the connection closed is reported by onClose, not here.
    this.#sent = this.#writer!.write(message).catch(() => {});
  }

  /** Sends what was sent before the connection opened. */
  #flushPending(): void {
    for (const message of this.#pending.splice(0)) this.#write(message);
  }

  /** Closes after the messages sent so far, as the WHATWG `close()` does. */
  #startClose(code: number, reason?: string): void {
    // close() in onOpen: what was sent before opening was sent before that call.
    this.#flushPending();
    this.#state = "closing";
    this.#closeCode = code;
    const channel = this.#channel!;
    this.#sent.then(() => channel.close(code, reason));
  }
}

/** The error `onError` receives when the connection failed after opening. */
function describeFailure(info: CloseInfo): string {
  const reason = info.reason === "" ? "" : `, ${info.reason}`;
  return `Connection failed: close code ${info.code}${reason}`;
}
