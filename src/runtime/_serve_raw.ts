/**
 * The `mode: "raw"` server of {@linkcode serve}: {@linkcode listen}, our
 * codec on the runtime's raw sockets.
 *
 * @module
 */

import { listen } from "../listen.ts";
import type { StartServer } from "../_serve_options.ts";

/** Starts {@linkcode listen} with the options of `serve`. */
export const startRawServer: StartServer = async (options, accept) => {
  const server = await listen(options, accept);
  const { address } = server;
  return {
    hostname: address.transport === "tcp" ? address.hostname : "",
    port: server.port,
    close: () => server.close(),
  };
};
