/**
 * Serves the websocket endpoints that the `*.websocket` descriptors of this
 * directory declare, as Eclipse Dirigible serves those of its registry (this
 * directory plays the registry; `my-project` is a project in it):
 *
 * - `my-project/my-endpoint.websocket`, the upstream example, at
 *   `/websockets/v4/service/my-endpoint`: its handler logs the events.
 * - `my-project/echo.websocket` at `/websockets/v4/service/echo`: its
 *   handler sends every message back.
 *
 *     deno run -A examples/compat/dirigible/server.ts --port 8080
 *     bun examples/compat/dirigible/server.ts --port 8080
 *     node npm/examples/compat/dirigible/server.js --port 8080   # after the npm build
 *
 * It prints `listening on ws://HOST:PORT`, then one `serving URL (DESCRIPTION)`
 * line per endpoint; a refused descriptor's error goes to stderr. Then the
 * handlers log. SIGINT and SIGTERM close the connections with 1001 and exit 0.
 * A browser can then talk to it:
 *
 *     const ws = new WebSocket("ws://localhost:8080/websockets/v4/service/my-endpoint");
 *     ws.onopen = () => ws.send("hello");
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { type EndpointServer, serve } from "../../../src/compat/dirigible/mod.ts";

const USAGE = `Usage: server [--port PORT] [--hostname HOST]

Serves the websocket endpoints of the *.websocket descriptors beside it.

Options:
  --port PORT      port to listen on; 0 picks a free one (default 8080)
  --hostname HOST  address to listen on (default 127.0.0.1)
  -h, --help       print this help and exit`;

function usageError(message: string): never {
  console.error(`server: ${message} (see --help)`);
  process.exit(2);
}

let flags;
try {
  flags = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string", default: "8080" },
      hostname: { type: "string", default: "127.0.0.1" },
      help: { type: "boolean", short: "h", default: false },
    },
  }).values;
} catch (error) {
  usageError(error instanceof Error ? error.message.split("\n")[0]! : String(error));
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = /^\d+$/.test(flags.port) ? Number(flags.port) : NaN;
if (!(port <= 65535)) usageError(`--port must be a whole number from 0 to 65535`);

let server: EndpointServer;
try {
  server = await serve({
    directory: new URL(".", import.meta.url),
    hostname: flags.hostname,
    port,
  });
} catch (error) {
  console.error(`server: cannot serve on ${flags.hostname}:${port}: ${error}`);
  process.exit(1);
}

const host = flags.hostname.includes(":") ? `[${flags.hostname}]` : flags.hostname;
console.log(`listening on ws://${host}:${server.port}`);
for (const error of server.errors) console.error(`server: ${error.message}`);
for (const endpoint of server.endpoints) {
  console.log(`serving ws://${host}:${server.port}${endpoint.path} (${endpoint.description})`);
}

async function stop(): Promise<void> {
  await server.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
