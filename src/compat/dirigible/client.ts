/**
 * Websocket clients: {@linkcode createWebsocket} and the registry of the
 * clients it created.
 *
 * @module
 */

import process from "node:process";
import { pathToFileURL } from "node:url";
import { connect } from "../../connect.ts";
import { createUpgradeRequest } from "../../handshake/client.ts";
import { parseTarget } from "../../_target.ts";
import { Session } from "./_session.ts";
import {
  checkHandler,
  describe,
  importHandler,
  typeName,
  type WebsocketHandler,
} from "./_handler.ts";

/**
 * The state of a websocket: `"connecting"` until it opens, `"open"`,
 * `"closing"` once `close()` started the closing handshake, and `"closed"`.
 */
export type WebsocketState = "connecting" | "open" | "closing" | "closed";

/** What {@linkcode getClients} tells of a client: a snapshot. */
export interface WebsocketClientMetadata {
  /** A unique id, a UUID, for {@linkcode getClient}. */
  readonly id: string;
  /** The URI connected to, as given to {@linkcode createWebsocket}. */
  readonly uri: string;
  /** The handler, as given to {@linkcode createWebsocket}: a module specifier, a `URL` or an object. */
  readonly handler: string | URL | WebsocketHandler;
  /** The engine the handler runs on: always `"javascript"`. */
  readonly engine: string;
  /** The state of the connection. */
  readonly state: WebsocketState;
}

/** A websocket connection: a client {@linkcode createWebsocket} made, or a peer of an endpoint. */
export interface WebsocketClient extends WebsocketClientMetadata {
  /**
   * Sends a text message via the websocket connection. Before the
   * connection opens, the message is queued and sent once it has.
   *
   * @param message The text to send.
   * @throws {TypeError} When the message is not a string.
   * @throws {ConnectionClosedError} When `close()` was called or the connection has closed.
   */
  send(message: string): void;
  /**
   * Closes the websocket connection with 1000 (normal closure), after the
   * messages sent before. Called before the connection opens, it lets it
   * open, sends what was sent, then closes. Messages the peer sent before it
   * answered the close still reach `onMessage`. Does nothing when closing already.
   */
  close(): void;
}

/** The only engine there is: the JavaScript engine of the runtime. */
const ENGINE = "javascript";

/** The clients created and not yet closed, in the order they were created. */
const clients: Session[] = [];

/**
 * Creates a {@linkcode WebsocketClient} by URI, handler and engine type, and
 * starts connecting in the background. Once connected, the handler's `onOpen`
 * is called, then what was sent meanwhile is sent; each text message calls
 * `onMessage`; a connection that fails, before or after opening, calls
 * `onError` then `onClose`, and one that closes calls `onClose`. A binary
 * message closes the connection with 1003, as handlers take text only. What a
 * callback throws goes to `onError`, or to `console.error` when it is
 * `onError` that threw or there is none.
 *
 * The handler is an object with the callbacks, or a module exporting them
 * (any subset of `onOpen`, `onMessage`, `onError`, `onClose`, as named
 * exports or as the default export, so CommonJS `exports.onOpen = ...` works),
 * loaded with `import()` before connecting: a URL (`file:`, `https:`,
 * `npm:`...), an absolute path, or a path relative to the working directory,
 * which plays the part of Dirigible's registry root. A path without an
 * extension is tried with `.ts`, `.js`, `.mjs` and `.cjs`, and a `.ts` path
 * that does not exist or cannot be imported with its compiled `.js` sibling.
 * A module that cannot be loaded is reported to `console.error` and the
 * client closes without calling anything.
 *
 * @param uri The `ws:` or `wss:` URI (or `ws+unix:`, as {@linkcode connect} takes).
 * @param handler A module specifier (a string or a `URL`), or an object with the callbacks.
 * @param engine The engine to run the handler on: `"javascript"`, the upstream
 * default, is the only one there is.
 * @returns The client, registered until it closes.
 * @throws {DOMException} A `SyntaxError` when the URI cannot be parsed or has another scheme.
 * @throws {TypeError} When the handler is not a string or an object of functions,
 * or the engine not a string.
 * @throws {RangeError} When the engine names another engine, such as `"graaljs"`.
 *
 * @example The upstream example
 * ```ts ignore
 * import * as websockets from "@seed/websocket/dirigible";
 *
 * const uri = "ws://127.0.0.1:8080/";
 * const handler = "my-project/ws-handler"; // ./my-project/ws-handler.ts
 *
 * const websocket = websockets.createWebsocket(uri, handler);
 * websocket.send("hello"); // sent once open
 * websockets.getClientByHandler(handler)?.close();
 * ```
 *
 * @example Engines
 * ```ts
 * import { createWebsocket } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => createWebsocket("ws://127.0.0.1:1", {}, "graaljs"), RangeError);
 * assert.throws(
 *   () => createWebsocket("http://[nope", {}),
 *   (error) => error instanceof DOMException && error.name === "SyntaxError",
 * );
 * ```
 */
