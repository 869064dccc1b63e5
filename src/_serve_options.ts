/**
 * Which options of {@linkcode serve} each server can honor, and the check
 * that refuses the others by name rather than ignoring them.
 *
 * @module
 */

import type { ServerChannel } from "./_accept.ts";
import type { ServeOptions } from "./serve.ts";
import type { Message } from "./protocol/connection.ts";

/** The runtimes {@linkcode serve} knows. */
export type Runtime = "deno" | "bun" | "node";

/** Whether {@linkcode serve} uses the runtime's HTTP server or our codec on raw sockets. */
export type ServeMode = "native" | "raw";

/** What each server adapter returns once it listens. */
export interface StartedServer {
  /** The host it listens on. */
  hostname: string;
  /** The port it listens on; 0 on a Unix domain socket. */
  port: number;
  /** Stops accepting connections. */
  close(): Promise<void>;
  /**
   * The runtime's own publish to the connections subscribed in it
   * (`Bun.serve`'s `server.publish`), where it has one.
   */
  publish?: (topic: string, message: Message) => void;
}

/** Starts one kind of server, handing each accepted connection to `accept`. */
export type StartServer = (
  options: ServeOptions,
  accept: (channel: ServerChannel) => void,
) => Promise<StartedServer>;

/** A kind of server: a runtime's own, or ours on raw sockets. */
export type Adapter = Runtime | "raw";

const SERVER_NAMES: Record<Adapter, string> = {
  deno: "Deno.serve (mode native)",
  bun: "Bun.serve (mode native)",
  node: "node:http (mode native)",
  raw: "the raw-socket server (mode raw)",
};

const DENO_COMPRESSION = "Deno.serve does not negotiate permessage-deflate; use mode raw";
const DENO_FRAMES = "Deno parses the frames itself; use mode raw";
const BUN_FRAMES = "Bun parses the frames itself; use mode raw";
const DENO_HEAD = "Deno parses the request head itself; use mode raw";
const BUN_HEAD = "Bun parses the request head itself; use mode raw";
const DENO_QUEUE = "Deno queues outgoing messages itself; use mode raw";
const BUN_QUEUE = "Bun queues outgoing messages itself; use mode raw";

/** Per server, the options it cannot honor and why. */
const UNSUPPORTED: Record<Adapter, Partial<Record<keyof ServeOptions, string>>> = {
  deno: {
    maxFrameSize: DENO_FRAMES,
    maxFragments: DENO_FRAMES,
    fragmentSize: DENO_FRAMES,
    onPing: "Deno answers pings without reporting them; use mode raw",
    onPong: "Deno does not report pongs; use mode raw",
    maxHeadSize: DENO_HEAD,
    maxHeaders: DENO_HEAD,
    handshakeTimeout: DENO_HEAD,
    compression: DENO_COMPRESSION,
    onOversizedMessage: DENO_FRAMES,
    maxQueuedBytes: DENO_QUEUE,
    onQueueFull: DENO_QUEUE,
  },
  bun: {
    maxFrameSize: BUN_FRAMES,
    maxFragments: BUN_FRAMES,
    fragmentSize: BUN_FRAMES,
    maxHeadSize: BUN_HEAD,
    maxHeaders: BUN_HEAD,
    handshakeTimeout: BUN_HEAD,
    onOversizedMessage: BUN_FRAMES,
    maxQueuedBytes: BUN_QUEUE,
    onQueueFull: BUN_QUEUE,
  },
  node: {},
  raw: {},
};

/**
 * Refuses the options the server cannot honor: each one set to anything but
 * `undefined` (`false` too for `compression`, which is off anyway).
 *
 * @param options The options given.
 * @param adapter The server they are for.
 * @param action What cannot be done, for the message: `serve`, `upgrade request`.
 * @param more Further options to refuse, with the reason.
 * @throws {TypeError} Naming the first such option, the server, and why.
 */
export function checkOptions(
  options: object,
  adapter: Adapter,
  action = "serve",
  more: Record<string, string> = {},
): void {
  const given = options as Record<string, unknown>;
  const unsupported = Object.entries({ ...UNSUPPORTED[adapter], ...more });
  for (const [name, why] of unsupported) {
    if (given[name] !== undefined && !(name === "compression" && given[name] === false)) {
      throw new TypeError(
        `Cannot ${action}: option ${name} is not supported by ${SERVER_NAMES[adapter]}: ${why}`,
      );
    }
  }
}
