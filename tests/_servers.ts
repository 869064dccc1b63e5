/**
 * Servers shared by the tests that talk over TCP: one of our own on
 * 127.0.0.1, a raw one answered by hand, and the timing helpers they use.
 *
 * @module
 */

import { createServer, type Server, type Socket } from "node:net";
import { listen, type ListenOptions, type ServerChannel } from "../mod.ts";
import type { CloseInfo } from "../src/protocol/connection.ts";
import { computeAcceptKey } from "../src/handshake/mod.ts";

/** How long, in milliseconds, a test waits for something before it fails. */
export const WAIT = 5000;

/**
 * Rejects when `promise` has not settled within `ms`, naming what was awaited.
 *
 * @param promise What to wait for.
 * @param what What it is, for the error message.
 * @param ms How long to wait.
 * @returns What `promise` settles with.
 */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms How long.
 * @returns A promise of nothing in particular.
 */
export const delay = (ms: number): Promise<unknown> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** A server started by {@linkcode serve}. */
export interface Loopback {
  /** The `ws:` URL it listens on. */
  url: string;
  /** The server side of each connection, in order of arrival. */
  channels: ServerChannel[];
  /** The next server connection. */
  nextChannel(): Promise<ServerChannel>;
  /** How each server connection ended, in order of arrival. */
  closes: Promise<CloseInfo>[];
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * A server of our own on 127.0.0.1.
 *
 * @param handler Called with each connection; defaults to an echo.
 * @param options Options for `listen`, over the host, port and a silent `onError`.
 * @returns The running server.
 */
export async function serve(
  handler: (channel: ServerChannel) => void = (channel) => {
    channel.readable.pipeTo(channel.writable).catch(() => {});
  },
  options: Partial<ListenOptions> = {},
): Promise<Loopback> {
  const channels: ServerChannel[] = [];
  const closes: Promise<CloseInfo>[] = [];
  const waiting: ((channel: ServerChannel) => void)[] = [];
  const server = await listen(
    { hostname: "127.0.0.1", port: 0, onError: () => {}, ...options },
    (channel) => {
      channels.push(channel);
      closes.push(channel.closed);
      waiting.shift()?.(channel);
      handler(channel);
    },
  );
  return {
    url: `ws://127.0.0.1:${server.port}`,
    channels,
    closes,
    nextChannel: () => within(new Promise((resolve) => waiting.push(resolve)), "server connection"),
    close: () => server.close(),
  };
}

/** A server started by {@linkcode rawServer}. */
export interface RawServer {
  /** The `ws:` URL it listens on. */
  url: string;
  /** Destroys every connection and stops the server. */
  close(): Promise<void>;
}

/**
 * A raw TCP server on 127.0.0.1 whose every connection `respond` answers by
 * hand, once the request head is in; whatever comes after the head is ignored.
 *
 * @param respond Called once a connection, with the request head as latin1 text.
 * @returns The running server.
 */
export async function rawServer(
  respond: (socket: Socket, request: string) => void | Promise<void>,
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    let request = "";
    socket.on("data", (chunk) => {
      if (request.includes("\r\n\r\n")) return;
      request += chunk.toString("latin1");
      if (request.includes("\r\n\r\n")) respond(socket, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The `Sec-WebSocket-Key` of a request head.
 *
 * @param request The request head.
 * @returns The key, or `""` when there is none.
 */
export function keyOf(request: string): string {
  return /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? "";
}

/**
 * A 101 response head that accepts `request`.
 *
 * @param request The request head.
 * @param extra More header lines, each ending in CRLF.
 * @returns The response head, blank line included.
 */
export async function switching(request: string, extra = ""): Promise<string> {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${await computeAcceptKey(keyOf(request))}\r\n${extra}\r\n`;
}

/**
 * A {@linkcode rawServer} that completes the handshake, then lets `after` do
 * anything to the socket.
 *
 * @param after Called with each socket once the 101 is written.
 * @returns The running server.
 */
export function handshakeThen(after: (socket: Socket) => void): Promise<RawServer> {
  return rawServer(async (socket, request) => {
    socket.write(await switching(request));
    after(socket);
  });
}
