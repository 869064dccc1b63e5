/**
 * The server side of the opening handshake (RFC 6455 §4.2):
 * {@linkcode checkUpgradeRequest} validates a client's request and chooses a
 * subprotocol, {@linkcode createUpgradeResponse} builds the 101 answer, and
 * {@linkcode encodeRejection} turns a refusal into bytes for a raw server.
 *
 * @module
 */

import { HandshakeError } from "../errors.ts";
import { computeAcceptKey } from "./accept_key.ts";
import { describeStatus, describeValue, encodeHead, fieldLines, reasonPhrase } from "./_http.ts";
import { hasToken, parseExtensionList, parseProtocolList } from "./_header_values.ts";

/**
 * A request as a raw server reads it: the `RequestHead` that
 * `RequestHeadParser` gives fits, and so does `{ method, url, headers }`.
 */
export interface UpgradeRequestLike {
  /** The method, case-sensitive. */
  method: string;
  /** The header fields. */
  headers: Headers;
  /**
   * The HTTP version of the request line, such as `"HTTP/1.1"`; when absent,
   * as for a `Request`, the runtime's server has already checked it.
   */
  version?: string;
}

/** One extension parameter of `Sec-WebSocket-Extensions` (RFC 6455 §9.1). */
export interface ExtensionParam {
  /** The parameter name: `"client_max_window_bits"`. */
  name: string;
  /** The value, unquoted; absent for a parameter without one. */
  value?: string;
}

/** One extension of `Sec-WebSocket-Extensions` (RFC 6455 §9.1), with its parameters in order. */
export interface Extension {
  /** The extension name: `"permessage-deflate"`. */
  name: string;
  /** The parameters, in the order sent; a name may repeat. */
  params: ExtensionParam[];
}

/** Options of {@linkcode checkUpgradeRequest}. */
export interface CheckUpgradeRequestOptions<R> {
  /**
   * Chooses the subprotocol from those the client offered, in the client's
   * order of preference; `undefined` chooses none. It is called only when the
   * client offered at least one. It may throw a {@linkcode HandshakeError} to
   * refuse the request.
   *
   * @default {() => undefined}
   */
  selectProtocol?: (offered: string[], request: R) => string | undefined;
}

/** What a valid upgrade request asked for, and the subprotocol chosen. */
export interface UpgradeRequestInfo {
  /** The `Sec-WebSocket-Key`, from which the accept key is computed. */
  key: string;
  /** The subprotocols the client offered, in its order; empty when it offered none. */
  protocols: string[];
  /** The subprotocol chosen by `selectProtocol`; `""` when none, as `WebSocket.protocol` has it. */
  protocol: string;
  /** The extensions the client offered, in its order; empty when it offered none. */
  extensions: Extension[];
}

