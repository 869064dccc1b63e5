/**
 * The Node client sample of ZJS ("Node Web Socket Client sample",
 * `samples/websockets/NodeWebSocketClient.js` of Intel's zephyr.js), written
 * anew: a client of npm's `ws` package for `server.ts` beside it. It offers
 * the subprotocols `first`, `my_ws_protocol` and `last`, sends
 * `first packet` once open, and sends back each message it receives, until
 * it has received `--messages` of them; then it closes with 1000 `done`.
 *
 *     deno run -A examples/compat/zjs/client.ts ws://127.0.0.1:8080
 *     node npm/examples/compat/zjs/client.js ws://127.0.0.1:8080   # after the npm build
 *     bun examples/compat/zjs/client.ts ws://127.0.0.1:8080
 *
 * Under Bun, `import "ws"` loads Bun's own replacement for the package,
 * which behaves alike for what this client uses.
 *
 * It prints one line per event: `open: <subprotocol>`, `MESSAGE: <text>`,
 * `PING: <payload>` (`ws` answers each ping by itself), and
 * `close: <code> <reason>`, then exits 0 after a close with 1000 or 1001,
 * 1 after another. When it cannot connect or the connection fails it
 * prints `error: <message>` on stderr and exits 1.
 * `--help` lists the flags; a bad flag exits 2.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import process from "node:process";
import { parseArgs } from "node:util";
import WebSocket from "ws";

const USAGE = `Usage: client [options] URL

The ZJS Node client sample: connects to URL offering the subprotocols first,
my_ws_protocol and last, sends "first packet", and sends back each message it
receives; once it has received --messages of them it closes with 1000 "done".
Prints one line per event.

Options:
  --messages N  how many messages to receive before closing (default 3)
  -h, --help    print this help and exit`;

/** Reports a bad command line in one line on stderr and exits 2. */
function usageError(message: string): never {
  console.error(`client: ${message} (see --help)`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      messages: { type: "string", default: "3" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (error) {
  usageError(error instanceof Error ? error.message.split("\n")[0]! : String(error));
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [url, ...extra] = parsed.positionals;
if (url === undefined || extra.length > 0) usageError("expected one URL");
if (!/^wss?:\/\//.test(url)) usageError(`the URL must start with ws:// or wss://, got ${url}`);
const limit = /^\d+$/.test(parsed.values.messages) ? Number(parsed.values.messages) : 0;
if (limit < 1) usageError("--messages must be a whole number of at least 1");

const socket = new WebSocket(url, ["first", "my_ws_protocol", "last"]);
let received = 0;

socket.on("open", () => {
  console.log(`open: ${socket.protocol}`);
  socket.send("first packet");
});

socket.on("message", (data: Buffer) => {
  received++;
  console.log(`MESSAGE: ${data.toString("ascii")}`);
  if (received < limit) socket.send(data);
  else socket.close(1000, "done");
});

socket.on("ping", (data: Buffer) => console.log(`PING: ${data.toString("ascii")}`));

socket.on("close", (code: number, reason: Buffer) => {
  console.log(`close: ${code} ${reason.toString()}`);
  // Closed by us when done, or by the server going away.
  process.exit(code === 1000 || code === 1001 ? 0 : 1);
});

socket.on("error", (error: Error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
