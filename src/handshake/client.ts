/**
 * The client side of the opening handshake (RFC 6455 §4.1):
 * {@linkcode createUpgradeRequest} builds the request head to write, and
 * {@linkcode checkUpgradeResponse} validates the server's answer.
 *
 * @module
 */

import { HandshakeError } from "../errors.ts";
import { computeAcceptKey, generateKey } from "./accept_key.ts";
import { describeStatus, describeValue, encodeHead, fieldLines } from "./_http.ts";
import { hasToken, isToken, parseExtensionList, splitList } from "./_header_values.ts";

/** Options of {@linkcode createUpgradeRequest}. */
export interface CreateUpgradeRequestOptions {
  /**
   * The subprotocols to offer, most preferred first, as the `WebSocket`
   * constructor takes them.
   *
   * @default {[]}
   */
  protocols?: string | string[];
  /**
   * The `Origin` to send, such as `"https://example.com"`; absent sends none,
   * as a client that is not a browser may (RFC 6455 §4.1).
   *
   * @default {undefined}
   */
  origin?: string;
  /**
   * More request headers, such as `Authorization` or `Cookie`. They may not
   * set the headers the handshake sets, nor `Content-Length` or
   * `Transfer-Encoding`: the request has no body.
   *
   * @default {{}}
   */
  headers?: HeadersInit;
  /**
   * The `Sec-WebSocket-Extensions` offer to send, such as
   * `"permessage-deflate; client_max_window_bits"`; absent or `""` offers none.
   *
   * @default {""}
   */
  extensions?: string;
}

/** An upgrade request, ready to write, and what checking its answer needs. */
export interface UpgradeRequest {
  /** The URL to connect to, with its scheme `ws:` or `wss:` (which says whether to use TLS). */
  url: URL;
  /** The `Sec-WebSocket-Key` sent; pass it to {@linkcode checkUpgradeResponse}. */
  key: string;
  /** The subprotocols offered; pass them to {@linkcode checkUpgradeResponse}. */
  protocols: string[];
  /** The extensions offered, `""` for none; pass them to {@linkcode checkUpgradeResponse}. */
  extensions: string;
  /** The whole request head, request line to empty line. */
  head: Uint8Array;
}

// Set by the handshake, or meaningless on a request without body.
const REQUEST_HEADERS_SET = new Set([
  "host",
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  "content-length",
  "transfer-encoding",
]);

/**
 * Builds a client's opening handshake (RFC 6455 §4.1) with a fresh key. The
 * URL is checked as the `WebSocket` constructor checks it: `http:` and
 * `https:` become `ws:` and `wss:`, another scheme or a fragment is refused.
 * The head holds the path and query, `Host` (with the port unless it is the
 * scheme's default), `Upgrade`, `Connection`, `Sec-WebSocket-Key`,
 * `Sec-WebSocket-Version: 13`, then `Sec-WebSocket-Protocol` when offering
 * some, `Origin` when given, and `options.headers`. User information in the
 * URL is not sent.
 *
 * @param url The `ws:`, `wss:`, `http:` or `https:` URL to connect to.
 * @param options The subprotocols to offer, the origin and more headers.
 * @returns The URL, the key, the offered subprotocols and the head bytes.
 * @throws {DOMException} A `SyntaxError`, as the `WebSocket` constructor throws,
 * when the URL cannot be parsed, has another scheme or a fragment, or when a
 * subprotocol is not a token or is offered twice.
 * @throws {TypeError} When `origin` or `headers` is not a valid header, or
 * `headers` sets a header the handshake sets.
 *
 * @example Opening a chat connection
 * ```ts
 * import { createUpgradeRequest } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const request = createUpgradeRequest("wss://example.com:8443/chat?room=1", {
 *   protocols: ["chat", "superchat"],
 * });
 * assert.equal(request.url.protocol, "wss:");
 * assert.equal(
 *   new TextDecoder().decode(request.head),
 *   "GET /chat?room=1 HTTP/1.1\r\n" +
 *     "Host: example.com:8443\r\n" +
 *     "Upgrade: websocket\r\n" +
 *     "Connection: Upgrade\r\n" +
 *     `Sec-WebSocket-Key: ${request.key}\r\n` +
 *     "Sec-WebSocket-Version: 13\r\n" +
 *     "Sec-WebSocket-Protocol: chat, superchat\r\n" +
 *     "\r\n",
 * );
 * ```
 *
 * @example A fragment is refused, as browsers refuse it
 * ```ts
 * import { createUpgradeRequest } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => createUpgradeRequest("ws://example.com/#top"),
 *   (error) => error instanceof DOMException && error.name === "SyntaxError",
 * );
 * ```
 */
