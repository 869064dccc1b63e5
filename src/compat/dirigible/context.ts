/**
 * The handler context: what a handler callback may ask about the event it
 * handles, kept in an `AsyncLocalStorage` so that the answers hold after an
 * `await` inside the callback.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { WebsocketClient } from "./client.ts";
import type { WebsocketHandler } from "./_handler.ts";

/** The event a handler callback was called for, as {@linkcode getMethod} names it. */
export type WebsocketMethod = "onopen" | "onmessage" | "onerror" | "onclose";

/** What one handler call knows. */
interface HandlerContext {
  method: WebsocketMethod;
  message: string | null;
  error: string | null;
  connection: WebsocketClient;
}

/** The callback each method calls. */
const CALLBACKS = {
  onopen: "onOpen",
  onmessage: "onMessage",
  onerror: "onError",
  onclose: "onClose",
} as const;

const storage = new AsyncLocalStorage<HandlerContext>();

/**
 * Returns the message in the context of the `onMessage` handler.
 *
 * @returns The text message being handled, or `null` outside `onMessage`.
 *
 * @example Outside a handler
 * ```ts
 * import { getMessage } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getMessage(), null);
 * ```
 *
 * @example In a handler, also after an await
 * ```ts ignore
 * import { getMessage } from "@seed/websocket/dirigible";
 *
 * export async function onMessage(message: string) {
 *   await Promise.resolve();
 *   console.log(getMessage() === message); // true
 * }
 * ```
 */
export function getMessage(): string | null {
  return storage.getStore()?.message ?? null;
}

/**
 * Returns the error in the context of the `onError` handler.
 *
 * @returns The message of the error being handled, or `null` outside `onError`.
 *
 * @example Outside a handler
 * ```ts
 * import { getError } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getError(), null);
 * ```
 */
export function getError(): string | null {
  return storage.getStore()?.error ?? null;
}

/**
 * Returns the method type in the context of the handler.
 *
 * @returns `"onopen"`, `"onmessage"`, `"onerror"` or `"onclose"`, or `null` outside a handler.
 *
 * @example Outside a handler
 * ```ts
 * import { getMethod } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getMethod(), null);
 * ```
 *
 * @example One function for every event
 * ```ts ignore
 * import { getMethod } from "@seed/websocket/dirigible";
 *
 * function log() {
 *   console.log(`event: ${getMethod()}`);
 * }
 * export { log as onClose, log as onOpen };
 * ```
 */
export function getMethod(): WebsocketMethod | null {
  return storage.getStore()?.method ?? null;
}

/**
 * Returns true in the context of the `onOpen` handler.
 *
 * @returns Whether an `onOpen` call is being handled.
 *
 * @example Outside a handler
 * ```ts
 * import { isOnOpen } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isOnOpen(), false);
 * ```
 */
export function isOnOpen(): boolean {
  return getMethod() === "onopen";
}

/**
 * Returns true in the context of the `onMessage` handler.
 *
 * @returns Whether an `onMessage` call is being handled.
 *
 * @example Outside a handler
 * ```ts
 * import { isOnMessage } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isOnMessage(), false);
 * ```
 */
export function isOnMessage(): boolean {
  return getMethod() === "onmessage";
}

/**
 * Returns true in the context of the `onError` handler.
 *
 * @returns Whether an `onError` call is being handled.
 *
 * @example Outside a handler
 * ```ts
 * import { isOnError } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isOnError(), false);
 * ```
 */
export function isOnError(): boolean {
  return getMethod() === "onerror";
}

/**
 * Returns true in the context of the `onClose` handler.
 *
 * @returns Whether an `onClose` call is being handled.
 *
 * @example Outside a handler
 * ```ts
 * import { isOnClose } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isOnClose(), false);
 * ```
 */
export function isOnClose(): boolean {
  return getMethod() === "onclose";
}

/**
 * Returns the connection the handled event belongs to: the client
 * `createWebsocket` returned, or on a server endpoint the connection of the
 * peer, whose `send` answers it. Not in the upstream API, which gives an
 * endpoint's handler no way to reply.
 *
 * @returns The connection, or `null` outside a handler.
 *
 * @example Outside a handler
 * ```ts
 * import { getConnection } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getConnection(), null);
 * ```
 *
 * @example An endpoint handler that echoes
 * ```ts ignore
 * import { getConnection } from "@seed/websocket/dirigible";
 *
 * export function onMessage(message: string) {
 *   getConnection()?.send(message);
 * }
 * ```
 */
export function getConnection(): WebsocketClient | null {
  return storage.getStore()?.connection ?? null;
}

/**
 * Calls the callback of `method` on a handler, if it has one, in the
 * method's context. What the callback throws, or the promise it returns
 * rejects with, goes to `failed`.
 *
 * @param argument The message for `onmessage`, the error for `onerror`.
 * @returns Whether the handler has the callback.
 */
export function dispatch(
  handler: WebsocketHandler,
  connection: WebsocketClient,
  method: WebsocketMethod,
  argument: string | null,
  failed: (error: unknown) => void,
): boolean {
  const callback = handler[CALLBACKS[method]] as ((...args: string[]) => unknown) | undefined;
  if (typeof callback !== "function") return false;
  const context: HandlerContext = {
    method,
    message: method === "onmessage" ? argument : null,
    error: method === "onerror" ? argument : null,
    connection,
  };
  storage.run(context, () => {
    try {
      const result = argument === null ? callback.call(handler) : callback.call(handler, argument);
      if (isThenable(result)) result.then(undefined, failed);
    } catch (error) {
      failed(error);
    }
  });
  return true;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
