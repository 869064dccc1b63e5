/**
 * A chat server that runs as many processes as you like: every message a
 * client sends goes to every other client connected to any of them, through
 * Redis, text as text and binary as binary. Each client is in one room, the
 * path of its URL (`ws://HOST:PORT/lobby` is in `lobby`).
 *
 *     deno run -A examples/redis_chat.ts --port 8080 --redis redis://127.0.0.1:6379
 *     bun examples/redis_chat.ts --port 8081 --redis redis://127.0.0.1:6379
 *     node npm/examples/redis_chat.js --port 8082   # after the npm build
 *
 * Once it listens it prints `listening on ws://HOST:PORT`. While Redis is
 * down the clients of this process still talk to each other, and the sender
 * of a message that could not reach the other processes is told so with a
 * text message starting `! `. SIGINT and SIGTERM stop it.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { serve, type ServeMode, type Server } from "../mod.ts";
import { RedisBroker } from "../src/redis.ts";

const USAGE = `Usage: redis_chat [options]

A chat server sharing its rooms with other processes through Redis.

Options:
  --port PORT      port to listen on; 0 picks a free one (default 8080)
  --hostname HOST  address to listen on (default 127.0.0.1)
  --redis URL      the Redis server (default redis://127.0.0.1:6379)
  --mode MODE      native or raw (default native)
  -h, --help       print this help and exit`;

function usageError(message: string): never {
  console.error(`redis_chat: ${message} (see --help)`);
  process.exit(2);
}

let flags;
try {
  flags = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string", default: "8080" },
      hostname: { type: "string", default: "127.0.0.1" },
      redis: { type: "string", default: "redis://127.0.0.1:6379" },
      mode: { type: "string", default: "native" },
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
if (!(port >= 0 && port <= 65535)) usageError(`--port must be from 0 to 65535`);
if (flags.mode !== "native" && flags.mode !== "raw") usageError(`--mode must be native or raw`);
const mode: ServeMode = flags.mode;

let broker: RedisBroker;
try {
  broker = await RedisBroker.connect({ url: flags.redis });
} catch (error) {
  console.error(`redis_chat: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}

const server: Server = await serve({
  mode,
  hostname: flags.hostname,
  port,
  broker,
  onError: (error) => console.error(`redis_chat: ${error}`),
  onConnection: (channel) => {
    const room = decodeURIComponent(new URL(channel.request.url).pathname.slice(1)) || "lobby";
    channel.subscribe(room);
    const writer = channel.writable.getWriter();
    const relay = new WritableStream({
      write(message) {
        // Everyone in the room but the sender, in this process and the others.
        server.publish(room, message, { except: channel }).catch((error: Error) => {
          writer.write(`! ${error.message}`).catch(() => {});
        });
      },
    });
    // A connection that fails ends the pipe; its close code has been sent already.
    channel.readable.pipeTo(relay).catch(() => {});
  },
});

console.log(`listening on ws://${server.hostname}:${server.port}`);

async function stop(): Promise<void> {
  await server.close();
  await broker.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
