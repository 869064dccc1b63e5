/**
 * @seed/websocket: a WebSocket (RFC 6455) client and server library for
 * Deno, Bun and Node, built on WebStreams.
 *
 * This entry point holds the client and the servers, which pick the
 * runtime they run on when first used: {@linkcode connect} and
 * {@linkcode reconnecting} on the client side; {@linkcode serve} (the
 * runtime's own HTTP server or ours) and {@linkcode listen} (ours on raw
 * sockets) on the server side. All of them hand out a {@linkcode Channel}
 * (readable and writable of messages, `closed`, `close()`, `ping()`), which
 * {@linkcode fromByteStreams} also makes over any pair of byte streams. It
 * also holds the sans-I/O {@linkcode Connection} under it (bytes in, bytes
 * and messages out), the browser-shaped {@linkcode WebSocket} and
 * {@linkcode WebSocketStream}, and the error classes. The frame codec is in
 * `@seed/websocket/codec`.
 *
 * @example A client and a server connection talking through memory
 * ```ts
 * import { Connection, type Message } from "@seed/websocket";
 * import assert from "node:assert/strict";
 *
 * const received: Message[] = [];
 * const server: Connection = new Connection({ role: "server" }, {
 *   write: (bytes) => client.receive(bytes),
 *   message: (data) => server.send(`echo: ${data}`),
 *   end: () => {},
 * });
 * const client: Connection = new Connection({ role: "client" }, {
 *   write: (bytes) => server.receive(bytes),
 *   message: (data) => received.push(data),
 *   end: () => {},
 * });
 * client.send("hello");
 * client.close(1000, "done");
 * assert.deepEqual(received, ["echo: hello"]);
 * assert.deepEqual(client.closeInfo, { code: 1000, reason: "done", wasClean: true });
 * ```
 *
 * @module
 */

export * from "./src/errors.ts";
export * from "./src/protocol/connection.ts";
export {
  type ByteStreams,
  type Channel,
  type ChannelOptions,
  fromByteStreams,
  type MessageInput,
} from "./src/protocol/channel.ts";
export { type ClientChannel, connect, type ConnectOptions } from "./src/connect.ts";
export {
  type ReconnectFailure,
  reconnecting,
  type ReconnectingOptions,
} from "./src/reconnecting.ts";
export {
  listen,
  type ListenOptions,
  type ServerChannel,
  type UpgradeInfo,
  type UpgradeOptions,
  type WebSocketServer,
} from "./src/listen.ts";
export {
  type PublishOptions,
  type Runtime,
  serve,
  type ServeMode,
  type ServeOptions,
  type Server,
  type TopicChannel,
} from "./src/serve.ts";
export { type Broker, type BrokerListener, EmbeddedBroker, PublishError } from "./src/broker.ts";
export type { FrameParserOptions, Role } from "./src/codec/frame.ts";
export type { CompressorCallback, MessageCompressor } from "./src/protocol/compressor.ts";
export type { CompressionOptions } from "./src/extensions/permessage_deflate.ts";
export type { HeadParserOptions } from "./src/handshake/http1.ts";
export type { NetAddress, TlsConnectOptions, TlsListenOptions } from "./src/runtime/_transport.ts";
export {
  type WebSocketCloseInfo,
  WebSocketError,
  type WebSocketErrorOptions,
  type WebSocketOpenInfo,
  WebSocketStream,
  type WebSocketStreamOptions,
} from "./src/websocket_stream.ts";
export { WebSocket, type WebSocketEventMap, type WebSocketOptions } from "./src/websocket.ts";