const KEY = /^[A-Za-z0-9+/]{22}==$/;
// RFC 3986 §3.2.2-3.2.3: host [ ":" port ], host an IP literal or a reg-name
// (IPv4 addresses are reg-names too).
const HOST = /^(?:\[[0-9A-Za-z\-._~!$&'()*+,;=:%]+\]|[0-9A-Za-z\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/;
const HTTP_VERSION = /^HTTP\/([0-9])\.([0-9])$/;

/**
 * Validates a client's opening handshake (RFC 6455 §4.2.1) and chooses a
 * subprotocol. The checks, in order: the method is `GET`; the version is
 * HTTP/1.1; `Upgrade` lists `websocket` and `Connection` lists `upgrade`
 * (both ASCII case-insensitive token lists); `Host` is present and valid;
 * there is no body; `Sec-WebSocket-Key` is base64 of 16 bytes;
 * `Sec-WebSocket-Version` is 13; `Sec-WebSocket-Protocol` is a list of
 * distinct tokens; `Sec-WebSocket-Extensions` is well formed. `Origin` is
 * not checked: whether to serve a page's origin is the application's call.
 *
 * @typeParam R The request type, handed on to `selectProtocol`.
 * @param request A `Request` from a runtime's server, or a head read from raw TCP.
 * @param options The subprotocol choice.
 * @returns The key, the offers, and the chosen subprotocol.
 * @throws {HandshakeError} On the first check that fails: 405 with `Allow: GET`
 * for another method, 505 for another major HTTP version, 426 with
 * `Upgrade: websocket` when `Upgrade` does not list `websocket`, 426 with
 * `Sec-WebSocket-Version: 13` for a missing or other version, 400 for the rest.
 * @throws {TypeError} When `selectProtocol` returns a subprotocol the client did not offer.
 *
 * @example Accepting the RFC 6455 §1.2 request
 * ```ts
 * import { checkUpgradeRequest } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const request = new Request("http://server.example.com/chat", {
 *   headers: {
 *     Host: "server.example.com",
 *     Upgrade: "websocket",
 *     Connection: "Upgrade",
 *     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     Origin: "http://example.com",
 *     "Sec-WebSocket-Protocol": "chat, superchat",
 *     "Sec-WebSocket-Version": "13",
 *   },
 * });
 * const info = checkUpgradeRequest(request, {
 *   selectProtocol: (offered) => offered.find((protocol) => protocol === "chat"),
 * });
 * assert.equal(info.key, "dGhlIHNhbXBsZSBub25jZQ==");
 * assert.deepEqual(info.protocols, ["chat", "superchat"]);
 * assert.equal(info.protocol, "chat");
 * ```
 *
 * @example Refusing an unsupported version with 426
 * ```ts
 * import { checkUpgradeRequest, HandshakeError } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const headers = new Headers({
 *   Host: "example.com",
 *   Upgrade: "websocket",
 *   Connection: "Upgrade",
 *   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
 *   "Sec-WebSocket-Version": "8",
 * });
 * assert.throws(
 *   () => checkUpgradeRequest({ method: "GET", url: "/", headers }),
 *   (error) =>
 *     error instanceof HandshakeError && error.status === 426 &&
 *     error.headers.get("Sec-WebSocket-Version") === "13" &&
 *     error.message === "Cannot upgrade request: Sec-WebSocket-Version is 8, only 13 is supported",
 * );
 * ```
 */
export function checkUpgradeRequest<R extends Request | UpgradeRequestLike>(
  request: R,
  options: CheckUpgradeRequestOptions<R> = {},
): UpgradeRequestInfo {
  const offer = readOffer(request);
  let protocol = "";
  if (offer.protocols.length > 0 && options.selectProtocol !== undefined) {
    const selected = options.selectProtocol([...offer.protocols], request);
    if (selected !== undefined) {
      // A choice outside the offer is the server's bug, not the client's.
      if (!offer.protocols.includes(selected)) {
        throw new TypeError(
          `Cannot upgrade request: selectProtocol returned ${
            JSON.stringify(selected)
          }, which the client did not offer`,
        );
      }
      protocol = selected;
    }
  }
  return { ...offer, protocol };
}

/** Options of {@linkcode createUpgradeResponse}. */
export interface CreateUpgradeResponseOptions {
  /**
   * The subprotocol to accept, one the client offered; `""` or absent accepts none.
   *
   * @default {""}
   */
  protocol?: string;
  /**
   * The `Sec-WebSocket-Extensions` value to answer with, naming only
   * extensions the client offered (RFC 6455 §9.1); `""` or absent accepts none.
   *
   * @default {""}
   */
  extensions?: string;
  /**
   * More headers for the 101 response, such as `Set-Cookie`. They may not
   * set the headers the handshake sets, nor `Content-Length` or
   * `Transfer-Encoding`, which a 101 cannot carry (RFC 9110 §8.6).
   *
   * @default {{}}
   */
  headers?: HeadersInit;
}

/** The 101 answer to an upgrade request, ready to write. */
export interface UpgradeResponse {
  /** The response's headers, the handshake's first. */
  headers: Headers;
  /** The whole response head, status line to empty line, to write before any frame. */
  head: Uint8Array;
  /** The accepted subprotocol; `""` when none. */
  protocol: string;
  /** The accepted extensions, as sent in `Sec-WebSocket-Extensions`; `""` when none. */
  extensions: string;
}

// Set by the handshake, or not allowed on a 101 (RFC 9110 §8.6, §6.1).
const RESPONSE_HEADERS_SET = new Set([
  "upgrade",
  "connection",
  "sec-websocket-accept",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  "content-length",
  "transfer-encoding",
]);

/**
 * Builds the server's 101 answer to an upgrade request (RFC 6455 §4.2.2):
 * `Upgrade: websocket`, `Connection: Upgrade`, `Sec-WebSocket-Accept`, then
 * `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` when accepting
 * some, then `options.headers`. It checks the request again, as
 * {@linkcode checkUpgradeRequest} does, so that no invalid request is ever
 * accepted. It is asynchronous because `crypto.subtle` hashes the key.
 *
 * @param request The request, as given to {@linkcode checkUpgradeRequest}.
 * @param options The accepted subprotocol and extensions, and more headers.
 * @returns The headers and the head bytes to write.
 * @throws {HandshakeError} When the request is not a valid upgrade, as
 * {@linkcode checkUpgradeRequest} throws.
 * @throws {TypeError} When `protocol` or an extension was not offered, `extensions`
 * is malformed, or `headers` sets a header the handshake sets.
 *
 * @example Answering the RFC 6455 §1.2 request
 * ```ts
 * import { checkUpgradeRequest, createUpgradeResponse } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const request = {
 *   method: "GET",
 *   url: "/chat",
 *   headers: new Headers({
 *     Host: "server.example.com",
 *     Upgrade: "websocket",
 *     Connection: "Upgrade",
 *     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "Sec-WebSocket-Protocol": "chat, superchat",
 *     "Sec-WebSocket-Version": "13",
 *   }),
 * };
 * const { protocol } = checkUpgradeRequest(request, { selectProtocol: ([first]) => first });
 * const response = await createUpgradeResponse(request, { protocol });
 * assert.equal(
 *   new TextDecoder().decode(response.head),
 *   "HTTP/1.1 101 Switching Protocols\r\n" +
 *     "Upgrade: websocket\r\n" +
 *     "Connection: Upgrade\r\n" +
 *     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
 *     "Sec-WebSocket-Protocol: chat\r\n" +
 *     "\r\n",
 * );
 * ```
 */
export async function createUpgradeResponse(
  request: Request | UpgradeRequestLike,
  options: CreateUpgradeResponseOptions = {},
): Promise<UpgradeResponse> {
  const offer = readOffer(request);
  const protocol = options.protocol ?? "";
  if (protocol !== "" && !offer.protocols.includes(protocol)) {
    throw new TypeError(
      `Cannot create upgrade response: subprotocol ${
        JSON.stringify(protocol)
      } was not offered by the client`,
    );
  }
  const extensions = (options.extensions ?? "").replace(/^[ \t]+|[ \t]+$/g, "");
  const offeredNames = new Set(offer.extensions.map((extension) => extension.name));
  const accepted = parseExtensionList(extensions, (detail) => {
    throw new TypeError(
      `Cannot create upgrade response: extensions ${
        JSON.stringify(extensions)
      } is malformed: ${detail}`,
    );
  });
  for (const { name } of accepted) {
    // RFC 6455 §9.1: the server answers only with extensions the client offered.
    if (!offeredNames.has(name)) {
      throw new TypeError(
        `Cannot create upgrade response: extension ${name} was not offered by the client`,
      );
    }
  }
  const extra = new Headers(options.headers);
  for (const name of extra.keys()) {
    if (RESPONSE_HEADERS_SET.has(name)) {
      throw new TypeError(
        `Cannot create upgrade response: header ${name} is reserved by the handshake`,
      );
    }
  }
  // Listed here rather than taken from a Headers, which iterates in name order:
  // the handshake's own fields come first, in the order of RFC 6455 §1.3.
  const fields: [string, string][] = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", await computeAcceptKey(offer.key)],
  ];
  if (protocol !== "") fields.push(["Sec-WebSocket-Protocol", protocol]);
  if (accepted.length > 0) fields.push(["Sec-WebSocket-Extensions", extensions]);
  const headers = new Headers(fields);
  for (const [name, value] of extra) headers.append(name, value);
  const lines = [...fields.map(([name, value]) => `${name}: ${value}`), ...fieldLines(extra)];
  return {
    headers,
    head: encodeHead("HTTP/1.1 101 Switching Protocols", lines),
    protocol,
    extensions: accepted.length > 0 ? extensions : "",
  };
}

// Set by encodeRejection itself.
const REJECTION_HEADERS_SET = new Set([
  "connection",
  "content-length",
  "content-type",
  "transfer-encoding",
]);

const utf8Encoder = new TextEncoder();

/**
 * Encodes the refusal of an upgrade request for a raw server to write before
 * closing the connection: an HTTP/1.1 response with `Connection: close` and
 * the message as a plain-text body, as {@linkcode HandshakeError.toResponse}
 * builds it for a runtime's server. Anything other than a
 * {@linkcode HandshakeError} with a final status (200 to 599) becomes a 500
 * whose body tells nothing of the error, so internal details never reach the peer.
 *
 * @param error What went wrong, usually a {@linkcode HandshakeError}.
 * @returns The response head and body.
 *
 * @example Refusing a request that is not an upgrade
 * ```ts
 * import { encodeRejection, HandshakeError } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const error = new HandshakeError("Cannot upgrade request: Sec-WebSocket-Key is missing");
 * assert.equal(
 *   new TextDecoder().decode(encodeRejection(error)),
 *   "HTTP/1.1 400 Bad Request\r\n" +
 *     "Connection: close\r\n" +
 *     "Content-Type: text/plain; charset=utf-8\r\n" +
 *     "Content-Length: 52\r\n" +
 *     "\r\n" +
 *     "Cannot upgrade request: Sec-WebSocket-Key is missing",
 * );
 * ```
 */
export function encodeRejection(error: unknown): Uint8Array {
  const known = error instanceof HandshakeError && error.status >= 200;
  const status = known ? error.status : 500;
  const body = utf8Encoder.encode(known ? error.message : reasonPhrase(500));
  const extra = known ? error.headers : new Headers();
  // RFC 9110 §7.8: whoever sends Upgrade lists it in Connection too.
  const connection = extra.has("upgrade") ? "Upgrade, close" : "close";
  const lines = [
    `Connection: ${connection}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${body.length}`,
    ...fieldLines(extra, REJECTION_HEADERS_SET),
  ];
  const head = encodeHead(`HTTP/1.1 ${describeStatus(status)}`, lines);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

/** The part of an upgrade request that does not depend on the server's choices. */
interface Offer {
  key: string;
  protocols: string[];
  extensions: Extension[];
}

function readOffer(request: Request | UpgradeRequestLike): Offer {
  const fail = (detail: string, options: { status?: number; headers?: HeadersInit } = {}) =>
    new HandshakeError(`Cannot upgrade request: ${detail}`, options);
  const { method, headers } = request;
  // RFC 6455 §4.2.1: "An HTTP/1.1 or higher GET request".
  if (method !== "GET") {
    throw fail(`method is ${method}, only GET can upgrade`, {
      status: 405,
      headers: { Allow: "GET" },
    });
  }
  const version = "version" in request ? request.version : undefined;
  if (version !== undefined) {
    const match = HTTP_VERSION.exec(version);
    if (match === null) throw fail(`HTTP version ${JSON.stringify(version)} is malformed`);
    if (match[1] !== "1") {
      throw fail(`HTTP version is ${version}, only HTTP/1.x is supported`, { status: 505 });
    }
    // HTTP/1.0 cannot upgrade; a higher minor version is read as 1.1 (RFC 9110 §2.5).
    if (match[2] === "0") throw fail(`HTTP version is ${version}, WebSocket needs HTTP/1.1`);
  }
  // Not an upgrade at all, such as a browser opening the URL: say which
  // protocol is required, as RFC 9110 §15.5.22 asks of a 426.
  const upgrade = headers.get("upgrade");
  if (!hasToken(upgrade, "websocket")) {
    throw fail(`Upgrade is ${describeValue(upgrade)}, it must list websocket`, {
      status: 426,
      headers: { Upgrade: "websocket" },
    });
  }
  const connection = headers.get("connection");
  if (!hasToken(connection, "upgrade")) {
    throw fail(`Connection is ${describeValue(connection)}, it must list upgrade`);
  }
  // RFC 9112 §3.2: a missing or invalid Host is refused with 400.
  const host = headers.get("host");
  if (host === null) throw fail("Host is missing");
  if (!HOST.test(host)) throw fail(`Host is ${JSON.stringify(host)}, not a valid host`);
  // Whatever follows the head is WebSocket frames, so a body would be read as frames.
  if (headers.has("transfer-encoding")) {
    throw fail("Transfer-Encoding is present, an upgrade request has no body");
  }
  const contentLength = headers.get("content-length");
  if (contentLength !== null && !/^0+$/.test(contentLength)) {
    throw fail(`Content-Length is ${contentLength}, an upgrade request has no body`);
  }
  const key = headers.get("sec-websocket-key");
  if (key === null) throw fail("Sec-WebSocket-Key is missing");
  // RFC 6455 §11.3.1: the key appears once; joined lines hold a comma.
  if (key.includes(",")) throw fail("Sec-WebSocket-Key appears more than once");
  if (!KEY.test(key)) {
    throw fail(`Sec-WebSocket-Key is ${JSON.stringify(key)}, not 16 bytes in base64`);
  }
  // RFC 6455 §4.4: answer an unknown version with 426 and the versions we speak.
  const wsVersion = headers.get("sec-websocket-version");
  if (wsVersion !== "13") {
    throw fail(`Sec-WebSocket-Version is ${describeValue(wsVersion)}, only 13 is supported`, {
      status: 426,
      headers: { "Sec-WebSocket-Version": "13" },
    });
  }
  const protocolValue = headers.get("sec-websocket-protocol");
  const protocols = protocolValue === null ? [] : parseProtocolList(protocolValue, (detail) => {
    throw fail(`Sec-WebSocket-Protocol is malformed: ${detail}`);
  });
  const extensionValue = headers.get("sec-websocket-extensions");
  const extensions = extensionValue === null ? [] : parseExtensionList(extensionValue, (detail) => {
    throw fail(`Sec-WebSocket-Extensions is malformed: ${detail}`);
  });
  return { key, protocols, extensions };
}

/**
 * Serializes a `Response` as an HTTP/1.1 response to write on a raw socket,
 * then close: a refusal the application built, or its answer to a plain HTTP
 * request. The body is read whole and sent with `Content-Length`.
 *
 * @param response The response; its body is consumed.
 * @returns The response's bytes, head and body.
 *
 * @example Refusing an upgrade with 401
 * ```ts
 * import { encodeResponse } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * const bytes = await encodeResponse(new Response("who are you?", { status: 401 }));
 * const text = new TextDecoder().decode(bytes);
 * assert.ok(text.startsWith("HTTP/1.1 401 Unauthorized\r\n"));
 * assert.ok(text.endsWith("\r\n\r\nwho are you?"));
 * ```
 */
export async function encodeResponse(response: Response): Promise<Uint8Array> {
  const body = new Uint8Array(await response.arrayBuffer());
  const lines = [
    "Connection: close",
    `Content-Length: ${body.length}`,
    ...fieldLines(response.headers, RESPONSE_FRAMING_HEADERS),
  ];
  const statusText = response.statusText === "" ? undefined : response.statusText;
  const head = encodeHead(`HTTP/1.1 ${describeStatus(response.status, statusText)}`, lines);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

// Written by encodeResponse itself, whatever the response says.
const RESPONSE_FRAMING_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "content-length",
  "transfer-encoding",
]);
