/**
 * EdgerOS's "Asynchronous Example" client: once connected, it sends
 * `client count: N` every 2 seconds, 100 times, then closes; it closes
 * early when the server sends `close`.
 *
 *     deno run -A examples/compat/edgeros/client_async.ts [URL]
 *     bun examples/compat/edgeros/client_async.ts [URL]
 *     node npm/examples/compat/edgeros/client_async.js [URL]   # after the npm build
 *
 * It connects to URL, by default EdgerOS's example's
 * `ws://192.168.7.32:8000/`. With `async: true`, `createClient()` returns a
 * promise of the connected client, and `open` follows once the `then()`
 * callback has added its listener.
 *
 * @module
 */
// deno-lint-ignore-file no-var -- the code below is EdgerOS's, as written.

import process from "node:process";
import { WsClient } from "../../../src/compat/edgeros/mod.ts";

var count = 0;
var timer: ReturnType<typeof setInterval> | null = null;

function loop(client: WsClient) {
  console.log("client loop");
  if (count < 100) {
    client.send(`client count: ${count++}`);
  } else {
    client.close();
  }
}

WsClient.createClient(process.argv[2] ?? "ws://192.168.7.32:8000/", { async: true }).then(
  (client) => {
    client.on("message", function (msg) {
      console.log("ws recv message:", msg);
      if (msg === "close") {
        client.close();
      }
    });

    client.on("close", function () {
      console.log("ws close channel");
      if (timer) {
        clearInterval(timer);
        timer = null;
      }
    });

    client.on("open", function () {
      console.log("ws open channel");
      timer = setInterval(loop, 2000, client);
    });
  },
).catch((err) => {
  console.error(err.message);
});

// EdgerOS's `while (true) { iosched.poll(); }` is gone: the runtime's event loop replaces it.
