/**
 * {@linkcode listen}: a WebSocket server on raw TCP, TLS or Unix sockets of
 * the runtime it runs on (Deno, Bun or Node), picked when first used.
 *
 * @module
 */

import { type HeadParserOptions, RequestHeadParser } from "./handshake/http1.ts";
import { encodeRejection } from "./handshake/server.ts";
import { answerUpgrade, hangUp, type ServerChannel, type UpgradeOptions } from "./_accept.ts";
import { readHead } from "./_head_reader.ts";
import { connectionLimit, DEFAULT_SHUTDOWN_TIMEOUT, shutDown } from "./_connections.ts";
import { runtimeNet } from "./runtime/_detect.ts";
import type { NetAddress, TlsListenOptions, Transport } from "./runtime/_transport.ts";

export type { ServerChannel, UpgradeInfo, UpgradeOptions } from "./_accept.ts";

/** Options of {@linkcode listen}. */
export interface ListenOptions extends UpgradeOptions, HeadParserOptions {
  /**
   * The host to listen on.
   *
   * @default {"0.0.0.0"}
   */
  hostname?: string;
  /**
   * The port to listen on; 0 lets the system pick one (read it from `port`).
   *
   * @default {0}
   */
  port?: number;
  /** A Unix domain socket path to listen on instead of a port. */
  path?: string;
  /** A certificate and key, to serve `wss://`. */
  tls?: TlsListenOptions;
  /**
   * How many connections not yet accepted the system may queue. Node takes
   * it; Deno's and Bun's listeners take none and use the system's default.
   *
   * @default {the runtime's default}
   */
  backlog?: number;
  /**
   * How long a client may take to send its request head, in milliseconds;
   * a slower one is disconnected.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * How many connections may be open at once; an upgrade request past it
   * is refused with 503 Service Unavailable before the upgrade.
   *
   * @default {Infinity}
   */
  maxConnections?: number;
  /**
   * The heartbeat: seconds without receiving anything after which a
   * connection is pinged (the round trip is then its `latency`); when
   * nothing arrives for as long again, it is closed with 1001. 0 turns it off.
   *
   * @default {120}
   */
  idleTimeout?: number;
}

/** A listening WebSocket server. */
export interface WebSocketServer {
  /** The address it listens on. */
  readonly address: NetAddress;
  /** The port it listens on (0 for a Unix socket). */
  readonly port: number;
  /** The connections open now. */
  readonly connections: ReadonlySet<ServerChannel>;
  /** Stops accepting connections; open connections stay open. */
  close(): Promise<void>;
  /**
   * Stops accepting connections, closes every open one with 1001, waits for
   * their closing handshakes, and cuts off those still open after `timeout`.
   *
   * @param timeout How long to wait for the closing handshakes, in milliseconds.
   * @returns Once every connection has ended.
   * @throws {RangeError} When the timeout is not at least 0.
   */
  shutdown(timeout?: number): Promise<void>;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
const DEFAULT_IDLE_TIMEOUT = 120;

/**
 * Listens for WebSocket connections on a raw socket of the current runtime
 * and hands each one, once its opening handshake is done, to `handler`.
 *
 * @param options Where to listen, how to accept, and the channels' limits.
 * @param handler Called with each new connection.
 * @returns The listening server.
 * @throws {RangeError} When `maxConnections` is not a whole number of at least 1.
 * @throws When the address cannot be listened on.
 *
 * @example An echo server
 * ```ts ignore
 * import { listen } from "@seed/websocket";
 *
 * const server = await listen({ port: 8080 }, (channel) => {
 *   channel.readable.pipeTo(channel.writable).catch(() => {});
 * });
 * console.log(`listening on ws://localhost:${server.port}`);
 * ```
 */
export async function listen(
  options: ListenOptions,
  handler: (channel: ServerChannel) => void | Promise<void>,
): Promise<WebSocketServer> {
  const limit = connectionLimit(options.maxConnections, options.onUpgrade);
  const settings: ListenOptions = {
    ...options,
    idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    onUpgrade: limit.onUpgrade,
  };
  const admitted = (channel: ServerChannel) => limit.admit(channel) && handler(channel);
  const net = await runtimeNet();
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const listener = await net.listen({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 0,
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
  }, (transport) => {
    accept(transport, settings, admitted, onError).catch(onError);
  });
  let closed: Promise<void> | undefined;
  const close = () => closed ??= listener.close();
  return {
    address: listener.address,
    port: listener.address.transport === "tcp" ? listener.address.port : 0,
    connections: limit.connections,
    close,
    shutdown: (timeout = DEFAULT_SHUTDOWN_TIMEOUT) => shutDown(limit.connections, close, timeout),
  };
}

async function accept(
  transport: Transport,
  options: ListenOptions,
  handler: (channel: ServerChannel) => unknown,
  onError: (error: unknown) => void,
): Promise<void> {
  const reader = transport.readable.getReader();
  const signal = AbortSignal.timeout(options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
  let parsed;
  try {
    parsed = await readHead(reader, new RequestHeadParser(options), signal);
  } catch (error) {
    // A head over the limits gets its status; a client too slow to send one, nothing.
    return hangUp(transport, reader, signal.aborted ? undefined : encodeRejection(error));
  }
  if (parsed === undefined) return hangUp(transport, reader);
  const channel = await answerUpgrade(
    transport,
    reader,
    parsed.head,
    parsed.rest,
    options,
    onError,
  );
  if (channel === undefined) return;
  try {
    await handler(channel);
  } catch (error) {
    onError(error);
    channel.close(1011);
  }
}