export function createUpgradeRequest(
  url: URL | string,
  options: CreateUpgradeRequestOptions = {},
): UpgradeRequest {
  const target = parseWebSocketUrl(url);
  const protocols = checkProtocols(options.protocols);
  const extra = new Headers(options.headers);
  for (const name of extra.keys()) {
    if (REQUEST_HEADERS_SET.has(name) || (name === "origin" && options.origin !== undefined)) {
      throw new TypeError(
        `Cannot create upgrade request: header ${name} is reserved by the handshake`,
      );
    }
  }
  const key = generateKey();
  // The handshake's own fields first, in the order of RFC 6455 §1.2.
  const fields: [string, string][] = [
    ["Host", target.host],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", key],
    ["Sec-WebSocket-Version", "13"],
  ];
  if (protocols.length > 0) fields.push(["Sec-WebSocket-Protocol", protocols.join(", ")]);
  const extensions = (options.extensions ?? "").trim();
  if (extensions !== "") {
    parseExtensionList(extensions, (detail) => {
      throw new TypeError(
        `Cannot create upgrade request: extensions ${
          JSON.stringify(extensions)
        } is malformed: ${detail}`,
      );
    });
    fields.push(["Sec-WebSocket-Extensions", extensions]);
  }
  if (options.origin !== undefined) {
    // Through Headers, so the origin is checked and trimmed as the extras are.
    fields.push(["Origin", new Headers({ Origin: options.origin }).get("origin")!]);
  }
  const lines = [...fields.map(([name, value]) => `${name}: ${value}`), ...fieldLines(extra)];
  return {
    url: target,
    key,
    protocols,
    extensions,
    head: encodeHead(`GET ${target.pathname}${target.search} HTTP/1.1`, lines),
  };
}

/**
 * A server's answer as a raw client reads it: the `ResponseHead` that
 * `ResponseHeadParser` gives fits.
 */
export interface UpgradeResponseLike {
  /** The status code. */
  status: number;
  /** The header fields. */
  headers: Headers;
  /** The HTTP version of the status line, such as `"HTTP/1.1"`; not checked when absent. */
  version?: string;
  /** The reason phrase, used in the error message for a status other than 101. */
  statusText?: string;
}

/** Options of {@linkcode checkUpgradeResponse}: what the request sent. */
export interface CheckUpgradeResponseOptions {
  /** The `Sec-WebSocket-Key` the request sent. */
  key: string;
  /**
   * The subprotocols the request offered.
   *
   * @default {[]}
   */
  protocols?: string | string[];
  /**
   * The `Sec-WebSocket-Extensions` offer the request sent.
   *
   * @default {""}
   */
  extensions?: string;
}

/** What the server accepted, in the form `WebSocketStream` reports it. */
export interface UpgradeResponseInfo {
  /** The subprotocol the server chose; `""` when none. */
  protocol: string;
  /** The `Sec-WebSocket-Extensions` the server answered with; `""` when none. */
  extensions: string;
}

/**
 * Validates a server's answer to the opening handshake (RFC 6455 §4.1): the
 * status is 101; `Upgrade` is `websocket` and `Connection` lists `upgrade`,
 * both ASCII case-insensitive; `Sec-WebSocket-Accept` matches the key sent; a
 * chosen subprotocol is one that was offered; no extension is accepted that
 * was not offered (the parameters of an accepted extension are for the
 * extension to check). A 101 has no body, so any
 * `Content-Length` on it is ignored.
 *
 * @param response The status and headers of the answer, as `ResponseHeadParser` reads them.
 * @param options The key and the subprotocols the request sent.
 * @returns The chosen subprotocol and the accepted extensions.
 * @throws {HandshakeError} With the server's status when it is not 101: the
 * caller still holds the bytes after the head, should it want the body. With
 * 502, the status a gateway answers with, when a 101 is not a valid handshake.
 *
 * @example Checking the RFC 6455 §1.3 answer
 * ```ts
 * import { checkUpgradeResponse } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const response = {
 *   status: 101,
 *   headers: new Headers({
 *     Upgrade: "websocket",
 *     Connection: "Upgrade",
 *     "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
 *     "Sec-WebSocket-Protocol": "chat",
 *   }),
 * };
 * const info = await checkUpgradeResponse(response, {
 *   key: "dGhlIHNhbXBsZSBub25jZQ==",
 *   protocols: ["chat", "superchat"],
 * });
 * assert.deepEqual(info, { protocol: "chat", extensions: "" });
 * ```
 *
 * @example A server that refuses carries its status
 * ```ts
 * import { checkUpgradeResponse, HandshakeError } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   checkUpgradeResponse({ status: 403, headers: new Headers() }, { key: "dGhlIHNhbXBsZSBub25jZQ==" }),
 *   (error) => error instanceof HandshakeError && error.status === 403,
 * );
 * ```
 */
