/**
 * The live demo behind `npm start`: a web server on localhost with two
 * pages that use the browser's own `WebSocket`, a chat room (`/chat.html`,
 * every message goes to everyone in the room) and an echo page with a
 * latency graph (`/echo.html`). It uses {@linkcode serve}, whose `fetch`
 * option answers the plain HTTP requests for the pages.
 *
 *     npm start                                  # or: deno task start
 *     deno run --allow-net --allow-read examples/demo/main.ts --port 8080
 *     bun examples/demo/main.ts
 *     node npm/examples/demo/main.js            # after the npm build
 *
 * It prints `demo running: open http://127.0.0.1:PORT/ in a browser` once
 * ready; `--port 0` picks a free port. SIGINT (Ctrl-C) and SIGTERM close
 * every connection with 1001 and exit 0. `--help` lists the flags.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import { serve, type Server, type ServerChannel } from "../../mod.ts";
import { ChatRoom } from "./chat_room.ts";

const USAGE = `Usage: demo [options]

Serves the live demo on localhost: a chat room and an echo page with a
latency graph, using the browser's own WebSocket.

Options:
  --port PORT      port to listen on; 0 picks a free one (default 8080)
  --hostname HOST  address to listen on (default 127.0.0.1)
  -h, --help       print this help and exit`;

/** The files of the pages, by request path, with their content types. */
const PAGES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/chat.html": ["chat.html", "text/html; charset=utf-8"],
  "/echo.html": ["echo.html", "text/html; charset=utf-8"],
  "/chat.js": ["chat.js", "text/javascript; charset=utf-8"],
  "/echo.js": ["echo.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
};

/** The WebSocket endpoints. */
const CHAT_PATH = "/ws/chat";
const ECHO_PATH = "/ws/echo";

/** The largest message the demo accepts; a bigger one closes the connection with 1009. */
const MAX_MESSAGE_SIZE = 64 * 1024;

/** Reports a bad command line in one line on stderr and exits 2. */
function usageError(message: string): never {
  console.error(`demo: ${message} (see --help)`);
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
  usageError(error instanceof Error ? error.message.split(". ")[0]! : String(error));
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = /^\d+$/.test(flags.port) ? Number(flags.port) : NaN;
if (!(port >= 0 && port <= 65535)) {
  usageError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(flags.port)}`);
}

/** Answers a request for a page with its file, or 404. */
async function page(request: Request): Promise<Response> {
  const found = PAGES[new URL(request.url).pathname];
  if (found === undefined || request.method !== "GET") {
    return new Response("Not Found", { status: 404 });
  }
  const [file, type] = found;
  const body = await readFile(new URL(`./public/${file}`, import.meta.url));
  return new Response(body, { headers: { "content-type": type, "cache-control": "no-store" } });
}

const room = new ChatRoom();

let server: Server;
try {
  server = await serve({
    hostname: flags.hostname,
    port,
    maxMessageSize: MAX_MESSAGE_SIZE,
    fetch: page,
    // Only the two endpoints upgrade.
    onUpgrade: (request) => {
      const path = new URL(request.url).pathname;
      return path === CHAT_PATH || path === ECHO_PATH
        ? undefined
        : new Response("Not Found", { status: 404 });
    },
    onError: (error) => console.error(`demo: ${error}`),
    onConnection: (channel: ServerChannel) => {
      if (new URL(channel.request.url).pathname === CHAT_PATH) return room.join(channel);
      // A failed connection errors the pipe; its close code has been sent already.
      return channel.readable.pipeTo(channel.writable).catch(() => {});
    },
  });
} catch (error) {
  console.error(`demo: cannot listen on ${flags.hostname}:${port}: ${error}`);
  process.exit(1);
}

const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
console.log(`demo running: open http://${host}:${server.port}/ in a browser`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) process.exit(1); // A second signal does not wait.
  stopping = true;
  await server.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
