/**
 * {@linkcode connect}: a WebSocket client over a raw TCP or TLS socket of the
 * runtime it runs on (Deno, Bun or Node), picked when first used.
 *
 * @module
 */

import { HandshakeError, TimeoutError } from "./errors.ts";
import { checkUpgradeResponse, createUpgradeRequest } from "./handshake/client.ts";
import {
  type HeadParserOptions,
  type ResponseHead,
  ResponseHeadParser,
} from "./handshake/http1.ts";
import { describeStatus } from "./handshake/_http.ts";
import { type Channel, type ChannelOptions, fromByteStreams } from "./protocol/channel.ts";
import { readHead, readSome, withLeadingBytes } from "./_head_reader.ts";
import { chooseProxy, encodeConnectRequest, type ProxyChoice } from "./_proxy.ts";
import { parseTarget, redirectTarget } from "./_target.ts";
import { runtimeNet } from "./runtime/_detect.ts";
import { acceptCompression, offerCompression } from "./_compression.ts";
import type { CompressionOptions } from "./extensions/permessage_deflate.ts";
import { parseExtensionList } from "./handshake/_header_values.ts";
import type { RuntimeNet, TlsConnectOptions, Transport } from "./runtime/_transport.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions
  extends
    Omit<ChannelOptions, "role" | "protocol" | "extensions" | "compressor" | "allowRsv1">,
    HeadParserOptions {
  /**
   * Whether to offer permessage-deflate (RFC 7692): `true` offers it as
   * browsers do (`permessage-deflate; client_max_window_bits`), an object
   * sets the parameters to offer, the threshold and the zlib settings. The
   * channel's `extensions` tells whether the server accepted. Off by
   * default, unlike browsers: compression costs CPU and up to about
   * 300 KiB of zlib state per connection, and pays off only for large,
   * compressible messages.
   *
   * @default {false}
   */
  compression?: boolean | CompressionOptions;
  /** Subprotocols to offer, in order of preference. */
  protocols?: string | string[];
  /**
   * The heartbeat: seconds without receiving anything after which the
   * server is pinged (the round trip is then the channel's `latency`); when
   * nothing arrives for as long again, the connection is closed with 1001.
   * 0 turns it off.
   *
   * @default {120}
   */
  idleTimeout?: number;
  /** The `Origin` header to send, as a browser would. */
  origin?: string;
  /**
   * More request headers, such as `Authorization`. `Authorization`, `Cookie`
   * and `Proxy-Authorization` are not sent on after a redirect to another
   * origin (scheme, host or port).
   */
  headers?: HeadersInit;
  /** Aborts the opening handshake. */
  signal?: AbortSignal;
  /**
   * How long opening the connection may take, in milliseconds: TCP, the
   * proxy's tunnel, TLS and the WebSocket handshake, every redirect included.
   *
   * @default {10000}
   */
  handshakeTimeout?: number;
  /** TLS options for `wss://`: extra trusted CA certificates and the server name to verify. */
  tls?: TlsConnectOptions;
  /**
   * An HTTP proxy to tunnel through with `CONNECT`, such as
   * `"http://user:pass@proxy.local:3128"` (credentials become
   * `Proxy-Authorization: Basic`; without a scheme, `http://` is assumed), or
   * `false` to connect directly whatever the environment says. When absent,
   * the proxy comes from the environment, as curl reads it: `https_proxy` or
   * `HTTPS_PROXY` for `wss:`, `http_proxy` or `HTTP_PROXY` for `ws:`, unless
   * `no_proxy` or `NO_PROXY` (a comma-separated list of hosts, `.domain`
   * suffixes, `host:port` and `*`) exempts the host. An environment that
   * cannot be read (Deno without the `env` permission) means no proxy.
   * `wss:` runs TLS to the server inside the tunnel. Unix domain sockets
   * never use a proxy.
   *
   * @default {undefined}
   */
  proxy?: string | URL | false;
  /**
   * How many redirects (301, 302, 303, 307 or 308 with a `Location`) to
   * follow. A relative `Location` is resolved against the current URL, and
   * `http:` and `https:` become `ws:` and `wss:`; a redirect to another
   * scheme, or from `wss:` to `ws:`, fails. With 0, or once that many have
   * been followed, a redirect fails as any other refusal does.
   *
   * @default {0}
   */
  followRedirects?: number;
}

