/**
 * The WebSocket API of Eclipse Dirigible, `net/v4/websockets`, as its API
 * documentation page "WebSocket" describes it: websocket clients whose events
 * go to a handler module, the handler context functions, and server
 * endpoints declared by `*.websocket` descriptor files.
 *
 * - {@linkcode createWebsocket}, {@linkcode getClients},
 *   {@linkcode getClient}, {@linkcode getClientByHandler}: clients, each a
 *   {@linkcode WebsocketClient} with `send(message)` and `close()`.
 * - {@linkcode getMessage}, {@linkcode getError}, {@linkcode getMethod},
 *   {@linkcode isOnOpen}, {@linkcode isOnMessage}, {@linkcode isOnError},
 *   {@linkcode isOnClose}: inside a handler callback, about the event it
 *   handles, also after an `await`; outside, `null` or `false`.
 * - {@linkcode loadEndpoints} and {@linkcode serve}: endpoints from
 *   descriptors such as `{ "handler": "my-project/ws-handler", "endpoint":
 *   "my-endpoint", "description": "My Websocket" }`, served at
 *   `/websockets/v4/service/my-endpoint`.
 *
 * Upstream names are kept as they are. Deliberate differences, and why:
 *
 * - `createWebsocket` returns at once and connects in the background, where
 *   upstream blocks until connected: there is no blocking I/O here. So that
 *   code written for the blocking call still works, messages sent before the
 *   connection opens are sent once it has (after `onOpen`), and `close()`
 *   called before it opens closes it after that; a connection that fails
 *   calls `onError` then `onClose` instead of throwing.
 * - A handler is a module loaded with `import()` (a URL, an absolute path,
 *   or a path relative to the working directory, which stands for
 *   Dirigible's registry; extensions are tried), or an object with the
 *   callbacks, where upstream runs a registry script on each event. A module
 *   is loaded once, so its state lasts from one event to the next.
 * - `engine` accepts only `"javascript"`, upstream's default: handlers run on
 *   the runtime's own JavaScript engine. Any other name is a `RangeError`.
 * - `getClients()` lists a client from its creation, not its opening, so
 *   that `getClientByHandler` finds it right after `createWebsocket` as the
 *   upstream example expects; closed clients are dropped, as upstream.
 *   Metadata is `{ id, uri, handler, engine, state }`. `getClient` and
 *   `getClientByHandler` return the client itself, not a new wrapper.
 * - A callback that throws (or rejects) has its error's message passed to
 *   `onError`, as a Jakarta WebSocket endpoint's `@OnError` receives what its
 *   `@OnMessage` threw; when there is no `onError`, or it threw, the error
 *   goes to `console.error` (clients) or the server's `onError` option.
 * - A binary message closes the connection with 1003 (unsupported data):
 *   handlers take text, as upstream's `String` message parameter does.
 * - {@linkcode getConnection} is ours: it returns the connection of the
 *   event, so that an endpoint's handler can answer (`getConnection().send`);
 *   upstream documents no way to.
 * - {@linkcode loadEndpoints} and {@linkcode serve} are ours: upstream the
 *   platform serves the descriptors of its registry. A descriptor's handler
 *   path is relative to the descriptor (`./x`) or to the directory loaded
 *   (`my-project/x`); a wrong descriptor is refused with a
 *   {@linkcode DescriptorError} naming the file and the field.
 *
 * @example The handler context outside a handler
 * ```ts
 * import { getClients, getMethod, isOnMessage } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getMethod(), null);
 * assert.equal(isOnMessage(), false);
 * assert.deepEqual(getClients(), []);
 * ```
 *
 * @example A client whose handler is an object
 * ```ts ignore
 * import * as websockets from "@seed/websocket/dirigible";
 *
 * const handler = {
 *   onOpen: () => console.log("Connection opened."),
 *   onMessage: (message: string) => console.log(`Message received: ${message}`),
 *   onClose: () => console.warn("Connection closed."),
 * };
 * websockets.createWebsocket("ws://127.0.0.1:8080/", handler).send("hello");
 * ```
 *
 * @module
 */

export {
  createWebsocket,
  getClient,
  getClientByHandler,
  getClients,
  type WebsocketClient,
  type WebsocketClientMetadata,
  type WebsocketState,
} from "./client.ts";
export {
  getConnection,
  getError,
  getMessage,
  getMethod,
  isOnClose,
  isOnError,
  isOnMessage,
  isOnOpen,
  type WebsocketMethod,
} from "./context.ts";
export {
  DescriptorError,
  type DescriptorErrorOptions,
  type DescriptorField,
  type Endpoint,
  ENDPOINT_PATH_PREFIX,
  type EndpointServer,
  type LoadedEndpoints,
  loadEndpoints,
  serve,
  type ServeOptions,
} from "./endpoints.ts";
export type { WebsocketHandler } from "./_handler.ts";
// The core's types the options and results above refer to.
export type { ListenOptions } from "../../listen.ts";
export type { ServerChannel, UpgradeInfo, UpgradeOptions } from "../../_accept.ts";
export type { FrameParserOptions, Role } from "../../codec/frame.ts";
export type {
  LimitError,
  LimitErrorOptions,
  ProtocolError,
  ProtocolErrorOptions,
} from "../../errors.ts";
export type { HeadParserOptions } from "../../handshake/http1.ts";
export type { Channel, ChannelOptions, MessageInput } from "../../protocol/channel.ts";
export type { CloseInfo, ConnectionOptions, Message } from "../../protocol/connection.ts";
export type { NetAddress, TlsListenOptions } from "../../runtime/_transport.ts";
export type { CompressorCallback, MessageCompressor } from "../../protocol/compressor.ts";
export type { CompressionOptions } from "../../extensions/permessage_deflate.ts";
