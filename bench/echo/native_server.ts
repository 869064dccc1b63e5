/**
 * The runtimes' own WebSocket echo servers, the peers of the echo benchmark:
 * `Deno.serve` with `Deno.upgradeWebSocket` on Deno, `Bun.serve` with its
 * `websocket` handlers on Bun. Each echoes every message as it came, the way
 * their documentation shows.
 *
 *     deno run -A bench/echo/native_server.ts --port 0
 *     bun bench/echo/native_server.ts --port 0
 *
 * Prints `listening on ws://127.0.0.1:PORT` once it listens.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";

/** The slice of Deno's API used here. */
interface DenoApi {
  serve(
    options: { hostname: string; port: number; onListen(address: { port: number }): void },
    handler: (request: Request) => Response,
  ): unknown;
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
}
/** The slice of Bun's API used here. */
interface BunApi {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: { upgrade(request: Request): boolean }): Response | undefined;
    websocket: {
      maxPayloadLength: number;
      message(socket: { send(data: string | Uint8Array): number }, data: string | Uint8Array): void;
    };
  }): { port: number };
}

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});
const port = Number(values.port);
const hostname = values.hostname;
const { Deno, Bun } = globalThis as unknown as { Deno?: DenoApi; Bun?: BunApi };

if (Bun !== undefined) {
  const server = Bun.serve({
    hostname,
    port,
    fetch: (request, server) =>
      server.upgrade(request) ? undefined : new Response("upgrade", { status: 426 }),
    websocket: {
      maxPayloadLength: 64 * 1024 * 1024,
      message: (socket, data) => void socket.send(data),
    },
  });
  console.log(`listening on ws://${hostname}:${server.port}`);
} else if (Deno !== undefined) {
  Deno.serve({
    hostname,
    port,
    onListen: (address) => console.log(`listening on ws://${hostname}:${address.port}`),
  }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
} else {
  console.error("native_server: runs on Deno or Bun");
  process.exit(2);
}