/** A client connection: a {@linkcode Channel} with what the handshake told. */
export interface ClientChannel extends Channel {
  /** The URL connected to, normalized; after redirects, the last one. */
  readonly url: string;
  /** The headers of the server's 101 response. */
  readonly responseHeaders: Headers;
}

/** Seconds of silence before the heartbeat pings, as `serve()` does. */
const DEFAULT_IDLE_TIMEOUT = 120;
const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
/** How much of a refusal's body goes into the error message. */
const REFUSAL_BODY_LIMIT = 1024;
/** The statuses that redirect (RFC 9110 §15.4); 300 and 304 do not name one target. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** The request headers that carry credentials, not sent on to another origin. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/**
 * Opens a WebSocket connection to `url` over a raw socket of the current
 * runtime: `ws://` or `wss://` over TCP, possibly through an HTTP proxy, or
 * `ws+unix:` and `wss+unix:` over a Unix domain socket, spelled as the `ws`
 * package spells them: `ws+unix:/path/to/socket:/request/path?query`. The
 * socket path ends at the first `:`; the request path defaults to `/`, and
 * `Host` is `localhost`, as is the name TLS verifies unless `tls.serverName`
 * says otherwise.
 *
 * @param url The server's URL.
 * @param options Subprotocols, headers, TLS, proxy, redirects, timeouts and the channel's limits.
 * @returns The open connection.
 * @throws {SyntaxError} (a `DOMException`) When the URL or a subprotocol is invalid.
 * @throws {TypeError} When the proxy URL is invalid or not `http:`.
 * @throws {RangeError} When `followRedirects` is not a whole number of at least 0.
 * @throws {HandshakeError} When the server refuses (its status and the start of
 * its body in the message) or answers something that is not a WebSocket
 * handshake; when a redirect cannot or may not be followed; when the proxy
 * refuses the tunnel (the proxy's status, and a message naming the proxy).
 * @throws The signal's reason when it aborts.
 * @throws {TimeoutError} After `handshakeTimeout`, with what it interrupted as its cause.
 *
 * @example Talking to an echo server
 * ```ts ignore
 * import { connect } from "@seed/websocket";
 *
 * const channel = await connect("ws://127.0.0.1:8080", { protocols: ["echo"] });
 * const writer = channel.writable.getWriter();
 * await writer.write("hello");
 * for await (const message of channel.readable) {
 *   console.log(message);
 *   break;
 * }
 * channel.close(1000);
 * await channel.closed;
 * ```
 *
 * @example Through a proxy, to a server on a Unix domain socket, following a redirect
 * ```ts ignore
 * import { connect } from "@seed/websocket";
 *
 * const viaProxy = await connect("wss://example.com/feed", {
 *   proxy: "http://user:secret@proxy.local:3128",
 * });
 * const local = await connect("ws+unix:/run/app.sock:/events?since=0");
 * const moved = await connect("ws://example.com/old", { followRedirects: 3 });
 * console.log(viaProxy.url, local.url, moved.url);
 * ```
 */