export function createWebsocket(
  uri: string | URL,
  handler: string | URL | WebsocketHandler,
  engine?: string,
): WebsocketClient {
  checkEngine(engine);
  if (typeof handler === "string") {
    if (handler === "") throw new TypeError("Cannot create websocket: handler is an empty string");
  } else if (!(handler instanceof URL)) {
    const problem = checkHandler(handler);
    if (problem !== undefined) {
      throw new TypeError(`Cannot create websocket: handler is not a module specifier, ${problem}`);
    }
  }
  const href = typeof uri === "string" ? uri : uri instanceof URL ? uri.href : undefined;
  if (href === undefined) {
    throw new TypeError(`Cannot create websocket: expected a URI string, got ${typeName(uri)}`);
  }
  // The checks connect() makes, made now so that they throw here.
  createUpgradeRequest(parseTarget(href).request);
  const session = new Session({
    uri: href,
    handler,
    engine: ENGINE,
    report: (error) => console.error(error),
    ended: (ended) => {
      const index = clients.indexOf(ended);
      if (index >= 0) clients.splice(index, 1);
    },
  });
  clients.push(session);
  open(session, handler);
  return session;
}

async function open(session: Session, handler: string | URL | WebsocketHandler): Promise<void> {
  let callbacks: WebsocketHandler;
  try {
    callbacks = typeof handler === "string" || handler instanceof URL
      ? await importHandler(String(handler), pathToFileURL(`${process.cwd()}/`))
      : handler;
  } catch (error) {
    session.abandon();
    console.error(
      new Error(`Cannot create websocket: cannot load handler "${handler}": ${describe(error)}`, {
        cause: error,
      }),
    );
    return;
  }
  let channel;
  try {
    channel = await connect(session.uri);
  } catch (error) {
    session.fail(callbacks, error);
    return;
  }
  await session.run(channel, callbacks);
}

function checkEngine(engine: unknown): void {
  if (engine === undefined || engine === ENGINE) return;
  if (typeof engine !== "string") {
    throw new TypeError(
      `Cannot create websocket: engine must be a string, got ${typeName(engine)}`,
    );
  }
  throw new RangeError(
    `Cannot create websocket: engine "${engine}" is not available, only "${ENGINE}" is`,
  );
}

/**
 * Returns the list of the created websocket clients that have not closed
 * yet, oldest first, as metadata snapshots.
 *
 * @returns Each client's id, URI, handler, engine and state.
 *
 * @example Nothing created, nothing listed
 * ```ts
 * import { getClients } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(getClients(), []);
 * ```
 */
export function getClients(): WebsocketClientMetadata[] {
  return clients.map(({ id, uri, handler, engine, state }) => ({
    id,
    uri,
    handler,
    engine,
    state,
  }));
}

/**
 * Returns the client by its id, if it exists (was created and has not
 * closed yet), or null otherwise.
 *
 * @param id The client's `id`.
 * @returns The client, or `null`.
 * @throws {TypeError} When the id is not a string.
 *
 * @example An unknown id
 * ```ts
 * import { getClient } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getClient("no-such-id"), null);
 * ```
 */
export function getClient(id: string): WebsocketClient | null {
  if (typeof id !== "string") {
    throw new TypeError(`Cannot get client: expected a string id, got ${typeName(id)}`);
  }
  return clients.find((client) => client.id === id) ?? null;
}

/**
 * Returns the client by its handler, if one exists, or null otherwise. The
 * handler is compared as given to {@linkcode createWebsocket}: the same string,
 * or the same `URL` or handler object. With several, the oldest is returned.
 *
 * @param handler The module specifier, URL or object the client was created with.
 * @returns The client, or `null`.
 * @throws {TypeError} When the handler is not a string or an object.
 *
 * @example An unknown handler
 * ```ts
 * import { getClientByHandler } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getClientByHandler("my-project/ws-handler"), null);
 * ```
 */
export function getClientByHandler(
  handler: string | URL | WebsocketHandler,
): WebsocketClient | null {
  if (typeof handler !== "string" && (typeof handler !== "object" || handler === null)) {
    throw new TypeError(
      `Cannot get client: expected a handler string or object, got ${typeName(handler)}`,
    );
  }
  return clients.find((client) => client.handler === handler) ?? null;
}
