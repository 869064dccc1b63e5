/**
 * A server that shuts down gracefully on SIGINT or SIGTERM: it stops
 * accepting, closes every open connection with 1001 (going away), waits up
 * to `--timeout` milliseconds for their closing handshakes, cuts off those
 * still open, and exits 0. Meanwhile it echoes messages back. `--mode raw`
 * serves with our codec on raw sockets, where the timeout applies as said;
 * the runtimes' own servers (`--mode native`, the default) may end
 * connections sooner as they stop.
 *
 *     deno run -A examples/graceful_shutdown.ts --port 8080 --timeout 5000
 *     bun examples/graceful_shutdown.ts --port 8080
 *     node npm/examples/graceful_shutdown.js --port 8080   # after the npm build
 *
 * It prints `listening on ws://HOST:PORT` once it listens, `shutting down N
 * connections` on the signal, and `closed in MS ms` before it exits.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { serve } from "../mod.ts";

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    port: { type: "string", default: "8080" },
    hostname: { type: "string", default: "127.0.0.1" },
    timeout: { type: "string", default: "5000" },
    mode: { type: "string", default: "native" },
  },
});
const port = Number(flags.port);
const timeout = Number(flags.timeout);
const mode = flags.mode;
if (
  !Number.isInteger(port) || port < 0 || port > 65535 || !(timeout >= 0) ||
  (mode !== "native" && mode !== "raw")
) {
  console.error(
    "graceful_shutdown: --port must be 0 to 65535, --timeout at least 0, --mode native or raw",
  );
  process.exit(2);
}

const server = await serve({
  mode,
  hostname: flags.hostname,
  port,
  onError: (error) => console.error(`graceful_shutdown: ${error}`),
  onConnection: (channel) => channel.readable.pipeTo(channel.writable).catch(() => {}),
});
console.log(`listening on ws://${server.hostname}:${server.port}`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) process.exit(1); // A second signal does not wait.
  stopping = true;
  console.log(`shutting down ${server.connections.size} connections`);
  const started = performance.now();
  await server.shutdown(timeout);
  console.log(`closed in ${Math.round(performance.now() - started)} ms`);
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
