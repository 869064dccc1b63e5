/**
 * The client example of the Accessors `webSocket` documentation: it sends
 * `{ foo: "bar" }` before the socket is open (the client queues it), prints
 * each message received, and opens the socket.
 *
 *     deno run -A examples/compat/accessors/client.ts --port 8080
 *     bun examples/compat/accessors/client.ts --port 8080
 *     node npm/examples/compat/accessors/client.js --port 8080   # after the npm build
 *
 * It prints `Received from web socket: MESSAGE` for the first message, then
 * closes and exits 0. Unlike the documentation's example, which runs for
 * ever, it stops there so that it can be tested. When every attempt to
 * connect has failed (`--retries` retries, 500 ms apart), or the connection
 * ends in error, it prints why on stderr and exits 1; a bad flag exits 2.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { Client } from "../../../src/compat/accessors/mod.ts";

/** Reports a bad command line in one line on stderr and exits 2. */
function usageError(message: string): never {
  console.error(`client: ${message}`);
  process.exit(2);
}

let flags;
try {
  flags = parseArgs({
    args: process.argv.slice(2),
    options: {
      host: { type: "string", default: "localhost" },
      port: { type: "string", default: "8080" },
      retries: { type: "string", default: "10" },
    },
  }).values;
} catch (error) {
  usageError(error instanceof Error ? error.message.split("\n")[0]! : String(error));
}
const port = /^\d+$/.test(flags.port) ? Number(flags.port) : NaN;
if (!(port >= 1 && port <= 65535)) usageError(`--port must be from 1 to 65535, got ${flags.port}`);
const retries = /^\d+$/.test(flags.retries) ? Number(flags.retries) : NaN;
if (Number.isNaN(retries)) usageError(`--retries must be a whole number, got ${flags.retries}`);

// As in the documentation, from here on.
const client = new Client({ host: flags.host, port, numberOfRetries: retries });
client.send({ foo: "bar" });
client.on("message", (message: unknown) => {
  console.log("Received from web socket: " + message);
  client.close();
});
client.on("error", (message: string) => {
  console.error(`client: ${message}`);
  process.exitCode = 1;
});
client.open();
