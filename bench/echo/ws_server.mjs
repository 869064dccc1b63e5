// The `ws` echo server, a peer of the echo benchmark, in plain JavaScript so
// that Node runs it as it is. `ws` is loaded by file path so that Bun's
// built-in replacement is not measured instead.
//
//     node bench/echo/ws_server.mjs --port 0
//     bun bench/echo/ws_server.mjs --port 0
//
// Prints `listening on ws://127.0.0.1:PORT` once it listens.

import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const { WebSocketServer } = require("../../node_modules/ws/index.js");

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    hostname: { type: "string", default: "127.0.0.1" },
  },
});
const server = new WebSocketServer({
  host: values.hostname,
  port: Number(values.port),
  maxPayload: 64 * 1024 * 1024,
});
server.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
});
server.on("listening", () => {
  console.log(`listening on ws://${values.hostname}:${server.address().port}`);
});