export async function connect(
  url: string | URL,
  options: ConnectOptions = {},
): Promise<ClientChannel> {
  const followRedirects = options.followRedirects ?? 0;
  if (!Number.isInteger(followRedirects) || followRedirects < 0) {
    throw new RangeError(
      `Cannot open connection: followRedirects must be a whole number of at least 0, got ${followRedirects}`,
    );
  }
  let target = parseTarget(url);
  let headers = options.headers;
  const handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const timeout = AbortSignal.timeout(handshakeTimeout);
  const signal = options.signal === undefined
    ? timeout
    : AbortSignal.any([options.signal, timeout]);
  const net = await runtimeNet();
  const offer = offerCompression(options.compression);
  try {
    for (let redirects = 0;; redirects++) {
      const request = createUpgradeRequest(target.request, {
        ...(offer === undefined ? {} : { extensions: offer }),
        ...(options.protocols === undefined ? {} : { protocols: options.protocols }),
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        ...(headers === undefined ? {} : { headers }),
      });
      const transport = await open(net, request.url, target.socketPath, options, signal);
      let outcome: ClientChannel | ResponseHead;
      try {
        outcome = await handshake(transport, request, options, signal);
      } catch (error) {
        discard(transport);
        throw error;
      }
      if ("responseHeaders" in outcome) {
        return Object.assign(outcome, { url: (target.url ?? request.url).href });
      }
      discard(transport);
      const location = outcome.headers.get("location")!;
      const answered = `the server answered ${
        describeStatus(outcome.status, outcome.statusText)
      }, redirecting to ${location}`;
      if (redirects >= followRedirects) {
        throw new HandshakeError(
          followRedirects === 0
            ? `Cannot open connection: ${answered}`
            : `Cannot open connection: too many redirects, ${answered} after ${followRedirects}`,
          { status: outcome.status, headers: outcome.headers },
        );
      }
      const next = redirectTarget(target, request.url, location, outcome);
      if (next.request.origin !== request.url.origin && headers !== undefined) {
        // As fetch and `ws` do: credentials meant for one origin stay there.
        const kept = new Headers(headers);
        for (const name of CREDENTIAL_HEADERS) kept.delete(name);
        headers = kept;
      }
      target = next;
    }
  } catch (error) {
    // Whatever the timeout interrupted, the failure is the timeout.
    if (timeout.aborted && !options.signal?.aborted) {
      throw new TimeoutError(
        `Cannot open connection: the opening handshake timed out after ${handshakeTimeout} ms`,
        { option: "handshakeTimeout", timeout: handshakeTimeout, cause: error },
      );
    }
    throw error;
  }
}

/** Opens the socket the WebSocket handshake goes over: direct, Unix, or through a proxy. */
async function open(
  net: RuntimeNet,
  url: URL,
  socketPath: string | undefined,
  options: ConnectOptions,
  signal: AbortSignal,
): Promise<Transport> {
  const secure = url.protocol === "wss:";
  if (socketPath !== undefined) {
    return await net.connect({
      hostname: "localhost",
      port: 0,
      path: socketPath,
      ...(secure
        ? { tls: { ...options.tls, serverName: options.tls?.serverName ?? "localhost" } }
        : {}),
      signal,
    });
  }
  // URL keeps the brackets of an IPv6 host; sockets take the bare address.
  const hostname = bareHostname(url.hostname);
  const port = Number(url.port || (secure ? 443 : 80));
  const proxy = chooseProxy(url, options.proxy);
  if (proxy === undefined) {
    return await net.connect({
      hostname,
      port,
      ...(secure ? { tls: options.tls ?? true } : {}),
      signal,
    });
  }
  const proxyTransport = await connectToProxy(net, proxy, signal);
  try {
    const tunnel = await openTunnel(
      proxyTransport,
      proxy,
      `${url.hostname}:${port}`,
      secure,
      options,
      signal,
    );
    if (!secure) return tunnel;
    if (net.startTls === undefined) {
      throw new Error(
        `Cannot open connection through proxy: the ${net.name} adapter cannot start TLS on an open socket`,
      );
    }
    return await net.startTls(tunnel, { ...options.tls, hostname, signal });
  } catch (error) {
    discard(proxyTransport);
    throw error;
  }
}

