// deno-fmt-ignore-file
// deno-lint-ignore-file no-var no-unused-vars
/**
 * The WebSocket client example of the Hop.js documentation
 * (websocket/wsclient.js), with imports instead of Hop.js's globals, and a
 * last statement so that it ends (see below). The port of the server is its
 * last argument:
 *
 *     deno run -A examples/compat/hop/wsclient.ts 8080
 *     bun examples/compat/hop/wsclient.ts 8080
 *     node npm/examples/compat/hop/wsclient.js 8080   # after the npm build
 *
 * @module
 */

import process from "node:process";
import { WebSocket } from "../../../src/compat/hop/mod.ts";

// @ts-expect-error: the last argument may be missing; parseInt then gives NaN, as in Hop.js.
var port = parseInt( process.argv[ process.argv.length - 1 ] );
var ws = new WebSocket( "ws://localhost:" + port + "/hop/serv", [ "bar", "foo" ] );

console.error( "ws=", "ws://localhost:" + port + "/hop/serv" );

ws.onopen = function( event ) {
   this.send( "toto n'est pas content" );
   this.send( "tutu non plus" );
};

ws.onmessage = function( event ) {
   console.log( "client received [%s]", event.data );
};

ws.onclose = function( event ) {
   console.error( "client websocket closed." );
}

// Added so that the program ends when its test runs it: the connection closes
// once the server's message has arrived (after the two messages above, which
// go out first), and nothing is left to keep the process alive. The Hop.js
// example keeps its connection open. addEventListener leaves the handlers
// above as they are.
ws.addEventListener( "message", function() { this.close(); } );
