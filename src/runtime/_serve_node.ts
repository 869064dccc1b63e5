/**
 * The `mode: "native"` server of {@linkcode serve} on Node: a `node:http`
 * (or `node:https`) server whose `upgrade` requests run through our codec
 * with {@linkcode handleUpgrade}, and whose plain requests go to `fetch` as
 * a `Request`, its `Response` written back.
 *
 * @module
 */

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { HandshakeError } from "../errors.ts";
import { checkUpgradeRequest } from "../handshake/server.ts";
import { DEFAULT_MAX_HEAD_SIZE } from "../handshake/http1.ts";
import type { StartServer } from "../_serve_options.ts";
import type { ServeOptions } from "../serve.ts";
import type { UpgradeInfo } from "../_accept.ts";
import { handleUpgrade } from "./node_upgrade.ts";

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Starts a `node:http` server with the options of `serve`. */
export const startNodeServer: StartServer = async (options, accept) => {
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const secure = options.tls !== undefined;
  const onRequest = (request: IncomingMessage, response: ServerResponse) =>
    answer(request, response, options, secure).catch(onError);
  const settings = { maxHeaderSize: options.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE, ...options.tls };
  const server = secure
    ? createHttpsServer(settings, onRequest)
    : createHttpServer(settings, onRequest);
  if (options.maxHeaders !== undefined) server.maxHeadersCount = options.maxHeaders;
  const handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  // Node wants a request to be allowed at least as long as its head.
  server.requestTimeout = Math.max(server.requestTimeout, handshakeTimeout);
  server.headersTimeout = handshakeTimeout;
  server.on("upgrade", (request: IncomingMessage, socket, head: Uint8Array) => {
    handleUpgrade(request, socket, head, options).then(
      (channel) => channel !== undefined && accept(channel),
      onError,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const listening = () => {
      server.off("error", reject);
      resolve();
    };
    if (options.path !== undefined) server.listen(options.path, listening);
    else server.listen(options.port ?? 0, options.hostname ?? "0.0.0.0", listening);
  });
  const address = server.address();
  const tcp = typeof address === "object" && address !== null ? address as AddressInfo : undefined;
  return {
    hostname: tcp?.address ?? "",
    port: tcp?.port ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
};

/** Answers a request that is not an upgrade: with `fetch`, or with the handshake's refusal. */
async function answer(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  options: ServeOptions,
  secure: boolean,
): Promise<void> {
  const request = toRequest(incoming, secure);
  const info: UpgradeInfo = {
    remoteAddress: {
      transport: "tcp",
      hostname: incoming.socket.remoteAddress ?? "",
      port: incoming.socket.remotePort ?? 0,
    },
  };
  let response: Response;
  try {
    response = options.fetch === undefined ? refusal(request) : await options.fetch(request, info);
  } catch (error) {
    outgoing.writeHead(500).end();
    throw error;
  }
  await writeResponse(response, outgoing);
}

/** The refusal a request that is not a valid upgrade gets, 426 for a plain one. */
function refusal(request: Request): Response {
  try {
    checkUpgradeRequest(request);
  } catch (error) {
    if (error instanceof HandshakeError) return error.toResponse();
    throw error;
  }
  // A valid upgrade arrives through the upgrade event, never here.
  return new Response(null, { status: 400 });
}

function toRequest(incoming: IncomingMessage, secure: boolean): Request {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const url = new URL(
    incoming.url ?? "/",
    `${secure ? "https" : "http"}://${headers.get("host") ?? "localhost"}`,
  );
  const method = incoming.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    ...(hasBody
      ? { body: Readable.toWeb(incoming) as ReadableStream<Uint8Array>, duplex: "half" }
      : {}),
  } as RequestInit);
}

/** Writes a `Response` out, waiting for the socket to drain as the body streams. */
async function writeResponse(response: Response, outgoing: ServerResponse): Promise<void> {
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") outgoing.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outgoing.setHeader("set-cookie", cookies);
  outgoing.writeHead(response.status, response.statusText);
  if (response.body === null) {
    outgoing.end();
    return;
  }
  for await (const chunk of response.body) {
    if (!outgoing.write(chunk)) {
      await new Promise<void>((resolve) => {
        outgoing.once("drain", resolve);
        outgoing.once("close", resolve);
      });
    }
    if (outgoing.destroyed) return;
  }
  outgoing.end();
}