export async function checkUpgradeResponse(
  response: UpgradeResponseLike,
  options: CheckUpgradeResponseOptions,
): Promise<UpgradeResponseInfo> {
  const fail = (detail: string, status = 502) =>
    new HandshakeError(`Cannot open connection: ${detail}`, { status });
  const { status, headers } = response;
  if (status !== 101) {
    const valid = Number.isInteger(status) && status >= 100 && status <= 599;
    throw fail(
      `server answered ${describeStatus(status, response.statusText)}, not 101 Switching Protocols`,
      valid ? status : 502,
    );
  }
  if (response.version !== undefined && !/^HTTP\/1\.[1-9]$/.test(response.version)) {
    throw fail(`HTTP version is ${response.version}, expected HTTP/1.1`);
  }
  // RFC 6455 §4.1: Upgrade must be websocket, nothing else.
  const upgrade = headers.get("upgrade");
  const upgrades = upgrade === null ? [] : splitList(upgrade).filter((element) => element !== "");
  if (upgrades.length !== 1 || upgrades[0]!.toLowerCase() !== "websocket") {
    throw fail(`Upgrade is ${describeValue(upgrade)}, expected websocket`);
  }
  const connection = headers.get("connection");
  if (!hasToken(connection, "upgrade")) {
    throw fail(`Connection is ${describeValue(connection)}, it must list upgrade`);
  }
  const accept = headers.get("sec-websocket-accept");
  if (accept === null) throw fail("Sec-WebSocket-Accept is missing");
  const expected = await computeAcceptKey(options.key);
  if (accept !== expected) {
    throw fail(
      `Sec-WebSocket-Accept is ${JSON.stringify(accept)}, expected ${JSON.stringify(expected)}`,
    );
  }
  const offered = typeof options.protocols === "string"
    ? [options.protocols]
    : options.protocols ?? [];
  const protocol = headers.get("sec-websocket-protocol");
  if (protocol !== null && !offered.includes(protocol)) {
    throw fail(
      offered.length === 0
        ? `server chose subprotocol ${JSON.stringify(protocol)}, but none was offered`
        : `server chose subprotocol ${JSON.stringify(protocol)}, which was not offered`,
    );
  }
  const extensionValue = headers.get("sec-websocket-extensions");
  const extensions = extensionValue === null ? [] : parseExtensionList(extensionValue, (detail) => {
    throw fail(`Sec-WebSocket-Extensions is malformed: ${detail}`);
  });
  // RFC 6455 §9.1: a server answers only with extensions the client offered.
  const offeredExtensions = parseExtensionList(options.extensions ?? "", (detail) => {
    throw new TypeError(
      `Cannot check upgrade response: the extensions offered are malformed: ${detail}`,
    );
  });
  for (const { name } of extensions) {
    if (!offeredExtensions.some((extension) => extension.name === name)) {
      throw fail(`server accepted extension ${name}, which was not offered`);
    }
  }
  return {
    protocol: protocol ?? "",
    extensions: extensions.length > 0 ? extensionValue!.trim() : "",
  };
}

/**
 * Parses a WebSocket URL as the `WebSocket` constructor does (WHATWG
 * WebSockets, "new WebSocket(url, protocols)").
 */
function parseWebSocketUrl(input: URL | string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new DOMException(
      `Cannot create upgrade request: ${JSON.stringify(String(input))} is not a URL`,
      "SyntaxError",
    );
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new DOMException(
      `Cannot create upgrade request: scheme ${url.protocol} is not ws:, wss:, http: or https:`,
      "SyntaxError",
    );
  }
  // An empty fragment leaves `hash` empty but still shows as "#" in `href`,
  // the only place a bare "#" can be.
  if (url.href.includes("#")) {
    throw new DOMException(
      `Cannot create upgrade request: ${url.href} has a fragment`,
      "SyntaxError",
    );
  }
  return url;
}

/** Checks subprotocols to offer as the `WebSocket` constructor does: tokens, none twice. */
function checkProtocols(input: string | string[] | undefined): string[] {
  const protocols = typeof input === "string" ? [input] : [...(input ?? [])];
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) {
      throw new DOMException(
        `Cannot create upgrade request: subprotocol ${JSON.stringify(protocol)} is not a token`,
        "SyntaxError",
      );
    }
    if (seen.has(protocol)) {
      throw new DOMException(
        `Cannot create upgrade request: subprotocol ${JSON.stringify(protocol)} is offered twice`,
        "SyntaxError",
      );
    }
    seen.add(protocol);
  }
  return protocols;
}
