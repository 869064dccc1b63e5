/**
 * The `node:http` upgrade hook: {@linkcode handleUpgrade} takes what an
 * `http.Server` or `https.Server` hands to its `upgrade` listener and runs
 * the WebSocket handshake and protocol on that socket with our codec, so an
 * existing Node server gets the same channels, limits and backpressure as
 * {@linkcode listen}. It runs on Deno and Bun too, through their `node:http`.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { RequestHead } from "../handshake/http1.ts";
import { answerUpgrade, type ServerChannel, type UpgradeOptions } from "../_accept.ts";
import { socketToTransport } from "./node.ts";

export type { ServerChannel, UpgradeInfo, UpgradeOptions } from "../_accept.ts";
export type { FrameParserOptions, Role } from "../codec/frame.ts";
export type {
  LimitError,
  LimitErrorOptions,
  ProtocolError,
  ProtocolErrorOptions,
} from "../errors.ts";
export type { Channel, ChannelOptions, MessageInput } from "../protocol/channel.ts";
export type { CloseInfo, ConnectionOptions, Message } from "../protocol/connection.ts";
export type { NetAddress } from "./_transport.ts";
export type { CompressorCallback, MessageCompressor } from "../protocol/compressor.ts";
export type { CompressionOptions } from "../extensions/permessage_deflate.ts";

/**
 * Answers the upgrade request an `http.Server` emitted with its `upgrade`
 * event: accepts it and returns the new connection, or refuses it (a bad
 * request with its status, `onUpgrade`'s `Response`) and returns `undefined`,
 * the socket answered and closed either way.
 *
 * @param request The request of the `upgrade` event.
 * @param socket The socket of the `upgrade` event; the connection takes it over.
 * @param head The bytes of the `upgrade` event that followed the request head.
 * @param options Subprotocol choice, the accept-or-refuse hook, extra headers, and the
 * channel's limits; `idleTimeout`, the heartbeat, is 120 seconds unless given, as with `serve()`.
 * @returns The connection, or `undefined` when the request was refused.
 *
 * @example Adding WebSocket to an HTTP server
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { handleUpgrade } from "@seed/websocket/node";
 *
 * const server = createServer((_request, response) => response.end("hello"));
 * server.on("upgrade", async (request, socket, head) => {
 *   const channel = await handleUpgrade(request, socket, head);
 *   channel?.readable.pipeTo(channel.writable).catch(() => {}); // echo
 * });
 * server.listen(8080);
 * ```
 */
export function handleUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  options: UpgradeOptions = {},
): Promise<ServerChannel | undefined> {
  const secure = (socket as { encrypted?: boolean }).encrypted === true;
  const transport = socketToTransport(socket as Socket, secure, head);
  const requestHead: RequestHead = {
    method: request.method ?? "GET",
    target: request.url ?? "/",
    version: `HTTP/${request.httpVersion}`,
    headers: headersOf(request.rawHeaders),
  };
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  return answerUpgrade(
    transport,
    transport.readable.getReader(),
    requestHead,
    new Uint8Array(0),
    { ...options, idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT },
    onError,
  );
}

/** Seconds of silence before the heartbeat pings, as with `serve()` and `listen()`. */
const DEFAULT_IDLE_TIMEOUT = 120;

/** The request's headers as sent, from Node's flat name, value, name, value list. */
function headersOf(rawHeaders: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    headers.append(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return headers;
}
