/**
 * {@linkcode listen}: a WebSocket server on raw TCP, TLS or Unix sockets of
 * the runtime it runs on (Deno, Bun or Node), picked when first used.
 *
 * @module
 */

import { HandshakeError } from "./errors.ts";
import { type HeadParserOptions, type RequestHead, RequestHeadParser } from "./handshake/http1.ts";
import {
  checkUpgradeRequest,
  createUpgradeResponse,
  encodeRejection,
  encodeResponse,
} from "./handshake/server.ts";
import { type Channel, type ChannelOptions, fromByteStreams } from "./protocol/channel.ts";
import { readHead, withLeadingBytes } from "./_head_reader.ts";
import { runtimeNet } from "./runtime/_detect.ts";
import type { NetAddress, TlsListenOptions, Transport } from "./runtime/_transport.ts";

/** What a server knows of a connection before it accepts it. */
export interface UpgradeInfo {
  /** The peer's address. */
  remoteAddress: NetAddress;
}

/** Options of {@linkcode listen}. */
export interface ListenOptions
  extends Omit<ChannelOptions, "role" | "protocol" | "extensions">, HeadParserOptions {
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
   * How long a client may take to send its request head, in milliseconds;
   * a slower one is disconnected.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * Picks the subprotocol from those the client offered, in its order;
   * `undefined` accepts none. A protocol the client did not offer is a TypeError.
   */
  selectProtocol?: (offered: string[], request: Request) => string | undefined;
  /**
   * Decides on each upgrade request before it is accepted: return nothing to
   * accept it, or a `Response` (any status, headers and body) to refuse it.
   */
  onUpgrade?: (
    request: Request,
    info: UpgradeInfo,
  ) => Response | undefined | void | Promise<Response | undefined | void>;
  /** Answers plain HTTP requests; without it they get 426 Upgrade Required. */
  fetch?: (request: Request, info: UpgradeInfo) => Response | Promise<Response>;
  /** Extra headers for every 101 response. */
  headers?: HeadersInit;
  /**
   * Receives errors thrown by the connection handler or the hooks.
   *
   * @default {console.error}
   */
  onError?: (error: unknown) => void;
}

/** A server connection: a {@linkcode Channel} with the request that opened it. */
export interface ServerChannel extends Channel {
  /** The upgrade request: URL, headers. */
  readonly request: Request;
  /** The peer's address. */
  readonly remoteAddress: NetAddress;
}

/** A listening WebSocket server. */
export interface WebSocketServer {
  /** The address it listens on. */
  readonly address: NetAddress;
  /** The port it listens on (0 for a Unix socket). */
  readonly port: number;
  /** Stops accepting connections; open connections stay open. */
  close(): Promise<void>;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/**
 * Listens for WebSocket connections on a raw socket of the current runtime
 * and hands each one, once its opening handshake is done, to `handler`.
 *
 * @param options Where to listen, how to accept, and the channels' limits.
 * @param handler Called with each new connection.
 * @returns The listening server.
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
  const net = await runtimeNet();
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const listener = await net.listen({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 0,
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  }, (transport) => {
    accept(transport, options, handler, onError).catch(onError);
  });
  return {
    address: listener.address,
    port: listener.address.transport === "tcp" ? listener.address.port : 0,
    close: () => listener.close(),
  };
}

async function accept(
  transport: Transport,
  options: ListenOptions,
  handler: (channel: ServerChannel) => void | Promise<void>,
  onError: (error: unknown) => void,
): Promise<void> {
  const reader = transport.readable.getReader();
  const signal = AbortSignal.timeout(options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
  let channel: ServerChannel;
  try {
    const parsed = await readHead(reader, new RequestHeadParser(options), signal);
    if (parsed === undefined) return await hangUp(transport, reader);
    const opened = await upgrade(transport, reader, parsed.head, parsed.rest, options);
    if (opened instanceof Uint8Array) return await hangUp(transport, reader, opened);
    channel = opened;
  } catch (error) {
    // A bad request gets its status, a failing hook a bare 500 (its detail
    // is reported, not sent), and a client too slow to send its head nothing.
    if (!(error instanceof HandshakeError) && !signal.aborted) onError(error);
    return await hangUp(transport, reader, signal.aborted ? undefined : encodeRejection(error));
  }
  try {
    await handler(channel);
  } catch (error) {
    onError(error);
    channel.close(1011);
  }
}

/**
 * Answers a request head: with the bytes of a final answer for a plain HTTP
 * request or a refusal, or, for an accepted upgrade, by writing the 101 and
 * returning the new channel.
 */
async function upgrade(
  transport: Transport,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  head: RequestHead,
  rest: Uint8Array,
  options: ListenOptions,
): Promise<ServerChannel | Uint8Array> {
  const request = toRequest(head, transport.secure);
  const info: UpgradeInfo = { remoteAddress: transport.remoteAddress };
  if (options.fetch !== undefined && !isUpgrade(head)) {
    return await encodeResponse(await options.fetch(request, info));
  }
  const { protocol } = checkUpgradeRequest(head, {
    selectProtocol: (offered) => options.selectProtocol?.(offered, request),
  });
  const refusal = await options.onUpgrade?.(request, info);
  if (refusal instanceof Response) return await encodeResponse(refusal);

  const response = await createUpgradeResponse(head, {
    protocol,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const writer = transport.writable.getWriter();
  await writer.write(response.head);
  writer.releaseLock();
  const channel = fromByteStreams(
    { readable: withLeadingBytes(rest, reader), writable: transport.writable },
    { ...options, role: "server", protocol: response.protocol, extensions: response.extensions },
  );
  return Object.assign(channel, { request, remoteAddress: transport.remoteAddress });
}

/** Writes a last answer, if any, then closes the socket. */
async function hangUp(
  transport: Transport,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  answer?: Uint8Array,
): Promise<void> {
  try {
    const writer = transport.writable.getWriter();
    if (answer !== undefined) await writer.write(answer);
    await writer.close();
  } catch {
    // The peer is gone already.
  }
  await reader.cancel().catch(() => {});
}

function isUpgrade(head: RequestHead): boolean {
  return /(^|,)\s*websocket\s*(,|$)/i.test(head.headers.get("upgrade") ?? "");
}

function toRequest(head: RequestHead, secure: boolean): Request {
  const host = head.headers.get("host");
  if (host === null) throw new HandshakeError("Cannot upgrade request: Host is missing");
  let url: URL;
  try {
    url = new URL(head.target, `${secure ? "https" : "http"}://${host}`);
  } catch (cause) {
    throw new HandshakeError(`Cannot upgrade request: target ${head.target} is not a valid URL`, {
      cause,
    });
  }
  return new Request(url, { method: head.method, headers: head.headers });
}
