/**
 * EdgerOS's "Create websocket server" example: every message a client
 * sends goes to every client, binary turned into text first.
 *
 *     deno run -A examples/compat/edgeros/server.ts [PORT [ADDR]]
 *     bun examples/compat/edgeros/server.ts [PORT [ADDR]]
 *     node npm/examples/compat/edgeros/server.js [PORT [ADDR]]   # after the npm build
 *
 * It listens on ADDR:PORT, by default `socket.INADDR_ANY` and 8000 as in
 * EdgerOS's example; PORT 0 picks a free one. Beyond the example, it prints
 * `listening on ws://ADDR:PORT/` once it listens, so that the tests (and
 * you) know where.
 *
 * @module
 */
// deno-lint-ignore-file no-var -- the code below is EdgerOS's, as written.

import { Buffer } from "node:buffer"; // A global on EdgerOS.
import process from "node:process";
import { socket, WsServer } from "../../../src/compat/edgeros/mod.ts";

var saddr = socket.sockaddr(process.argv[3] ?? socket.INADDR_ANY, Number(process.argv[2] ?? 8000));
var server = WsServer.createServer("/", saddr);

server.on("connection", function (channel) {
  var info = `ws open channel: ${channel.id}.`;
  console.log(info);
  channel.send(info);

  channel.on("message", function (msg) {
    console.log(`ws recv message, msg_type: ${typeof msg}`);
    var data = Buffer.isBuffer(msg) ? msg.toString() : msg;
    server.broadcast(data);
  });

  channel.on("close", function () {
    console.log(`ws close channel:${channel.id}`);
  });
});

server.on("start", function () {
  console.log(`listening on ws://${saddr.addr}:${server.port()}/`);
});

server.start();

// EdgerOS's `while (true) { iosched.poll(); }` is gone: the runtime's event loop replaces it.
