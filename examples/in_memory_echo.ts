/**
 * A client and an echo server talking through memory, with every frame
 * printed as it crosses the wire: the quickest look at the protocol layer.
 *
 * Run with `deno run examples/in_memory_echo.ts`, `bun examples/in_memory_echo.ts`
 * or `npm start`.
 *
 * @module
 */

import { Connection } from "../mod.ts";

function hex(bytes: Uint8Array, limit = 24): string {
  const shown = Array.from(bytes.subarray(0, limit), (b) => b.toString(16).padStart(2, "0"));
  return shown.join(" ") + (bytes.length > limit ? ` ... (${bytes.length} bytes)` : "");
}

const server: Connection = new Connection({ role: "server" }, {
  write(bytes) {
    console.log(`server -> client  ${hex(bytes)}`);
    client.receive(bytes);
  },
  message: (data) => server.send(data),
  end: (info) => console.log(`server closed: code ${info.code}, clean ${info.wasClean}`),
});

const client: Connection = new Connection({ role: "client", fragmentSize: 8 }, {
  write(bytes) {
    console.log(`client -> server  ${hex(bytes)}`);
    server.receive(bytes);
  },
  message: (data) =>
    console.log(`client received ${typeof data === "string" ? JSON.stringify(data) : hex(data)}`),
  pong: (payload) =>
    console.log(`client received pong ${JSON.stringify(new TextDecoder().decode(payload))}`),
  end: (info) => console.log(`client closed: code ${info.code}, clean ${info.wasClean}`),
});

client.send("Hello, WebSocket");
client.send(new Uint8Array([1, 2, 3, 4]));
client.ping(new TextEncoder().encode("are you there?"));
client.close(1000, "done");
