/**
 * Accepting or refusing one upgrade request on a raw socket, shared by the
 * raw server and the `node:http` upgrade hook: checks, the application's
 * hooks, the 101, and the channel.
 *
 * @module
 */

import { HandshakeError } from "./errors.ts";
import type { RequestHead } from "./handshake/http1.ts";
import {
  checkUpgradeRequest,
  createUpgradeResponse,
  encodeRejection,
  encodeResponse,
} from "./handshake/server.ts";
import { type Channel, type ChannelOptions, fromByteStreams } from "./protocol/channel.ts";
import { withLeadingBytes } from "./_head_reader.ts";
import { negotiateCompression } from "./_compression.ts";
import type { CompressionOptions } from "./extensions/permessage_deflate.ts";
import type { NetAddress, Transport } from "./runtime/_transport.ts";

/** What a server knows of a connection before it accepts it. */
export interface UpgradeInfo {
  /** The peer's address. */
  remoteAddress: NetAddress;
}

/** How a server accepts connections, and the channels' options. */
export interface UpgradeOptions
  extends Omit<ChannelOptions, "role" | "protocol" | "extensions" | "compressor" | "allowRsv1"> {
  /**
   * Whether to accept permessage-deflate (RFC 7692) when a client offers it:
   * `true` with the defaults, or the parameters to answer with and the zlib
   * settings. Off by default: a compressed connection keeps up to about
   * 300 KiB of zlib state between messages (less with `memLevel`, smaller
   * windows, no context takeover, or once `compressorIdleTimeout` frees its
   * compressor). `serve()` on `Deno.serve` refuses it, since Deno does not
   * negotiate compression; on `Bun.serve` it becomes Bun's `perMessageDeflate`.
   *
   * @default {false}
   */
  compression?: boolean | CompressionOptions;
  /**
   * Picks the subprotocol from those the client offered, in its order;
   * `undefined` accepts none. A protocol the client did not offer is a TypeError.
   */
  selectProtocol?: (offered: string[], request: Request) => string | undefined;
  /**
   * Decides on each upgrade request before it is accepted: return nothing to
   * accept it, or a `Response` (any status, headers and body) to refuse it.
   */
  onUpgrade?: (
    request: Request,
    info: UpgradeInfo,
  ) => Response | undefined | void | Promise<Response | undefined | void>;
  /** Extra headers for every 101 response. */
  headers?: HeadersInit;
  /**
   * Receives errors thrown by the connection handler or the hooks.
   *
   * @default {console.error}
   */
  onError?: (error: unknown) => void;
  /** Answers plain HTTP requests; without it they get 426 Upgrade Required. */
  fetch?: (request: Request, info: UpgradeInfo) => Response | Promise<Response>;
}

/** A server connection: a {@linkcode Channel} with the request that opened it. */
export interface ServerChannel extends Channel {
  /** The upgrade request: URL, headers. */
  readonly request: Request;
  /** The peer's address. */
  readonly remoteAddress: NetAddress;
}

/**
 * Answers an upgrade request whose head has been read: refuses it (writing
 * the answer and closing the socket) or accepts it. Errors never escape: a
 * bad request gets its status, a failing hook a bare 500 and `onError`.
 *
 * @returns The new channel, or `undefined` when the request was refused or answered.
 */
export async function answerUpgrade(
  transport: Transport,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  head: RequestHead,
  rest: Uint8Array,
  options: UpgradeOptions,
  onError: (error: unknown) => void,
): Promise<ServerChannel | undefined> {
  try {
    const opened = await upgrade(transport, reader, head, rest, options);
    if (opened instanceof Uint8Array) {
      await hangUp(transport, reader, opened);
      return undefined;
    }
    return opened;
  } catch (error) {
    // A bad request gets its status, a failing hook a bare 500: its detail is reported, not sent.
    if (!(error instanceof HandshakeError)) onError(error);
    await hangUp(transport, reader, encodeRejection(error));
    return undefined;
  }
}

/**
 * Answers a request head: with the bytes of a final answer for a plain HTTP
 * request or a refusal, or, for an accepted upgrade, by writing the 101 and
 * returning the new channel.
 */
async function upgrade(
  transport: Transport,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  head: RequestHead,
  rest: Uint8Array,
  options: UpgradeOptions,
): Promise<ServerChannel | Uint8Array> {
  const request = toRequest(head, transport.secure);
  const info: UpgradeInfo = { remoteAddress: transport.remoteAddress };
  if (options.fetch !== undefined && !isUpgrade(head)) {
    return await encodeResponse(await options.fetch(request, info));
  }
  const { protocol, extensions: offered } = checkUpgradeRequest(head, {
    selectProtocol: (offered) => options.selectProtocol?.(offered, request),
  });
  const refusal = await options.onUpgrade?.(request, info);
  if (refusal instanceof Response) return await encodeResponse(refusal);

  const compression = await negotiateCompression(offered, options.compression);
  const response = await createUpgradeResponse(head, {
    protocol,
    ...(compression === undefined ? {} : { extensions: compression.answer }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const writer = transport.writable.getWriter();
  await writer.write(response.head);
  writer.releaseLock();
  const channel = fromByteStreams(
    { readable: withLeadingBytes(rest, reader), writable: transport.writable },
    {
      ...options,
      role: "server",
      protocol: response.protocol,
      extensions: response.extensions,
      ...(compression === undefined ? {} : { compressor: compression.compressor }),
    },
  );
  return Object.assign(channel, { request, remoteAddress: transport.remoteAddress });
}

/** Writes a last answer, if any, then closes the socket. */
export async function hangUp(
  transport: Transport,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  answer?: Uint8Array,
): Promise<void> {
  try {
    const writer = transport.writable.getWriter();
    if (answer !== undefined) await writer.write(answer);
    await writer.close();
  } catch {
    // The peer is gone already.
  }
  await reader.cancel().catch(() => {});
}

function isUpgrade(head: RequestHead): boolean {
  return /(^|,)\s*websocket\s*(,|$)/i.test(head.headers.get("upgrade") ?? "");
}

function toRequest(head: RequestHead, secure: boolean): Request {
  const host = head.headers.get("host");
  if (host === null) throw new HandshakeError("Cannot upgrade request: Host is missing");
  let url: URL;
  try {
    url = new URL(head.target, `${secure ? "https" : "http"}://${host}`);
  } catch (cause) {
    throw new HandshakeError(`Cannot upgrade request: target ${head.target} is not a valid URL`, {
      cause,
    });
  }
  try {
    return new Request(url, { method: head.method, headers: head.headers });
  } catch (cause) {
    // Request refuses the methods fetch forbids (CONNECT, TRACE, TRACK).
    throw new HandshakeError(`Cannot upgrade request: method ${head.method} is not allowed`, {
      status: 405,
      headers: { Allow: "GET" },
      cause,
    });
  }
}
