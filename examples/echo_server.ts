/**
 * A WebSocket echo server: every message goes back to its sender unchanged,
 * text as text and binary as binary. `--mode native` (the default) serves
 * with the runtime's own HTTP server (`Deno.serve`, `Bun.serve`,
 * `node:http`); `--mode raw` with our codec on raw sockets.
 *
 *     deno run -A examples/echo_server.ts --port 8080
 *     bun examples/echo_server.ts --port 8080
 *     node npm/examples/echo_server.js --port 8080   # after the npm build
 *
 * Once it listens it prints one line, `listening on ws://HOST:PORT`, with the
 * port the system picked for `--port 0`. SIGINT and SIGTERM stop it: it stops
 * accepting, closes each open connection with 1001 (going away), and exits 0
 * once they have closed. `--help` lists the flags; a bad flag exits 2.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { serve, type ServeMode, type Server } from "../mod.ts";

const USAGE = `Usage: echo_server [options]

A WebSocket echo server: every message goes back to its sender, text as text
and binary as binary. Prints "listening on ws://HOST:PORT" once ready, and
runs until SIGINT or SIGTERM, which close open connections with 1001.

Options:
  --port PORT          port to listen on; 0 picks a free one (default 8080)
  --hostname HOST      address to listen on (default 127.0.0.1)
  --max-message BYTES  largest message accepted; a larger one closes the
                       connection with 1009 (default: the library's limit)
  --protocols A,B      subprotocols accepted, comma-separated; the first the
                       client offers that is listed here is chosen, and a
                       client offering none of them gets none (default echo)
  --mode MODE          native: the runtime's own HTTP server (Deno.serve,
                       Bun.serve, node:http); raw: our codec on raw sockets
                       (default native)
  -h, --help           print this help and exit`;

// RFC 7230 §3.2.6: a subprotocol is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Reports a bad command line in one line on stderr and exits 2. */
function usageError(message: string): never {
  console.error(`echo_server: ${message} (see --help)`);
  process.exit(2);
}

/** The first sentence of a `parseArgs` error, which may run to several lines. */
function firstSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const sentence = message.split(/\.(?:\s|$)/)[0] ?? message;
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    usageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parseProtocols(text: string): string[] {
  const protocols = text.split(",").map((protocol) => protocol.trim());
  const bad = protocols.find((protocol) => !TOKEN.test(protocol));
  if (bad !== undefined) {
    usageError(`--protocols must list tokens separated by commas, got ${JSON.stringify(text)}`);
  }
  return protocols;
}

let flags;
try {
  flags = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string", default: "8080" },
      hostname: { type: "string", default: "127.0.0.1" },
      "max-message": { type: "string" },
      protocols: { type: "string", default: "echo" },
      mode: { type: "string", default: "native" },
      help: { type: "boolean", short: "h", default: false },
    },
  }).values;
} catch (error) {
  usageError(firstSentence(error));
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = parseInteger("--port", flags.port, 0, 65535);
const maxMessageSize = flags["max-message"] === undefined
  ? undefined
  : parseInteger("--max-message", flags["max-message"], 1, Number.MAX_SAFE_INTEGER);
const accepted = parseProtocols(flags.protocols);
if (flags.mode !== "native" && flags.mode !== "raw") {
  usageError(`--mode must be native or raw, got ${JSON.stringify(flags.mode)}`);
}
const mode: ServeMode = flags.mode;

let server: Server;
try {
  server = await serve({
    mode,
    hostname: flags.hostname,
    port,
    ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
    // The client's order decides: its first offer that we accept.
    selectProtocol: (offered) => offered.find((protocol) => accepted.includes(protocol)),
    onError: (error) => console.error(`echo_server: ${error}`),
    // A failed connection errors the pipe; its close code has been sent already.
    onConnection: (channel) => channel.readable.pipeTo(channel.writable).catch(() => {}),
  });
} catch (error) {
  console.error(`echo_server: cannot listen on ${flags.hostname}:${port}: ${error}`);
  process.exit(1);
}

const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
console.log(`listening on ws://${host}:${server.port}`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) process.exit(1); // A second signal does not wait.
  stopping = true;
  // Closes each open connection with 1001, each bounded by its close timeout.
  await server.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
