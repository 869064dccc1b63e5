/**
 * The client example of the Eclipse Dirigible documentation's WebSocket
 * page: it connects, sends "hello", and closes, with `my-project/ws-handler`
 * logging the events.
 *
 *     deno run -A examples/compat/dirigible/client.ts ws://127.0.0.1:8080/websockets/v4/service/my-endpoint
 *     bun examples/compat/dirigible/client.ts URI
 *     node npm/examples/compat/dirigible/client.js URI   # after the npm build
 *
 * The URI is the first argument; by default, the `my-endpoint` endpoint of
 * the server example on port 8080 (upstream's `ws://echo.websocket.org`
 * echo service is gone). Everything runs at once, as upstream: the message
 * and the close wait for the connection to open. The handler prints
 * `Connection openned.` on stdout, then `Connection closed.` on stderr, or
 * `Error: ...` first when the connection fails.
 *
 * @module
 */

import process from "node:process";
import * as websockets from "../../../src/compat/dirigible/mod.ts";

const uri = process.argv[2] ?? "ws://127.0.0.1:8080/websockets/v4/service/my-endpoint";
// Upstream names the handler by its path in the registry, "my-project/ws-handler";
// that path works too when run from this directory. The handler's URL works from anywhere.
const handler = new URL("my-project/ws-handler", import.meta.url).href;

function initialize() {
  console.log("Connect to: " + uri);
  const websocket = websockets.createWebsocket(uri, handler);
  websocket.send("hello");
}

initialize();

websockets.getClientByHandler(handler)?.close();
