/**
 * `connect` against servers no one here wrote: Deno's and Bun's built-in
 * WebSocket servers, and npm's `ws`.
 *
 * @module
 */

import type { AddressInfo } from "node:net";
import {
  type ForeignServer,
  loadWs,
  PeerScript,
  type Plan,
  PROTOCOL,
  testConnectAgainst,
  type WebSocketLike,
} from "./_exchange.ts";

/** The subprotocol a server picks from a request's offer, which Deno and Bun leave to it. */
function pickProtocol(request: Request): string {
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",");
  return offered.map((protocol) => protocol.trim()).includes(PROTOCOL) ? PROTOCOL : "";
}

/** The slice of Deno's API used here. */
interface DenoServeApi {
  serve(
    options: { hostname: string; port: number; onListen(): void },
    handler: (request: Request) => Response,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  upgradeWebSocket(
    request: Request,
    options: { protocol?: string },
  ): { socket: WebSocketLike; response: Response };
}

const denoServe: ForeignServer = {
  name: "Deno.serve",
  skip: "Deno" in globalThis ? false : "needs Deno",
  start(plan: Plan) {
    const deno = (globalThis as unknown as { Deno: DenoServeApi }).Deno;
    const script = new PeerScript(plan);
    const server = deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const protocol = pickProtocol(request);
      const { socket, response } = deno.upgradeWebSocket(request, protocol ? { protocol } : {});
      // Deno's server socket reports "" as its protocol: the one agreed on is in the 101.
      script.drive(socket, response.headers.get("sec-websocket-protocol") ?? "");
      return response;
    });
    return Promise.resolve({
      port: server.addr.port,
      seen: script.seen,
      stop: () => server.shutdown(),
    });
  },
};

/** The socket Bun's server hands to its `websocket` handlers, reduced to what is used here. */
interface BunServerWebSocket {
  data: { protocol: string; script: PeerScript };
  send(message: string | Uint8Array): number;
  close(code?: number, reason?: string): void;
}

/** The slice of Bun's API used here. */
interface BunServeApi {
  serve(options: {
    hostname: string;
    port: number;
    fetch(
      request: Request,
      server: {
        upgrade(
          request: Request,
          options: { headers: HeadersInit; data: BunServerWebSocket["data"] },
        ): boolean;
      },
    ): Response | undefined;
    websocket: {
      open(ws: BunServerWebSocket): void;
      message(ws: BunServerWebSocket, message: string | Uint8Array): void;
      close(ws: BunServerWebSocket, code: number, reason: string): void;
    };
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> };
}

const bunServe: ForeignServer = {
  name: "Bun.serve",
  skip: "Bun" in globalThis ? false : "needs Bun",
  start(plan: Plan) {
    const bun = (globalThis as unknown as { Bun: BunServeApi }).Bun;
    const script = new PeerScript(plan);
    const server = bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request, server) {
        const protocol = pickProtocol(request);
        const headers: HeadersInit = protocol ? { "Sec-WebSocket-Protocol": protocol } : {};
        if (server.upgrade(request, { headers, data: { protocol, script } })) return undefined;
        return new Response("expected a WebSocket upgrade", { status: 426 });
      },
      websocket: {
        // Bun's server socket has no `protocol`: it is the one the upgrade sent.
        open: (ws) =>
          ws.data.script.open({
            protocol: ws.data.protocol,
            send: (message) => ws.send(message),
            close: (code, reason) => ws.close(code, reason),
          }),
        message: (ws, message) =>
          ws.data.script.message(typeof message === "string" ? message : new Uint8Array(message)),
        // Bun's close handler does not tell whether the close was clean.
        close: (ws, code, reason) => ws.data.script.closed({ code, reason }),
      },
    });
    return Promise.resolve({ port: server.port, seen: script.seen, stop: () => server.stop(true) });
  },
};

const wsServer: ForeignServer = {
  name: "the ws server",
  skip: false,
  async start(plan: Plan) {
    const { WebSocketServer } = loadWs();
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      handleProtocols: (offered) => offered.has(PROTOCOL) ? PROTOCOL : false,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    const script = new PeerScript(plan);
    // Its sockets have the WHATWG events too, with wasClean, which its own events lack.
    server.once("connection", (socket) => script.drive(socket as WebSocketLike));
    return {
      port: (server.address() as AddressInfo).port,
      seen: script.seen,
      stop: () =>
        new Promise<void>((resolve) => {
          for (const client of server.clients) client.terminate();
          server.close(() => resolve());
        }),
    };
  },
};

testConnectAgainst(denoServe);
testConnectAgainst(bunServe);
testConnectAgainst(wsServer);