async function connectToProxy(
  net: RuntimeNet,
  proxy: ProxyChoice,
  signal: AbortSignal,
): Promise<Transport> {
  try {
    return await net.connect({
      hostname: bareHostname(proxy.url.hostname),
      port: Number(proxy.url.port || 80),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new Error(
      `Cannot connect to proxy ${proxy.url.host} from ${proxy.source}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
}

/**
 * Asks the proxy for a tunnel to `authority` (RFC 9110 §9.3.6) and returns the
 * transport through it once the proxy has answered 2xx.
 */
async function openTunnel(
  transport: Transport,
  proxy: ProxyChoice,
  authority: string,
  secure: boolean,
  options: ConnectOptions,
  signal: AbortSignal,
): Promise<Transport> {
  const who = `the proxy ${proxy.url.host} (from ${proxy.source})`;
  const writer = transport.writable.getWriter();
  await writer.write(encodeConnectRequest(proxy.url, authority));
  writer.releaseLock();
  const reader = transport.readable.getReader();
  let parsed;
  try {
    parsed = await readHead(reader, new ResponseHeadParser(options), signal);
  } catch (error) {
    if (!(error instanceof HandshakeError)) throw error;
    throw new HandshakeError(
      `Cannot open connection: ${who} answered CONNECT with an invalid head: ${error.message}`,
      { status: 502, cause: error },
    );
  }
  if (parsed === undefined) {
    throw new HandshakeError(
      `Cannot open connection: ${who} closed the connection before answering CONNECT`,
      { status: 502 },
    );
  }
  const { head, rest } = parsed;
  if (head.status < 200 || head.status > 299) {
    const body = await readRefusalBody(head, reader, rest, signal);
    throw new HandshakeError(
      `Cannot open connection: ${who} answered ${
        describeStatus(head.status, head.statusText)
      } to CONNECT ${authority}` + (body === "" ? "" : `: ${body}`),
      { status: head.status, headers: head.headers },
    );
  }
  if (rest.length === 0) {
    reader.releaseLock();
    return transport;
  }
  // The server behind the tunnel spoke first: harmless for a plain
  // connection, whose handshake reads it; TLS would have to be handed it.
  if (secure) {
    throw new HandshakeError(
      `Cannot open connection: ${who} sent bytes through the tunnel before TLS started`,
      { status: 502 },
    );
  }
  return {
    readable: withLeadingBytes(rest, reader),
    writable: transport.writable,
    remoteAddress: transport.remoteAddress,
    localAddress: transport.localAddress,
    secure: false,
  };
}

/**
 * Sends the upgrade request and reads the answer: the channel on 101, the
 * head of a redirect, or a `HandshakeError` for anything else.
 */
async function handshake(
  transport: Transport,
  request: ReturnType<typeof createUpgradeRequest>,
  options: ConnectOptions,
  signal: AbortSignal,
): Promise<ClientChannel | ResponseHead> {
  const writer = transport.writable.getWriter();
  await writer.write(request.head);
  writer.releaseLock();
  const reader = transport.readable.getReader();
  const parsed = await readHead(reader, new ResponseHeadParser(options), signal);
  if (parsed === undefined) {
    throw new HandshakeError("Cannot open connection: the server closed it during the handshake", {
      status: 502,
    });
  }
  const { head, rest } = parsed;
  if (REDIRECT_STATUSES.has(head.status) && head.headers.has("location")) return head;
  if (head.status !== 101) {
    const body = await readRefusalBody(head, reader, rest, signal);
    throw new HandshakeError(
      `Cannot open connection: the server answered ${head.status} ${head.statusText}` +
        (body === "" ? "" : `: ${body}`),
      { status: head.status, headers: head.headers },
    );
  }
  const { protocol, extensions } = await checkUpgradeResponse(head, request);
  const compressor = await acceptCompression(
    parseExtensionList(extensions, () => {
      throw new Error("unreachable: checked by checkUpgradeResponse");
    }),
    options.compression,
  );
  const channel = fromByteStreams(
    { readable: withLeadingBytes(rest, reader), writable: transport.writable },
    {
      ...options,
      idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
      role: "client",
      protocol,
      extensions,
      ...(compressor && { compressor }),
    },
  );
  return Object.assign(channel, { url: request.url.href, responseHeaders: head.headers });
}

/**
 * The start of a refusal's body, trimmed, for the error message. It is read
 * only as far as `Content-Length` says, so a peer that keeps the connection
 * open is not waited for; a chunked body is left unread.
 */
async function readRefusalBody(
  head: ResponseHead,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  rest: Uint8Array,
  signal: AbortSignal,
): Promise<string> {
  let limit = REFUSAL_BODY_LIMIT;
  const length = head.headers.get("content-length");
  // RFC 9112 §6.3: no body after 1xx, 204 and 304; chunked framing is not decoded here.
  if (head.status < 200 || head.status === 204 || head.status === 304) limit = 0;
  else if (head.headers.has("transfer-encoding")) limit = 0;
  else if (length !== null && /^[0-9]+$/.test(length)) limit = Math.min(limit, Number(length));
  if (limit === 0) return "";
  const bytes = await readSome(reader, rest, limit, signal);
  return new TextDecoder().decode(bytes).trim();
}

/** Closes a transport the handshake gave up on; whatever it still reports is of no interest. */
function discard(transport: Transport): void {
  transport.readable.cancel().catch(() => {});
  transport.writable.abort().catch(() => {});
}

function bareHostname(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, "$1");
}
