/**
 * The shared HTTP server standing in for Hop's built-in one: one per
 * process, started by the first `WebSocketServer` and stopped when the last
 * one closes, routing each upgrade request by its path to the service
 * registered there.
 *
 * @module
 */

import { listen, type WebSocketServer as Listener } from "../../listen.ts";
import type { ServerChannel } from "../../_accept.ts";
import { readEnv } from "../../_proxy.ts";

/** Where the shared server listens; see {@linkcode configure}. */
export interface HopServerOptions {
  /**
   * The port; 0 lets the system pick a free one. When absent, the `HOP_PORT`
   * environment variable, then 8080, Hop's default.
   *
   * @default {8080}
   */
  port?: number;
  /**
   * The address to listen on. When absent, the `HOP_HOSTNAME` environment
   * variable, then every interface.
   *
   * @default {"0.0.0.0"}
   */
  hostname?: string;
}

/** Where the shared server listens, once it does. */
export interface HopServerAddress {
  /** The address it listens on. */
  hostname: string;
  /** The port it listens on: the one the system picked for port 0. */
  port: number;
}

/** A path served, as a `WebSocketServer` registers it. */
export interface Service {
  /** The subprotocols it accepts. */
  readonly protocols: readonly string[];
  /** Takes a connection accepted at its path. */
  accept(channel: ServerChannel): void;
}

const DEFAULT_PORT = 8080;
const DEFAULT_HOSTNAME = "0.0.0.0";

const services = new Map<string, Service>();
let configured: HopServerOptions = {};
let running: Promise<Listener> | undefined;
// Settles once the last server stopped listening, so that a new one can take its port.
let stopped: Promise<void> = Promise.resolve();

/**
 * Sets the port and hostname of the shared HTTP server, Hop's `-p` option.
 * It applies from the next start of the server: call it before the first
 * `WebSocketServer`, or after every one has closed. An option left out falls
 * back to its environment variable (`HOP_PORT`, `HOP_HOSTNAME`), then its
 * default.
 *
 * @param options The port and hostname.
 * @throws {TypeError} When the port is not a number, or the hostname not a non-empty string.
 * @throws {RangeError} When the port is not a whole number from 0 to 65535.
 * @throws {Error} When the server is running.
 *
 * @example Serving on a free port of the loopback interface
 * ```ts ignore
 * import { configure, WebSocketServer } from "@seed/websocket/hop";
 *
 * configure({ port: 0, hostname: "127.0.0.1" });
 * const server = new WebSocketServer("serv");
 * const { port } = await server.listening;
 * console.log(`ws://127.0.0.1:${port}/hop/serv`);
 * ```
 *
 * @example A bad port is refused at once
 * ```ts
 * import { configure } from "@seed/websocket/hop";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => configure({ port: 70000 }), RangeError);
 * ```
 */
export function configure(options: HopServerOptions = {}): void {
  const { port, hostname } = options;
  if (port !== undefined) checkPort(port);
  if (hostname !== undefined && (typeof hostname !== "string" || hostname === "")) {
    throw new TypeError(
      `Cannot configure the Hop server: the hostname must be a non-empty string, got ${
        JSON.stringify(hostname)
      }`,
    );
  }
  if (running !== undefined) {
    throw new Error(
      "Cannot configure the Hop server: it is running; close every WebSocketServer first",
    );
  }
  configured = {
    ...(port === undefined ? {} : { port }),
    ...(hostname === undefined ? {} : { hostname }),
  };
}

/**
 * Serves a path, starting the shared server if it is not running.
 *
 * @returns Where the server listens, once it does; rejects, the path freed
 * again, when it cannot listen.
 * @throws {Error} When the path is served already.
 */
export function register(pathname: string, service: Service): Promise<HopServerAddress> {
  if (services.has(pathname)) {
    throw new Error(`Cannot create WebSocketServer: ${pathname} is served already`);
  }
  services.set(pathname, service);
  const started = running ??= start();
  return started.then(({ address }) => ({
    hostname: address.transport === "tcp" ? address.hostname : "",
    port: address.transport === "tcp" ? address.port : 0,
  }), (error: unknown) => {
    if (services.get(pathname) === service) services.delete(pathname);
    if (running === started) running = undefined;
    throw error;
  });
}

/**
 * Stops serving a path, and stops the shared server when it was the last.
 *
 * @returns Settles once the server no longer listens, if it had to stop; never rejects.
 */
export function unregister(pathname: string): Promise<void> {
  services.delete(pathname);
  if (services.size > 0 || running === undefined) return stopped;
  const server = running;
  running = undefined;
  // Connections already open stay open, as Hop's do when a service goes.
  stopped = server.then((listener) => listener.close(), () => {});
  return stopped;
}

async function start(): Promise<Listener> {
  // Read now, so that configure() after this call applies to the next start only.
  const port = configured.port ?? envPort() ?? DEFAULT_PORT;
  const hostname = configured.hostname ?? readEnv("HOP_HOSTNAME") ?? DEFAULT_HOSTNAME;
  await stopped;
  return await listen({
    hostname,
    port,
    // The service's protocol, if the client offers it (the client's order decides among several).
    selectProtocol: (offered, request) => {
      const accepted = services.get(pathOf(request))?.protocols ?? [];
      return offered.find((protocol) => accepted.includes(protocol));
    },
    onUpgrade: (request) => {
      const pathname = pathOf(request);
      if (!services.has(pathname)) {
        return new Response(`No WebSocketServer serves ${pathname}\n`, { status: 404 });
      }
    },
  }, (channel) => {
    const service = services.get(pathOf(channel.request));
    // Its WebSocketServer closed while the handshake was ending.
    if (service === undefined) channel.close(1001);
    else service.accept(channel);
  });
}

function pathOf(request: Request): string {
  return new URL(request.url).pathname;
}

function envPort(): number | undefined {
  const text = readEnv("HOP_PORT");
  if (text === undefined) return undefined;
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(port <= 65535)) {
    throw new RangeError(
      `Cannot start the Hop server: HOP_PORT must be a whole number from 0 to 65535, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return port;
}

function checkPort(port: unknown): void {
  if (typeof port !== "number") {
    throw new TypeError(
      `Cannot configure the Hop server: the port must be a number, got ${typeof port}`,
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot configure the Hop server: the port must be a whole number from 0 to 65535, got ${port}`,
    );
  }
}
