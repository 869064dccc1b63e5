/**
 * A WebSocket client that echoes: it connects to a URL and sends back every
 * message it receives unchanged, text as text and binary as binary, until
 * the peer closes.
 *
 *     deno run -A examples/echo_client.ts ws://127.0.0.1:8080
 *     bun examples/echo_client.ts ws://127.0.0.1:8080
 *     node npm/examples/echo_client.js ws://127.0.0.1:8080   # after the npm build
 *
 * It prints nothing while things go well, and exits 0 when the peer closes
 * with 1000, 1001 or no code (1005). When it cannot connect, or the
 * connection ends with another code or abnormally (1006), it prints the
 * reason in one line on stderr and exits 1. SIGINT and SIGTERM close the
 * connection with 1001. `--help` lists the flags; a bad flag exits 2.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { type ClientChannel, connect } from "../mod.ts";

const USAGE = `Usage: echo_client [options] URL

Connects to URL (ws:// or wss://) and sends back every message it receives,
text as text and binary as binary, until the peer closes. Exits 0 when the
peer closes with 1000, 1001 or no code; otherwise prints why on stderr and
exits 1.

Options:
  --protocols A,B  subprotocols to offer, comma-separated, most preferred first
  -h, --help       print this help and exit`;

// RFC 7230 §3.2.6: a subprotocol is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Normal closure, going away, and a close frame without a code.
const CLEAN_CODES = [1000, 1001, 1005];

/** Reports a bad command line in one line on stderr and exits 2. */
function usageError(message: string): never {
  console.error(`echo_client: ${message} (see --help)`);
  process.exit(2);
}

/** Reports a failure in one line on stderr and exits 1. */
function fail(message: string): never {
  console.error(`echo_client: ${message.replace(/\s*\n\s*/g, " ")}`);
  process.exit(1);
}

/** The first sentence of a `parseArgs` error, which may run to several lines. */
function firstSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const sentence = message.split(/\.(?:\s|$)/)[0] ?? message;
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    options: {
      protocols: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
} catch (error) {
  usageError(firstSentence(error));
}
const { values: flags, positionals } = parsed;
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length !== 1) {
  usageError(`expected one URL, got ${positionals.length} arguments`);
}
const url = positionals[0]!;
const protocols = flags.protocols?.split(",").map((protocol) => protocol.trim());
if (protocols !== undefined && !protocols.every((protocol) => TOKEN.test(protocol))) {
  usageError(`--protocols must list tokens separated by commas, got ${flags.protocols}`);
}

let channel: ClientChannel;
try {
  channel = await connect(url, protocols === undefined ? {} : { protocols });
} catch (error) {
  fail(`cannot connect to ${url}: ${error instanceof Error ? error.message : error}`);
}

const goAway = () => channel.close(1001, "client going away");
process.on("SIGINT", goAway);
process.on("SIGTERM", goAway);

// Ends when the peer closes; a connection that fails errors it, and `closed` tells how.
await channel.readable.pipeTo(channel.writable).catch(() => {});
const { code, reason } = await channel.closed;
if (!CLEAN_CODES.includes(code)) {
  const why = code === 1006 ? "ended abnormally" : `was closed with ${code}`;
  fail(`connection to ${url} ${why}${reason === "" ? "" : `: ${reason}`}`);
}
process.exit(0);
