/**
 * Server endpoints: `*.websocket` descriptor files loaded from a directory
 * with {@linkcode loadEndpoints}, and served with {@linkcode serve}.
 *
 * @module
 */

import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listen, type ListenOptions } from "../../listen.ts";
import type { NetAddress } from "../../runtime/_transport.ts";
import { Session } from "./_session.ts";
import { describe, importHandler, typeName, type WebsocketHandler } from "./_handler.ts";

/** The path under which endpoints are served: `/websockets/v4/service/<endpoint>`. */
export const ENDPOINT_PATH_PREFIX = "/websockets/v4/service/";

/** A field of a `*.websocket` descriptor. */
export type DescriptorField = "handler" | "endpoint" | "description";

/** Options of {@linkcode DescriptorError}. */
export interface DescriptorErrorOptions extends ErrorOptions {
  /** The descriptor file, relative to the directory loaded, with `/` separators. */
  file: string;
  /** The field that is missing or wrong; none when the file is not a JSON object. */
  field?: DescriptorField | undefined;
}

/**
 * A `*.websocket` descriptor that was refused: a field missing or wrong, a
 * handler that cannot be loaded, or an endpoint another descriptor serves.
 *
 * @example Reading one
 * ```ts
 * import { DescriptorError } from "@seed/websocket/dirigible";
 * import assert from "node:assert/strict";
 *
 * const error = new DescriptorError("Cannot load websocket descriptor a.websocket: ...", {
 *   file: "a.websocket",
 *   field: "endpoint",
 * });
 * assert.equal(error.name, "DescriptorError");
 * assert.equal(error.field, "endpoint");
 * ```
 */
export class DescriptorError extends Error {
  /** The descriptor file, relative to the directory loaded, with `/` separators. */
  readonly file: string;
  /** The field that is missing or wrong; `undefined` when the file is not a JSON object. */
  readonly field: DescriptorField | undefined;

  /**
   * Constructs a new instance.
   *
   * @param message What could not be done, then the detail after a colon.
   * @param options The file and the field.
   */
  constructor(message: string, options: DescriptorErrorOptions) {
    super(message, options);
    this.name = "DescriptorError";
    this.file = options.file;
    this.field = options.field;
  }
}

/** An endpoint loaded from a descriptor, its handler module loaded. */
export interface Endpoint {
  /** The descriptor file, relative to the directory loaded, with `/` separators. */
  readonly file: string;
  /** The `endpoint` field, such as `"my-endpoint"`. */
  readonly endpoint: string;
  /** The path it is served at, such as `"/websockets/v4/service/my-endpoint"`. */
  readonly path: string;
  /** The `handler` field, as written. */
  readonly handler: string;
  /** The `description` field, or `""` when there is none. */
  readonly description: string;
  /** The callbacks the handler module exports. */
  readonly callbacks: WebsocketHandler;
}

/** What {@linkcode loadEndpoints} found. */
export interface LoadedEndpoints {
  /** The endpoints loaded, ordered by file. */
  endpoints: Endpoint[];
  /** One error per descriptor refused, ordered by file. */
  errors: DescriptorError[];
}

