// deno-fmt-ignore-file
// deno-lint-ignore-file no-var no-unused-vars
/**
 * The WebSocket server example of the Hop.js documentation
 * (websocket/wsserver.js), with an import instead of Hop.js's globals, and a
 * last statement so that it ends (see below).
 *
 *     HOP_PORT=8080 deno run -A examples/compat/hop/wsserver.ts
 *     HOP_PORT=8080 bun examples/compat/hop/wsserver.ts
 *     HOP_PORT=8080 node npm/examples/compat/hop/wsserver.js   # after the npm build
 *
 * `HOP_PORT` and `HOP_HOSTNAME` say where the shared server listens, as
 * Hop's `-p` option does (8080 on every interface when unset). Run
 * wsclient.ts with the same port as its last argument.
 *
 * @module
 */

import { WebSocketServer } from "../../../src/compat/hop/mod.ts";

var serv = new WebSocketServer( { path: "serv", protocol: "foo" } );

serv.onconnection = function( event ) {
   var ws = event.value;

   console.error( "connection established:", ws.socket );

   ws.onmessage = function( event ) {
      console.log( "server received [%s]", event.data );
   };

   ws.onclose = function( event ) {
      console.log( "client socket closed." );
   }
   
   ws.send( "something" );
};

// Added so that the program ends when its test runs it: once its client has
// gone, the service closes, which stops the shared HTTP server, and nothing
// is left to keep the process alive. A Hop server runs until it is stopped.
// addEventListener leaves the handlers above as they are; its listeners run
// before the `on*` properties.
serv.addEventListener( "connection", function( event ) {
   event.value.addEventListener( "close", function() { serv.close(); } );
} );
