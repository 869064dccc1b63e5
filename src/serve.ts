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
import { type Broker, EmbeddedBroker } from "./broker.ts";
import type { MessageInput } from "./protocol/channel.ts";
import { type PublishOptions, type TopicChannel, Topics } from "./_topics.ts";
import {
  type Adapter,
  checkOptions,
  type Runtime,
  type ServeMode,
  type StartServer,
} from "./_serve_options.ts";
import { connectionLimit, DEFAULT_SHUTDOWN_TIMEOUT, shutDown } from "./_connections.ts";

export type { Runtime, ServeMode } from "./_serve_options.ts";
export type { PublishOptions, TopicChannel } from "./_topics.ts";

/** Options of {@linkcode serve}: those of {@linkcode listen}, and how to serve. */
export interface ServeOptions extends ListenOptions {
  /** Receives each new connection; what it throws or rejects with goes to `onError`, and closes the connection with 1011. */
  onConnection: (channel: TopicChannel) => void | Promise<void>;
  /**
   * Carries what is published to the other servers sharing topics: pass one
   * {@linkcode EmbeddedBroker} to several servers of this process, or a
   * Redis broker (`@seed/websocket/redis`) to servers in many processes.
   * The server does not close it.
   *
   * @default {a new EmbeddedBroker of this server alone}
   */
  broker?: Broker;
  /**
   * Bytes waiting to be sent on one connection past which a publish does not
   * queue more but closes it with 1008, so that a subscriber that cannot keep
   * up neither stalls the others nor makes memory grow without bound.
   *
   * @default {16777216}
   */
  maxSubscriberBacklog?: number;
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
  readonly connections: ReadonlySet<TopicChannel>;
  /**
   * Sends a message to every connection subscribed to the topic, on this
   * server and on the servers sharing its broker, without waiting for any
   * of them: it is queued on each of this server's subscribers at once,
   * encoded once for all of them where our codec sends it. A subscriber
   * with more than `maxSubscriberBacklog` bytes waiting is closed with 1008
   * instead.
   *
   * @param topic The topic.
   * @param data The message: a string as text, bytes as binary.
   * @param options `except`: a connection to leave out, such as the sender.
   * @returns The number of this server's connections it was queued for,
   * once the broker has taken it for the other servers. It rejects with
   * {@linkcode PublishError} when the broker could not take it (this
   * server's subscribers have it), and with a `TypeError` for a topic that
   * is not a string or a message of another type.
   */
  publish(topic: string, data: MessageInput, options?: PublishOptions): Promise<number>;
  /**
   * Counts this server's connections subscribed to a topic.
   *
   * @param topic The topic.
   * @returns The number of subscribed connections.
   */
  subscriberCount(topic: string): number;
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
const DEFAULT_MAX_SUBSCRIBER_BACKLOG = 16 * 1024 * 1024;

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
 *
 * @example Broadcasting to the subscribers of a topic
 * ```ts
 * import { connect, serve } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const server = await serve({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   onConnection: (channel) => channel.subscribe("news"),
 * });
 * const url = `ws://127.0.0.1:${server.port}/`;
 * const clients = [await connect(url), await connect(url)];
 * for (let i = 0; i < 500 && server.subscriberCount("news") < 2; i++) {
 *   await new Promise((resolve) => setTimeout(resolve, 10));
 * }
 * assert.equal(await server.publish("news", "extra!"), 2); // encoded once, sent to both
 * for (const client of clients) {
 *   assert.deepEqual(await client.readable.getReader().read(), { value: "extra!", done: false });
 * }
 * await server.close();
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const mode = options.mode ?? "native";
  const runtime = currentRuntime();
  const adapter: Adapter = mode === "raw" ? "raw" : runtime;
  checkOptions(options, adapter);
  const limit = connectionLimit<TopicChannel>(options.maxConnections, options.onUpgrade);
  const { maxConnections: _counted, ...rest } = options;
  const settings = {
    ...rest,
    idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    onUpgrade: limit.onUpgrade,
  };
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const { connections } = limit;
  const topics = new Topics({
    broker: options.broker ?? new EmbeddedBroker(),
    maxSubscriberBacklog: options.maxSubscriberBacklog ?? DEFAULT_MAX_SUBSCRIBER_BACKLOG,
    onError,
  });
  let closing = false;
  const accept = (accepted: ServerChannel) => {
    if (closing) return accepted.close(1001, "Server shutting down");
    const channel = topics.attach(accepted);
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
  if (started.publish !== undefined) topics.useNativePublish(started.publish);
  return {
    runtime,
    mode,
    hostname: started.hostname,
    port: started.port,
    connections,
    publish: (topic, data, options) => topics.publish(topic, data, options),
    subscriberCount: (topic) => topics.subscriberCount(topic),
    async close() {
      // Some servers wait for their connections before they finish closing.
      const stopping = stop();
      for (const channel of connections) channel.close(1001, "Server shutting down");
      await Promise.all([stopping, ...[...connections].map((channel) => channel.closed)]);
      topics.close();
    },
    async shutdown(timeout = DEFAULT_SHUTDOWN_TIMEOUT) {
      await shutDown(connections, stop, timeout);
      topics.close();
    },
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
