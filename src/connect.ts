/**
 * {@linkcode connect}: a WebSocket client over a raw TCP or TLS socket of the
 * runtime it runs on (Deno, Bun or Node), picked when first used.
 *
 * @module
 */

import { HandshakeError } from "./errors.ts";
import { checkUpgradeResponse, createUpgradeRequest } from "./handshake/client.ts";
import { type HeadParserOptions, ResponseHeadParser } from "./handshake/http1.ts";
import { type Channel, type ChannelOptions, fromByteStreams } from "./protocol/channel.ts";
import { readHead, readSome, withLeadingBytes } from "./_head_reader.ts";
import { runtimeNet } from "./runtime/_detect.ts";
import type { TlsConnectOptions, Transport } from "./runtime/_transport.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions
  extends Omit<ChannelOptions, "role" | "protocol" | "extensions">, HeadParserOptions {
  /** Subprotocols to offer, in order of preference. */
  protocols?: string | string[];
  /** The `Origin` header to send, as a browser would. */
  origin?: string;
  /** More request headers, such as `Authorization`. */
  headers?: HeadersInit;
  /** Aborts the opening handshake. */
  signal?: AbortSignal;
  /**
   * How long the TCP, TLS and WebSocket handshakes may take, in milliseconds.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
  /** TLS options for `wss://`: extra trusted CA certificates and the server name to verify. */
  tls?: TlsConnectOptions;
}

/** A client connection: a {@linkcode Channel} with what the handshake told. */
export interface ClientChannel extends Channel {
  /** The URL connected to, normalized. */
  readonly url: string;
  /** The headers of the server's 101 response. */
  readonly responseHeaders: Headers;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
/** How much of a refusal's body goes into the error message. */
const REFUSAL_BODY_LIMIT = 1024;

/**
 * Opens a WebSocket connection to `url` (`ws://` or `wss://`) over a raw
 * socket of the current runtime.
 *
 * @param url The server's URL.
 * @param options Subprotocols, headers, TLS, timeouts and the channel's limits.
 * @returns The open connection.
 * @throws {SyntaxError} (a `DOMException`) When the URL or a subprotocol is invalid.
 * @throws {HandshakeError} When the server refuses (its status and the start of
 * its body in the message) or answers something that is not a WebSocket handshake.
 * @throws The signal's reason when it aborts, or a `TimeoutError` after `handshakeTimeout`.
 *
 * @example Talking to an echo server
 * ```ts ignore
 * import { connect } from "@seed/websocket";
 *
 * const channel = await connect("ws://127.0.0.1:8080", { protocols: ["echo"] });
 * const writer = channel.writable.getWriter();
 * await writer.write("hello");
 * for await (const message of channel.readable) {
 *   console.log(message);
 *   break;
 * }
 * channel.close(1000);
 * await channel.closed;
 * ```
 */
export async function connect(
  url: string | URL,
  options: ConnectOptions = {},
): Promise<ClientChannel> {
  const request = createUpgradeRequest(url, {
    ...(options.protocols === undefined ? {} : { protocols: options.protocols }),
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const target = request.url;
  const secure = target.protocol === "wss:" || target.protocol === "https:";
  const timeout = AbortSignal.timeout(options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
  const signal = options.signal === undefined
    ? timeout
    : AbortSignal.any([options.signal, timeout]);
  const net = await runtimeNet();
  const transport = await net.connect({
    // URL keeps the brackets of an IPv6 host; sockets take the bare address.
    hostname: target.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(target.port || (secure ? 443 : 80)),
    ...(secure ? { tls: options.tls ?? true } : {}),
    signal,
  });
  try {
    return await handshake(transport, request, options, signal);
  } catch (error) {
    transport.readable.cancel().catch(() => {});
    transport.writable.abort().catch(() => {});
    throw error;
  }
}

async function handshake(
  transport: Transport,
  request: ReturnType<typeof createUpgradeRequest>,
  options: ConnectOptions,
  signal: AbortSignal,
): Promise<ClientChannel> {
  const writer = transport.writable.getWriter();
  await writer.write(request.head);
  writer.releaseLock();
  const reader = transport.readable.getReader();
  const parsed = await readHead(reader, new ResponseHeadParser(options), signal);
  if (parsed === undefined) {
    throw new HandshakeError("Cannot open connection: the server closed it during the handshake", {
      status: 502,
    });
  }
  const { head, rest } = parsed;
  if (head.status !== 101) {
    const body = new TextDecoder().decode(await readSome(reader, rest, REFUSAL_BODY_LIMIT, signal));
    throw new HandshakeError(
      `Cannot open connection: the server answered ${head.status} ${head.statusText}` +
        (body.trim() === "" ? "" : `: ${body.trim()}`),
      { status: head.status, headers: head.headers },
    );
  }
  const { protocol, extensions } = await checkUpgradeResponse(head, request);
  const channel = fromByteStreams(
    { readable: withLeadingBytes(rest, reader), writable: transport.writable },
    { ...options, role: "client", protocol, extensions },
  );
  return Object.assign(channel, { url: request.url.href, responseHeaders: head.headers });
}