/** The extension of descriptor files. */
const DESCRIPTOR_EXTENSION = ".websocket";
/** A path segment of an endpoint: URL-safe characters that need no escaping. */
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/**
 * Loads the `*.websocket` descriptors under a directory, recursively. Each is
 * a JSON object:
 *
 * - `handler` (required): the handler module, a non-empty string. A path
 *   starting with `./` or `../` is relative to the descriptor file; another
 *   relative path, such as Dirigible's `"my-project/ws-handler"`, is relative
 *   to the directory loaded, Dirigible's registry root; URLs and absolute
 *   paths are taken as they are. Extensions are tried as for
 *   `createWebsocket`: a path without one gets `.ts`, `.js`, `.mjs` or
 *   `.cjs`, and a `.ts` path falls back to its compiled `.js` sibling (so a
 *   descriptor names `.ts` sources and still works where they were compiled).
 *   The module is imported now, and must export at least one callback.
 * - `endpoint` (required): the endpoint name, served at
 *   `/websockets/v4/service/<endpoint>`: segments of letters, digits, `-`,
 *   `_`, `.` and `~` separated by `/`.
 * - `description` (optional): a string.
 *
 * Other fields are ignored. A descriptor that is not a JSON object, has a
 * missing or wrong field, names a handler that cannot be loaded, or an
 * endpoint an earlier file (in path order) serves is refused with a
 * {@linkcode DescriptorError}; the others still load.
 *
 * @param directory The directory, as a path or a `file:` URL.
 * @returns The endpoints loaded and the errors of those refused.
 * @throws {Error} When the directory cannot be read.
 *
 * @example Checking a directory of descriptors
 * ```ts ignore
 * import { loadEndpoints } from "@seed/websocket/dirigible";
 *
 * const { endpoints, errors } = await loadEndpoints(new URL("./", import.meta.url));
 * for (const endpoint of endpoints) console.log(endpoint.path, endpoint.description);
 * for (const error of errors) console.error(error.message);
 * ```
 */
export async function loadEndpoints(directory: string | URL): Promise<LoadedEndpoints> {
  const root = typeof directory === "string" ? resolve(directory) : fileURLToPath(directory);
  let files: string[];
  try {
    files = await descriptorsUnder(root);
  } catch (error) {
    throw new Error(`Cannot load endpoints: ${describe(error)}`, { cause: error });
  }
  const endpoints: Endpoint[] = [];
  const errors: DescriptorError[] = [];
  for (const path of files) {
    try {
      endpoints.push(await loadDescriptor(root, path, endpoints));
    } catch (error) {
      if (!(error instanceof DescriptorError)) throw error;
      errors.push(error);
    }
  }
  return { endpoints, errors };
}

/** The descriptor files under a directory, recursively, sorted. */
async function descriptorsUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...await descriptorsUnder(path));
    else if (entry.isFile() && entry.name.endsWith(DESCRIPTOR_EXTENSION)) files.push(path);
  }
  return files.sort();
}

async function loadDescriptor(root: string, path: string, loaded: Endpoint[]): Promise<Endpoint> {
  const file = relative(root, path).split(sep).join("/");
  const refuse = (field: DescriptorField | undefined, detail: string, cause?: unknown) =>
    new DescriptorError(
      `Cannot load websocket descriptor ${file}: ${
        field === undefined ? "" : `field "${field}" `
      }${detail}`,
      { file, field, ...(cause === undefined ? {} : { cause }) },
    );
  let descriptor: unknown;
  try {
    descriptor = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw refuse(undefined, `is not JSON: ${describe(error)}`, error);
  }
  if (typeof descriptor !== "object" || descriptor === null || Array.isArray(descriptor)) {
    throw refuse(undefined, `must hold a JSON object, got ${typeName(descriptor)}`);
  }
  const { handler, endpoint, description } = descriptor as Record<string, unknown>;
  for (const [field, value] of [["handler", handler], ["endpoint", endpoint]] as const) {
    if (value === undefined) throw refuse(field, "is missing");
    if (typeof value !== "string" || value === "") {
      throw refuse(field, `must be a non-empty string, got ${describeValue(value)}`);
    }
  }
  const name = endpoint as string;
  if (!name.split("/").every((segment) => SEGMENT.test(segment) && !/^\.\.?$/.test(segment))) {
    throw refuse(
      "endpoint",
      `must be segments of letters, digits, "-", "_", "." and "~" separated by "/", got ${
        JSON.stringify(name)
      }`,
    );
  }
  if (description !== undefined && typeof description !== "string") {
    throw refuse("description", `must be a string, got ${describeValue(description)}`);
  }
  const specifier = handler as string;
  // "./x" is the descriptor's neighbour; "project/x" is in the registry, the root.
  const base = pathToFileURL(/^\.\.?[\\/]/.test(specifier) ? path : `${root}${sep}`);
  let callbacks: WebsocketHandler;
  try {
    callbacks = await importHandler(specifier, base);
  } catch (error) {
    throw refuse("handler", `cannot be loaded: ${describe(error)}`, error);
  }
  const served = loaded.find((other) => other.endpoint === name);
  if (served !== undefined) {
    throw refuse("endpoint", `is "${name}", which ${served.file} serves already`);
  }
  return {
    file,
    endpoint: name,
    path: `${ENDPOINT_PATH_PREFIX}${name}`,
    handler: specifier,
    description: description ?? "",
    callbacks,
  };
}

function describeValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : typeName(value);
}

/** Options of {@linkcode serve}: where the descriptors are, and {@linkcode listen}'s options. */
export interface ServeOptions extends ListenOptions {
  /** The directory to load `*.websocket` descriptors from, recursively, as a path or a `file:` URL. */
  directory: string | URL;
}

/** A server of endpoints, as {@linkcode serve} returns it. */
export interface EndpointServer {
  /** The address it listens on. */
  readonly address: NetAddress;
  /** The port it listens on (0 for a Unix socket). */
  readonly port: number;
  /** The endpoints served. */
  readonly endpoints: Endpoint[];
  /** The errors of the descriptors refused. */
  readonly errors: DescriptorError[];
  /**
   * Stops accepting connections, closes the open ones with 1001 (going
   * away), and resolves once they have closed.
   */
  close(): Promise<void>;
}

/**
 * Loads the endpoints of a directory as {@linkcode loadEndpoints} does and
 * serves each at `/websockets/v4/service/<endpoint>` on a server of ours
 * ({@linkcode listen}). An upgrade request for any other path is refused
 * with 404; one for an endpoint goes to `options.onUpgrade`, if given, which
 * may refuse it too. Each connection calls the endpoint handler's callbacks
 * as a client's are called, in its own context: `getConnection()` returns
 * the connection, whose `send()` answers the peer and `close()` closes it;
 * its `uri` is the request URL, its `handler` the descriptor's. These
 * connections are not clients: `getClients()` does not list them. What a
 * callback throws goes to `onError`, or to `options.onError` when it is
 * `onError` that threw or there is none.
 *
 * @param options The directory, and where and how to listen.
 * @returns The listening server, with the endpoints and the errors of the refused descriptors.
 * @throws {Error} When the directory cannot be read or the address cannot be listened on.
 *
 * @example Serving the descriptors beside this module
 * ```ts ignore
 * import { serve } from "@seed/websocket/dirigible";
 *
 * const server = await serve({ directory: new URL("./", import.meta.url), port: 8080 });
 * for (const error of server.errors) console.error(error.message);
 * for (const endpoint of server.endpoints) {
 *   console.log(`ws://localhost:${server.port}${endpoint.path}`);
 * }
 * ```
 */
export async function serve(options: ServeOptions): Promise<EndpointServer> {
  const { directory, ...listenOptions } = options;
  const { endpoints, errors } = await loadEndpoints(directory);
  const byPath = new Map(endpoints.map((endpoint) => [endpoint.path, endpoint]));
  const report = options.onError ?? ((error: unknown) => console.error(error));
  const open = new Map<Session, Promise<void>>();
  const server = await listen({
    ...listenOptions,
    onUpgrade: (request, info) => {
      const { pathname } = new URL(request.url);
      if (!byPath.has(pathname)) {
        return new Response(`No websocket endpoint at ${pathname}\n`, { status: 404 });
      }
      return options.onUpgrade?.(request, info);
    },
  }, (channel) => {
    const url = new URL(channel.request.url);
    const endpoint = byPath.get(url.pathname)!;
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const session = new Session({
      uri: url.href,
      handler: endpoint.handler,
      engine: "javascript",
      report,
      ended: (ended) => open.delete(ended),
    });
    const running = session.run(channel, endpoint.callbacks);
    open.set(session, running);
    return running;
  });
  return {
    address: server.address,
    port: server.port,
    endpoints,
    errors,
    async close() {
      await server.close();
      const running = [...open];
      for (const [session] of running) session.goAway();
      await Promise.all(running.map(([, done]) => done));
    },
  };
}
