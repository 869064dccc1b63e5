/**
 * The `mode: "native"` server of {@linkcode serve} on Deno: `Deno.serve`,
 * upgrading requests with {@linkcode upgrade} (`Deno.upgradeWebSocket`).
 *
 * @module
 */

import type { StartServer } from "../_serve_options.ts";
import { type DenoServeInfo, upgrade } from "./deno_serve.ts";

// The slice of Deno's API this module uses.
interface DenoHttpServer {
  readonly addr: { transport: string; hostname?: string; port?: number };
  shutdown(): Promise<void>;
}
interface DenoServeNamespace {
  serve(
    options: {
      port?: number;
      hostname?: string;
      path?: string;
      cert?: string;
      key?: string;
      onListen(): void;
    },
    handler: (request: Request, info: DenoServeInfo) => Promise<Response>,
  ): DenoHttpServer;
}

/** Starts `Deno.serve` with the options of `serve`. */
export const startDenoServer: StartServer = (options, accept) => {
  const Deno = (globalThis as unknown as { Deno: DenoServeNamespace }).Deno;
  const where = options.path === undefined
    ? { port: options.port ?? 0, hostname: options.hostname ?? "0.0.0.0" }
    : { path: options.path };
  const server = Deno.serve(
    { ...where, ...options.tls, onListen: () => {} },
    async (request, info) => {
      const { response, channel } = await upgrade(request, { ...options, info });
      if (channel !== undefined) accept(channel);
      return response;
    },
  );
  const { addr } = server;
  return Promise.resolve({
    hostname: addr.hostname ?? "",
    port: addr.port ?? 0,
    close: () => server.shutdown(),
  });
};
