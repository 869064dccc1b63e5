/**
 * The WebSocket opening handshake (RFC 6455 §4), free of I/O. A server checks
 * a request with {@linkcode checkUpgradeRequest} and answers with
 * {@linkcode createUpgradeResponse}, or refuses with a
 * {@linkcode HandshakeError}; a client builds its request with
 * {@linkcode createUpgradeRequest} and checks the answer with
 * {@linkcode checkUpgradeResponse}. On raw TCP, {@linkcode RequestHeadParser}
 * and {@linkcode ResponseHeadParser} read the HTTP/1.1 heads within bounded
 * memory and keep the bytes that follow them.
 *
 * @example A client and a server shake hands through memory
 * ```ts
 * import {
 *   checkUpgradeRequest,
 *   checkUpgradeResponse,
 *   createUpgradeRequest,
 *   createUpgradeResponse,
 *   RequestHeadParser,
 *   ResponseHeadParser,
 * } from "@seed/websocket/handshake";
 * import assert from "node:assert/strict";
 *
 * // The client writes its request.
 * const request = createUpgradeRequest("ws://example.com/chat", { protocols: ["chat"] });
 *
 * // The server reads it, checks it and answers.
 * const received = new RequestHeadParser().push(request.head);
 * assert.ok(received !== undefined);
 * const { protocol } = checkUpgradeRequest(received.head, {
 *   selectProtocol: (offered) => offered.includes("chat") ? "chat" : undefined,
 * });
 * const response = await createUpgradeResponse(received.head, { protocol });
 *
 * // The client reads the answer and checks it.
 * const answer = new ResponseHeadParser().push(response.head);
 * assert.ok(answer !== undefined);
 * const info = await checkUpgradeResponse(answer.head, request);
 * assert.deepEqual(info, { protocol: "chat", extensions: "" });
 * ```
 *
 * @module
 */

export { computeAcceptKey, generateKey } from "./accept_key.ts";
export {
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_HEADERS,
  type HeadParserOptions,
  type ParsedHead,
  type RequestHead,
  RequestHeadParser,
  type ResponseHead,
  ResponseHeadParser,
} from "./http1.ts";
export {
  checkUpgradeRequest,
  type CheckUpgradeRequestOptions,
  createUpgradeResponse,
  type CreateUpgradeResponseOptions,
  encodeRejection,
  encodeResponse,
  type Extension,
  type ExtensionParam,
  type UpgradeRequestInfo,
  type UpgradeRequestLike,
  type UpgradeResponse,
} from "./server.ts";
export {
  checkUpgradeResponse,
  type CheckUpgradeResponseOptions,
  createUpgradeRequest,
  type CreateUpgradeRequestOptions,
  type UpgradeRequest,
  type UpgradeResponseInfo,
  type UpgradeResponseLike,
} from "./client.ts";
export { HandshakeError, type HandshakeErrorOptions } from "../errors.ts";
