/**
 * Helpers of the `@seed/websocket/dirigible` tests: a handler that records
 * its calls and what the context said in each, bounded waits, and the
 * fixture directory of descriptors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Channel, Message } from "../../../mod.ts";
import {
  getConnection,
  getError,
  getMessage,
  getMethod,
  isOnClose,
  isOnError,
  isOnMessage,
  isOnOpen,
  type WebsocketClient,
  type WebsocketHandler,
} from "../../../src/compat/dirigible/mod.ts";
import { delay, WAIT, within } from "../../_servers.ts";

/** The directory of descriptors and handlers the tests load. */
export const FIXTURES: URL = new URL("../../fixtures/dirigible/", import.meta.url);

/** The path of a file of {@linkcode FIXTURES}. */
export function fixturePath(path: string): string {
  return fileURLToPath(new URL(path, FIXTURES));
}

/**
 * Resolves once `check` returns something other than `undefined` or
 * `false`, checking every few milliseconds; rejects after {@linkcode WAIT}.
 */
export async function until<T>(check: () => T | undefined | false, what: string): Promise<T> {
  const deadline = Date.now() + WAIT;
  while (true) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${WAIT} ms`);
    await delay(5);
  }
}

/** What the context functions answered at one point of a callback. */
export interface Snapshot {
  method: string | null;
  message: string | null;
  error: string | null;
  /** isOnOpen, isOnMessage, isOnError, isOnClose. */
  flags: boolean[];
  connection: WebsocketClient | null;
}

/** Asks every context function. */
export function snapshot(): Snapshot {
  return {
    method: getMethod(),
    message: getMessage(),
    error: getError(),
    flags: [isOnOpen(), isOnMessage(), isOnError(), isOnClose()],
    connection: getConnection(),
  };
}

/** A handler recording its calls, as `"onMessage hello"`, and the context of each. */
export interface Recorder {
  handler: WebsocketHandler;
  /** The calls, the callback's name then its argument, if any. */
  calls: string[];
  /** The context at the start of each call. */
  contexts: Snapshot[];
  /** Resolves once `onClose` has been called. */
  closed(): Promise<void>;
}

/**
 * A recording handler; `extra` callbacks run after the recording.
 *
 * @param extra Callbacks to run too, such as one sending from `onOpen`.
 */
export function recorder(extra: WebsocketHandler = {}): Recorder {
  const calls: string[] = [];
  const contexts: Snapshot[] = [];
  const record = (call: string) => {
    calls.push(call);
    contexts.push(snapshot());
  };
  return {
    calls,
    contexts,
    handler: {
      onOpen: () => {
        record("onOpen");
        return extra.onOpen?.();
      },
      onMessage: (message) => {
        record(`onMessage ${message}`);
        return extra.onMessage?.(message);
      },
      onError: (error) => {
        record(`onError ${error}`);
        return extra.onError?.(error);
      },
      onClose: () => {
        record("onClose");
        return extra.onClose?.();
      },
    },
    closed: () => until(() => calls.includes("onClose"), "onClose").then(() => {}),
  };
}

/** Reads `count` messages from a channel. */
export async function readMessages(channel: Channel, count: number): Promise<Message[]> {
  const reader = channel.readable.getReader();
  const messages: Message[] = [];
  try {
    while (messages.length < count) {
      const { value, done } = await within(reader.read(), "message");
      if (done) break;
      messages.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return messages;
}

/** Replaces `console.error` while `body` runs; returns what it was called with. */
export async function capturingConsoleError(
  body: (calls: unknown[][]) => Promise<void>,
): Promise<unknown[][]> {
  const calls: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => calls.push(args);
  try {
    await body(calls);
  } finally {
    console.error = original;
  }
  return calls;
}

/** Asserts an error is an `Error` whose message matches `pattern`. */
export function assertErrorMatches(error: unknown, pattern: RegExp): void {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  assert.match(error.message, pattern);
}
