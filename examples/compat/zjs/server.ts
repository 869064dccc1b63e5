/**
 * The WebSocket server sample of ZJS ("Web Socket Server sample",
 * `samples/websockets/WebSocketServer.js` of Intel's zephyr.js), written
 * anew on `@seed/websocket/zjs`. It accepts clients that offer the
 * subprotocol `my_ws_protocol` and refuses the others with 403. To each
 * message it answers, 100 ms later, with the binary message `A MESSAGE`,
 * and with a ping carrying `PING` on its first answer to a connection and
 * every tenth after.
 *
 *     deno run -A examples/compat/zjs/server.ts --port 8080
 *     bun examples/compat/zjs/server.ts --port 8080
 *     node npm/examples/compat/zjs/server.js --port 8080   # after the npm build
 *
 * It prints `listening on ws://HOST:PORT` once it listens, then one line per
 * event: `CONNECTION`, `MESSAGE: <text>`, `PING: <payload>`,
 * `PONG: <payload>`, `close event: <code> <reason>` and
 * `error: <name>: <message>`. SIGINT and SIGTERM stop it: it stops
 * listening, closes each connection with 1001, and exits 0. `--help` lists
 * the flags; a bad flag exits 2. `client.ts` beside it talks to it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";
import { parseArgs } from "node:util";
import { type WebSocketConnection, ws } from "../../../src/compat/zjs/mod.ts";

const USAGE = `Usage: server [options]

The ZJS WebSocket server sample: accepts clients offering the subprotocol
my_ws_protocol, and answers each message with "A MESSAGE" 100 ms later,
pinging on the first answer and every tenth after. Prints one line per
event; runs until SIGINT or SIGTERM.

Options:
  --port PORT      port to listen on; 0 picks a free one (default 8080)
  --hostname HOST  address to listen on (default 127.0.0.1)
  -h, --help       print this help and exit`;

/** Reports a bad command line in one line on stderr and exits 2. */
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

// var WebSocket = require('ws');
const WebSocket = ws;
const wss = new WebSocket.Server({
  port,
  host: flags.hostname,
  clientTracking: true,
  acceptHandler(protocols) {
    return protocols.find((protocol) => protocol === "my_ws_protocol") ?? false;
  },
});

wss.on("listening", () => {
  const { address, port } = wss.address()!;
  console.log(`listening on ws://${address.includes(":") ? `[${address}]` : address}:${port}`);
});
wss.on("error", (error: Error) => {
  console.error(`server: ${error.message}`);
  // Not listening at all is fatal; a failed handshake is not.
  if (wss.address() === null) process.exit(1);
});

wss.on("connection", (connection: WebSocketConnection) => {
  console.log("CONNECTION");
  // Counted per connection, where ZJS's sample shared one count.
  let count = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  connection.on("message", (message: Buffer) => {
    console.log(`MESSAGE: ${message.toString("ascii")}`);
    timer = setTimeout(() => {
      // ZJS's sample asks for masking; a server's frames go unmasked all the same.
      connection.send(Buffer.from("A MESSAGE"), true);
      if (count % 10 === 0) connection.ping(Buffer.from("PING"));
      count++;
    }, 100);
  });
  connection.on("ping", (data: Buffer) => {
    // The pong has been sent already: ZJS's sample also sent one itself.
    console.log(`PING: ${data.toString("ascii")}`);
  });
  connection.on("pong", (data: Buffer) => console.log(`PONG: ${data.toString("ascii")}`));
  connection.on("close", (code: number, reason: string) => {
    console.log(`close event: ${code} ${reason}`);
    clearTimeout(timer);
  });
  connection.on("error", (error: Error) => {
    console.log(`error: ${error.name}: ${error.message}`);
    clearTimeout(timer);
  });
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) process.exit(1); // A second signal does not wait.
  stopping = true;
  await wss.close();
  const closing = [...wss.clients!].map((connection) =>
    new Promise((resolve) => {
      connection.once("close", resolve);
      connection.close(1001, "server shutting down");
    })
  );
  await Promise.all(closing);
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
