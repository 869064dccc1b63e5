/**
 * Where a `WsClient` connects: its URL and options checked at once, and the
 * address resolved when it connects.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { ConnectOptions } from "../../connect.ts";
import type { ClientOptions, ClientTlsOptions } from "./client.ts";
import { checkPort, type SockAddr, socket } from "./socket.ts";

// RFC 7230 §3.2.6: a subprotocol is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Where and how to connect, checked. */
export interface Target {
  url: URL;
  saddr: SockAddr | undefined;
  family: 4 | 6 | undefined;
  options: ConnectOptions;
}

export function checkTarget(
  input: string,
  options: ClientOptions,
  tlsOpt: ClientTlsOptions | undefined,
): Target {
  const fail = (detail: string) => new TypeError(`Cannot create client: ${detail}`);
  if (typeof options !== "object" || options === null) {
    throw fail(`options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw fail(`${JSON.stringify(input)} is not a URL`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw fail(`${url.href} has scheme ${url.protocol}, not ws: or wss:`);
  }
  if (url.hash !== "") throw fail(`${url.href} has a fragment`);
  const { path, saddr, domain, protocol } = options;
  if (path !== undefined) {
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw fail(`path must be a string starting with "/", got ${JSON.stringify(path)}`);
    }
    const target = new URL(path, url);
    url.pathname = target.pathname;
    url.search = target.search;
  }
  if (saddr !== undefined) {
    if (typeof saddr !== "object" || saddr === null || isIP(String(saddr.addr)) === 0) {
      throw fail("saddr must be a socket address with an IP address as addr");
    }
    checkPort(saddr.port, "create client");
  }
  let family: 4 | 6 | undefined;
  if (domain !== undefined) {
    if (domain !== socket.AF_INET && domain !== socket.AF_INET6) {
      throw fail(`domain must be socket.AF_INET or socket.AF_INET6, got ${String(domain)}`);
    }
    family = domain === socket.AF_INET6 ? 6 : 4;
  }
  const connectOptions: ConnectOptions = {};
  if (protocol !== undefined) {
    const protocols = typeof protocol === "string"
      ? protocol.split(",").map((item) => item.trim())
      : [];
    if (protocols.length === 0 || !protocols.every((item) => TOKEN.test(item))) {
      throw fail(
        `protocol must list subprotocol tokens separated by commas, got ${
          JSON.stringify(protocol)
        }`,
      );
    }
    connectOptions.protocols = protocols;
  }
  if (tlsOpt !== undefined) {
    if (typeof tlsOpt !== "object" || tlsOpt === null) {
      throw fail("tlsOpt must be an object");
    }
    for (const name of Object.keys(tlsOpt)) {
      if (name !== "ca" && name !== "name") {
        throw fail(`tlsOpt.${name} is not supported, only ca and name`);
      }
    }
    if (tlsOpt.ca !== undefined && typeof tlsOpt.ca !== "string") {
      throw fail("tlsOpt.ca must be a PEM string");
    }
    if (tlsOpt.name !== undefined && typeof tlsOpt.name !== "string") {
      throw fail("tlsOpt.name must be a string");
    }
    url.protocol = "wss:";
    connectOptions.tls = {
      ...(tlsOpt.ca === undefined ? {} : { caCerts: [tlsOpt.ca] }),
      ...(tlsOpt.name === undefined ? {} : { serverName: tlsOpt.name }),
    };
  }
  return { url, saddr, family, options: connectOptions };
}

/**
 * The URL to connect to: the address of `saddr`, or the one the host name
 * resolves to in the family asked for, or the URL as it is. The name TLS
 * verifies stays the URL's host.
 */
export async function resolve(target: Target): Promise<URL> {
  const { url, saddr, family, options } = target;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let address: string | undefined;
  if (saddr !== undefined) {
    address = saddr.addr!;
    url.port = String(saddr.port);
  } else if (family !== undefined && isIP(hostname) === 0) {
    try {
      address = (await lookup(hostname, { family })).address;
    } catch (cause) {
      throw new Error(
        `Cannot open connection: ${hostname} has no IPv${family} address: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        { cause },
      );
    }
  }
  if (address === undefined) return url;
  if (url.protocol === "wss:" && options.tls?.serverName === undefined && isIP(hostname) === 0) {
    options.tls = { ...options.tls, serverName: hostname };
  }
  url.hostname = address.includes(":") ? `[${address}]` : address;
  return url;
}
