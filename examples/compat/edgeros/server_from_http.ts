/**
 * EdgerOS's "Create websocket server from http server" example, on a
 * `node:http` server: plain HTTP requests get a line of text, and every
 * message a WebSocket client sends at `/` goes to every client.
 *
 *     deno run -A examples/compat/edgeros/server_from_http.ts [PORT [ADDR]]
 *     bun examples/compat/edgeros/server_from_http.ts [PORT [ADDR]]
 *     node npm/examples/compat/edgeros/server_from_http.js [PORT [ADDR]]   # after the npm build
 *
 * It listens on ADDR:PORT, by default `socket.INADDR_ANY` and 8000 as in
 * EdgerOS's example; PORT 0 picks a free one. EdgerOS's `HttpServer`
 * becomes `node:http`'s server, started with `listen()` rather than
 * `start()`; it has no group, so the name EdgerOS gives it,
 * `ws_from_http`, is written out. Beyond the example, it prints
 * `listening on ws://ADDR:PORT/` once it listens.
 *
 * @module
 */
// deno-lint-ignore-file no-var no-unused-vars -- the code below is EdgerOS's, as written.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import process from "node:process";
import { socket, WsServer } from "../../../src/compat/edgeros/mod.ts";

function handle(req: IncomingMessage, res: ServerResponse) {
  res.end("This is websocket server, rejust http request.");
}

var saddr = socket.sockaddr(process.argv[3] ?? socket.INADDR_ANY, Number(process.argv[2] ?? 8000));
var httpSer = createServer(handle); // HttpServer.createServer('./ws_from_http', handle, 0, saddr)
var wsServer = WsServer.createServer("/", httpSer);

wsServer.on("connection", function (channel) {
  var info = `ws open, server=ws_from_http, channel=${channel.id}.`;
  console.log(info);
  channel.send(info);

  channel.on("message", function (msg) {
    console.log(`ws recv message, ${channel.id}`);
    wsServer.broadcast(msg);
  });

  channel.on("close", function () {
    console.log(`ws close channel:${channel.id}`);
  });
});

httpSer.listen(saddr.port, saddr.addr, function () { // httpSer.start()
  console.log(`listening on ws://${saddr.addr}:${(httpSer.address() as { port: number }).port}/`);
});

// EdgerOS's `while (true) { iosched.poll(); }` is gone: the runtime's event loop replaces it.
