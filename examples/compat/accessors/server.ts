/**
 * The server pattern of the Accessors `webSocket` documentation: a
 * `Server` with `listening` and `connection` listeners, whose sockets print
 * each message and answer `"Reply message"`.
 *
 *     deno run -A examples/compat/accessors/server.ts --port 8082
 *     bun examples/compat/accessors/server.ts --port 8082
 *     node npm/examples/compat/accessors/server.js --port 8082   # after the npm build
 *
 * Once it listens it prints `listening on ws://HOST:PORT`, with the port the
 * system picked for `--port 0`; then each message received, as JSON, on a
 * line of its own. SIGINT and SIGTERM stop it: `stop()` closes the open
 * connections with 1001, then it exits 0. When it cannot listen, it prints
 * why on stderr and exits 1; a bad flag exits 2.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { Server, type Socket } from "../../../src/compat/accessors/mod.ts";

/** Reports a bad command line in one line on stderr and exits 2. */
function usageError(message: string): never {
  console.error(`server: ${message}`);
  process.exit(2);
}

let flags;
try {
  flags = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string", default: "8082" },
      host: { type: "string", default: "localhost" },
    },
  }).values;
} catch (error) {
  usageError(error instanceof Error ? error.message.split("\n")[0]! : String(error));
}
const port = /^\d+$/.test(flags.port) ? Number(flags.port) : NaN;
if (!(port <= 65535)) usageError(`--port must be from 0 to 65535, got ${flags.port}`);
const host = flags.host;

// As in the documentation, from here on.
const server = new Server({ hostInterface: host, port });
server.on("listening", onListening);
server.on("connection", onConnection);
server.on("error", (message: string) => {
  console.error(`server: ${message}`);
  process.exit(1);
});
server.start();

function onListening(): void {
  console.log(`listening on ws://${host.includes(":") ? `[${host}]` : host}:${server.port}`);
}

function onConnection(socket: Socket): void {
  socket.on("message", (message: unknown) => {
    // JSON rather than console.log(message): the same line on every runtime.
    console.log(JSON.stringify(message));
    socket.send("Reply message");
  });
}

async function stop(): Promise<void> {
  await server.stop();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
