/**
 * {@linkcode serve}: one call that starts a WebSocket server on whichever
 * runtime runs it, with the runtime's own HTTP server (`Deno.serve`,
 * `Bun.serve`, `node:http`) or our codec on raw sockets, and the same
 * options everywhere.
 *
 * @module
 */

import type { ListenOptions } from "./listen.ts";
import type { ServerChannel } from "./_accept.ts";
import {
  type Adapter,
  checkOptions,
  type Runtime,
  type ServeMode,
  type StartServer,
} from "./_serve_options.ts";
import { connectionLimit, DEFAULT_SHUTDOWN_TIMEOUT, shutDown } from "./_connections.ts";

export type { Runtime, ServeMode } from "./_serve_options.ts";

/** Options of {@linkcode serve}: those of {@linkcode listen}, and how to serve. */
export interface ServeOptions extends ListenOptions {
  /** Receives each new connection; what it throws or rejects with goes to `onError`, and closes the connection with 1011. */
  onConnection: (channel: ServerChannel) => void | Promise<void>;
  /**
   * `"native"` serves with the runtime's own HTTP server: `Deno.serve` and
   * `Deno.upgradeWebSocket`, `Bun.serve` and its `websocket` handlers, or a
   * `node:http` server whose upgrades run through our codec. `"raw"` serves
   * with our codec on the runtime's raw sockets, as {@linkcode listen} does.
   * An option the chosen server cannot honor is refused with a `TypeError`
   * naming it and the server.
   *
   * @default {"native"}
   */
  mode?: ServeMode;
  /**
   * Seconds without receiving anything after which a connection is pinged,
   * and then closed if nothing comes back; 0 turns it off.
   *
   * @default {120}
   */
  idleTimeout?: number;
}

/** A running server started by {@linkcode serve}. */
export interface Server {
  /** The runtime serving. */
  readonly runtime: Runtime;
  /** Whether the runtime's HTTP server or our raw-socket server serves. */
  readonly mode: ServeMode;
  /** The host it listens on. */
  readonly hostname: string;
  /** The port it listens on; 0 on a Unix domain socket. */
  readonly port: number;
  /** The connections open now. */
  readonly connections: ReadonlySet<ServerChannel>;
  /**
   * Stops accepting connections, closes every open one with 1001 and waits
   * for their closing handshakes, each bounded by `closeTimeout`.
   */
  close(): Promise<void>;
  /**
   * Stops accepting connections, closes every open one with 1001, waits for
   * their closing handshakes, and cuts off those still open after `timeout`
   * (on Deno's and Bun's own servers, those end by `closeTimeout` instead).
   *
   * @param timeout How long to wait for the closing handshakes, in milliseconds.
   * @returns Once the server stopped and every connection has ended.
   * @throws {RangeError} When the timeout is not at least 0.
   */
  shutdown(timeout?: number): Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT = 120;

/**
 * Starts a WebSocket server on the current runtime: by default its own HTTP
 * server (`Deno.serve`, `Bun.serve`, or `node:http` with our codec), or our
 * codec on raw sockets with `mode: "raw"`. The options are those of
 * {@linkcode listen}: where to listen, TLS, `fetch` for plain HTTP
 * requests, `selectProtocol`, `onUpgrade` to check the origin and refuse
 * with any response, `maxMessageSize`, `idleTimeout`. An option the chosen
 * server cannot honor, such as `maxFrameSize` where the runtime parses the
 * frames, is refused rather than ignored.
 *
 * @param options Where and how to serve, the hooks, and the connections' limits.
 * @returns The running server.
 * @throws {TypeError} When an option is not supported by the chosen server, naming both.
 * @throws When the address cannot be listened on.
 *
 * @example An echo server that checks the origin
 * ```ts
 * import { connect, serve } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const server = await serve({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   onUpgrade: (request) =>
 *     request.headers.get("origin") === "https://example.com"
 *       ? undefined
 *       : new Response("Forbidden", { status: 403 }),
 *   onConnection: (channel) => channel.readable.pipeTo(channel.writable).catch(() => {}),
 * });
 * const url = `ws://127.0.0.1:${server.port}/`;
 * await assert.rejects(connect(url, { origin: "https://evil.example" }), { status: 403 });
 *
 * const client = await connect(url, { origin: "https://example.com" });
 * await client.writable.getWriter().write("hello");
 * assert.deepEqual(await client.readable.getReader().read(), { value: "hello", done: false });
 * await server.close(); // closes the connection with 1001
 * assert.equal((await client.closed).code, 1001);
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const mode = options.mode ?? "native";
  const runtime = currentRuntime();
  const adapter: Adapter = mode === "raw" ? "raw" : runtime;
  checkOptions(options, adapter);
  const limit = connectionLimit(options.maxConnections, options.onUpgrade);
  const { maxConnections: _counted, ...rest } = options;
  const settings = {
    ...rest,
    idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    onUpgrade: limit.onUpgrade,
  };
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const { connections } = limit;
  let closing = false;
  const accept = (channel: ServerChannel) => {
    if (closing) return channel.close(1001, "Server shutting down");
    if (!limit.admit(channel)) return;
    const failed = (error: unknown) => {
      onError(error);
      channel.close(1011);
    };
    try {
      Promise.resolve(options.onConnection(channel)).catch(failed);
    } catch (error) {
      failed(error);
    }
  };
  const start = await loadAdapter(adapter);
  const started = await start(settings, accept);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    closing = true;
    return stopped ??= started.close();
  };
  return {
    runtime,
    mode,
    hostname: started.hostname,
    port: started.port,
    connections,
    async close() {
      // Some servers wait for their connections before they finish closing.
      const stopping = stop();
      for (const channel of connections) channel.close(1001, "Server shutting down");
      await Promise.all([stopping, ...[...connections].map((channel) => channel.closed)]);
    },
    shutdown: (timeout = DEFAULT_SHUTDOWN_TIMEOUT) => shutDown(connections, stop, timeout),
  };
}

function currentRuntime(): Runtime {
  return "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
}

async function loadAdapter(adapter: Adapter): Promise<StartServer> {
  switch (adapter) {
    case "deno":
      return (await import("./runtime/_serve_deno.ts")).startDenoServer;
    case "bun":
      return (await import("./runtime/_serve_bun.ts")).startBunServer;
    case "node":
      return (await import("./runtime/_serve_node.ts")).startNodeServer;
    case "raw":
      return (await import("./runtime/_serve_raw.ts")).startRawServer;
  }
}
