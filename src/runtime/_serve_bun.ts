/**
 * The `mode: "native"` server of {@linkcode serve} on Bun: `Bun.serve`
 * with the `websocket` handlers of {@linkcode createWebsocketHandler},
 * upgrading requests with {@linkcode upgrade}.
 *
 * @module
 */

import { hasToken } from "../handshake/_header_values.ts";
import type { StartServer } from "../_serve_options.ts";
import type { UpgradeInfo } from "../_accept.ts";
import {
  type BunServer,
  createWebsocketHandler,
  upgrade,
  type WebsocketHandler,
} from "./bun_serve.ts";

// The slice of Bun's API this module uses.
interface BunHttpServer extends BunServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
  publish(topic: string, data: string | Uint8Array): number;
}
interface BunNamespace {
  serve(options: {
    port?: number;
    hostname?: string;
    unix?: string;
    tls?: { cert: string; key: string };
    websocket: WebsocketHandler;
    fetch(request: Request, server: BunHttpServer): Promise<Response | undefined>;
  }): BunHttpServer;
}

/** Starts `Bun.serve` with the options of `serve`. */
export const startBunServer: StartServer = (options, accept) => {
  const Bun = (globalThis as unknown as { Bun: BunNamespace }).Bun;
  const { maxMessageSize, idleTimeout, compression, ...perRequest } = options;
  const websocket = createWebsocketHandler({
    ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
    ...(idleTimeout === undefined ? {} : { idleTimeout }),
    ...(compression === undefined ? {} : { compression }),
  });
  const where = options.path === undefined
    ? { port: options.port ?? 0, hostname: options.hostname ?? "0.0.0.0" }
    : { unix: options.path };
  const server = Bun.serve({
    ...where,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    websocket,
    async fetch(request, server) {
      if (options.fetch === undefined || hasToken(request.headers.get("upgrade"), "websocket")) {
        return await upgrade(request, server, { ...perRequest, onConnection: accept });
      }
      const ip = server.requestIP(request);
      const info: UpgradeInfo = {
        remoteAddress: { transport: "tcp", hostname: ip?.address ?? "", port: ip?.port ?? 0 },
      };
      try {
        return await options.fetch(request, info);
      } catch (error) {
        (options.onError ?? console.error)(error);
        return new Response(null, { status: 500 });
      }
    },
  });
  return Promise.resolve({
    hostname: options.path === undefined ? server.hostname : "",
    port: options.path === undefined ? server.port : 0,
    close: () => server.stop(),
    publish: (topic, message) => void server.publish(topic, message),
  });
};
