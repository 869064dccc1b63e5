/**
 * EdgerOS's "Create websocket server from WebApp server" example, on a web
 * app started with `serve()`: plain HTTP requests get a line of text, and
 * every message a WebSocket client sends at `/` goes to every client.
 *
 *     deno run -A examples/compat/edgeros/server_from_webapp.ts [PORT [ADDR]]
 *     bun examples/compat/edgeros/server_from_webapp.ts [PORT [ADDR]]
 *     node npm/examples/compat/edgeros/server_from_webapp.js [PORT [ADDR]]   # after the npm build
 *
 * It listens on ADDR:PORT, by default `socket.INADDR_ANY` and 8000 as in
 * EdgerOS's example; PORT 0 picks a free one. EdgerOS's `WebApp` becomes an
 * object of `serve()` options: `fetch` answers the HTTP requests
 * `app.all('/', ...)` answered, `WsServer.createServer('/', app)` adds the
 * hooks that hand it the upgrades to `/`, and `serve(app)` starts it as
 * `app.start()` did. The app has no group, so the name EdgerOS gives it,
 * `ws_from_web`, is written out. Beyond the example, it prints
 * `listening on ws://ADDR:PORT/` once it listens.
 *
 * @module
 */
// deno-lint-ignore-file no-var no-unused-vars -- the code below is EdgerOS's, as written.

import process from "node:process";
import { serve, type ServeOptions } from "../../../mod.ts";
import { socket, type WebApp, WsServer } from "../../../src/compat/edgeros/mod.ts";

var saddr = socket.sockaddr(process.argv[3] ?? socket.INADDR_ANY, Number(process.argv[2] ?? 8000));
var app: WebApp & { hostname: string; port: number } = {
  hostname: saddr.addr, // WebApp.create('./ws_from_web', 0, saddr)
  port: saddr.port,
  fetch: function (req) { // app.all('/', function(req, res) { ... })
    return new Response("This is websocket server, rejust http request.");
  },
};

var wsServer = WsServer.createServer("/", app);

wsServer.on("connection", function (channel) {
  var info = `ws open, server=ws_from_web, channel=${channel.id}.`;
  console.log(info);
  channel.send(info);

  channel.on("message", function (msg) {
    console.log(`ws recv message, ${channel.id}`);
    wsServer.broadcast(msg);
  });

  channel.on("close", function () {
    console.log(` ws close channel:${channel.id}`);
  });
});

// app.start(): createServer() above gave the app its onConnection.
var server = await serve(app as ServeOptions);
console.log(`listening on ws://${saddr.addr}:${server.port}/`);

// EdgerOS's `while (true) { iosched.poll(); }` is gone: the runtime's event loop replaces it.
