/**
 * Where a client connects: `ws:`/`wss:` URLs as they are, `ws+unix:` and
 * `wss+unix:` URLs read into a socket path and a request URL, and the next
 * target of a redirect.
 *
 * @module
 */

import { HandshakeError } from "./errors.ts";
import type { ResponseHead } from "./handshake/http1.ts";

/**
 * Where to connect: the URL to build the upgrade request from, and for a Unix
 * domain socket its path and the URL as the caller spelled it.
 */
export interface Target {
  /** A `ws:` or `wss:` URL (before the first request, possibly `http:` or `https:`). */
  request: URL | string;
  /** The socket path, for `ws+unix:` and `wss+unix:`. */
  socketPath?: string;
  /** The socket path as the URL spells it, percent-encoded. */
  socketSpelling?: string;
  /** The URL to report, when it is not `request`. */
  url?: URL;
}

/** Reads a `ws+unix:` or `wss+unix:` URL; other URLs go to `createUpgradeRequest` as they are. */
export function parseTarget(input: string | URL): Target {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    // createUpgradeRequest throws the SyntaxError the WebSocket constructor throws.
    return { request: typeof input === "string" ? input : input.href };
  }
  if (url.protocol !== "ws+unix:" && url.protocol !== "wss+unix:") return { request: url };
  const invalid = (detail: string) =>
    new DOMException(`Cannot open connection: ${url.href} ${detail}`, "SyntaxError");
  if (url.host !== "") {
    throw invalid(
      `has a host; write the socket path right after the scheme, as ${url.protocol}/path`,
    );
  }
  if (url.hash !== "") throw invalid("has a fragment");
  const colon = url.pathname.indexOf(":");
  const socketSpelling = colon < 0 ? url.pathname : url.pathname.slice(0, colon);
  if (socketSpelling === "") throw invalid("has no socket path");
  let requestPath = colon < 0 ? "" : url.pathname.slice(colon + 1);
  if (!requestPath.startsWith("/")) requestPath = `/${requestPath}`;
  const scheme = url.protocol === "wss+unix:" ? "wss:" : "ws:";
  return {
    request: new URL(`${scheme}//localhost${requestPath}${url.search}`),
    socketPath: decodePath(socketSpelling),
    socketSpelling,
    url,
  };
}

function decodePath(spelling: string): string {
  try {
    return decodeURIComponent(spelling);
  } catch {
    return spelling;
  }
}

/**
 * Resolves a redirect's `Location` against the current target (RFC 9110
 * §10.2.2). Over a Unix domain socket only a relative one is followed, on the
 * same socket.
 */
export function redirectTarget(
  current: Target,
  base: URL,
  location: string,
  head: ResponseHead,
): Target & { request: URL } {
  const refuse = (detail: string) =>
    new HandshakeError(`Cannot follow redirect: ${detail}`, {
      status: head.status,
      headers: head.headers,
    });
  let next: URL;
  try {
    next = new URL(location, base);
  } catch {
    throw refuse(`Location ${JSON.stringify(location)} is not a URL`);
  }
  if (next.protocol === "http:") next.protocol = "ws:";
  else if (next.protocol === "https:") next.protocol = "wss:";
  if (next.protocol !== "ws:" && next.protocol !== "wss:") {
    throw refuse(
      `Location ${next.href} has scheme ${next.protocol}, not ws:, wss:, http: or https:`,
    );
  }
  // A fragment means nothing to a WebSocket server, and the request refuses one.
  next.hash = "";
  if (base.protocol === "wss:" && next.protocol === "ws:") {
    throw refuse(`Location ${next.href} would leave TLS for plain TCP`);
  }
  if (current.socketPath === undefined) return { request: next };
  if (isAbsoluteUrl(location) || next.origin !== base.origin) {
    throw refuse(
      `Location ${location} leaves the Unix domain socket; only a relative one is followed`,
    );
  }
  const scheme = current.url?.protocol ?? "ws+unix:";
  return {
    ...current,
    request: next,
    url: new URL(`${scheme}${current.socketSpelling}:${next.pathname}${next.search}`),
  };
}

function isAbsoluteUrl(location: string): boolean {
  try {
    new URL(location);
    return true;
  } catch {
    return false;
  }
}
