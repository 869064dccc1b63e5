/**
 * How `WsServer`s in UPGRADE mode share the server they were created from:
 * one dispatcher per `node:http` server or web app, which hands each
 * upgrade to the `WsServer` of its path.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { ServerChannel, UpgradeInfo } from "../../_accept.ts";
import { handleUpgrade } from "../../runtime/node_upgrade.ts";

/**
 * What a `WsServer` needs of a `node:http` or `node:https` server (also
 * Deno's and Bun's `node:http`): its `upgrade` event.
 */
export interface HttpServer {
  /**
   * Adds an `upgrade` listener.
   *
   * @param event `"upgrade"`.
   * @param listener Called with the request, its socket and the bytes after its head.
   */
  on(
    event: "upgrade",
    listener: (request: IncomingMessage, socket: Duplex, head: Uint8Array) => void,
  ): unknown;
  /**
   * Counts the listeners of an event.
   *
   * @param event `"upgrade"`.
   */
  listenerCount(event: "upgrade"): number;
}

/**
 * A web app: an object of `serve()` options whose `fetch` answers plain
 * HTTP requests. `WsServer.createServer(path, app)` sets its `onUpgrade`
 * and `onConnection`, keeping those it had: upgrades to `path` go to the
 * `WsServer`, other upgrades to the app's own `onConnection` (refused with
 * 404 when it has none). Create the `WsServer`s before starting the app
 * with `serve(app)`.
 */
export interface WebApp {
  /**
   * Answers a plain HTTP request.
   *
   * @param request The request.
   * @param info The client's address.
   * @returns The response.
   */
  fetch(request: Request, info: UpgradeInfo): Response | Promise<Response>;
  /** Accepts (returns nothing) or refuses (returns a `Response`) each upgrade request, before any path is looked at. */
  onUpgrade?: (
    request: Request,
    info: UpgradeInfo,
  ) => Response | undefined | void | Promise<Response | undefined | void>;
  /** Receives the connections to paths no `WsServer` serves. */
  onConnection?: (channel: ServerChannel) => void | Promise<void>;
}

/** Takes an upgrade request of a `node:http` server. */
export type HttpRoute = (request: IncomingMessage, socket: Duplex, head: Uint8Array) => void;
/** Takes a connection a web app accepted. */
export type AppRoute = (channel: ServerChannel) => void;

const httpRoutes = new WeakMap<HttpServer, Map<string, HttpRoute>>();
const appRoutes = new WeakMap<WebApp, Map<string, AppRoute>>();

/**
 * Hands the upgrades of `server` to `path` to `route`.
 *
 * @returns A function that stops it.
 * @throws {TypeError} When another `WsServer` serves that path there.
 */
export function routeHttpServer(server: HttpServer, path: string, route: HttpRoute): () => void {
  let routes = httpRoutes.get(server);
  if (routes === undefined) {
    const table = routes = new Map();
    httpRoutes.set(server, table);
    server.on("upgrade", (request, socket, head) => {
      const found = table.get(targetPath(request.url ?? "/"));
      if (found !== undefined) return found(request, socket, head);
      // Another listener may serve this path; alone, refuse rather than leave the socket hanging.
      if (server.listenerCount("upgrade") === 1) {
        handleUpgrade(request, socket, head, { onUpgrade: notFound }).catch(() => {});
      }
    });
  }
  return add(routes, path, route);
}

/**
 * Hands the connections of `app` to `path` to `route`.
 *
 * @returns A function that stops it.
 * @throws {TypeError} When another `WsServer` serves that path there.
 */
export function routeWebApp(app: WebApp, path: string, route: AppRoute): () => void {
  let routes = appRoutes.get(app);
  if (routes === undefined) {
    const table = routes = new Map<string, AppRoute>();
    appRoutes.set(app, table);
    const { onUpgrade, onConnection } = app;
    app.onUpgrade = async (request, info) => {
      const refusal = await onUpgrade?.call(app, request, info);
      if (refusal instanceof Response) return refusal;
      if (onConnection === undefined && !table.has(new URL(request.url).pathname)) {
        return notFound();
      }
    };
    app.onConnection = (channel) => {
      const found = table.get(new URL(channel.request.url).pathname);
      if (found !== undefined) return found(channel);
      if (onConnection !== undefined) return onConnection.call(app, channel);
      // Its WsServer stopped during the handshake.
      channel.close(1001, "Server stopped");
    };
  }
  return add(routes, path, route);
}

function add<T>(routes: Map<string, T>, path: string, route: T): () => void {
  if (routes.has(path)) {
    throw new TypeError(`Cannot create server: another WsServer serves path ${path} there`);
  }
  routes.set(path, route);
  return () => routes.delete(path);
}

/** The path of a request target, normalized as `new URL()` normalizes it. */
export function targetPath(target: string): string {
  try {
    // The origin-form `/path?query`, or the absolute-form a proxy sends.
    return target.startsWith("/")
      ? new URL(`http://localhost${target}`).pathname
      : new URL(target).pathname;
  } catch {
    return "";
  }
}

function notFound(): Response {
  return new Response("No WebSocket server on this path\n", { status: 404 });
}
