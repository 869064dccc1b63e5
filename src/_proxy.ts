/**
 * Choosing an HTTP proxy for a WebSocket URL, as curl and python-websockets
 * do: from an option, or else from the `HTTPS_PROXY`, `HTTP_PROXY` and
 * `NO_PROXY` environment variables; and the `CONNECT` request that opens a
 * tunnel through it (RFC 9110 §9.3.6).
 *
 * @module
 */

import { encodeHead } from "./handshake/_http.ts";

/** A proxy option: a URL, or `false` for none. */
export type ProxyOption = string | URL | false;

/** The proxy to use and where its URL came from, for messages. */
export interface ProxyChoice {
  /** The proxy's `http:` URL, maybe with credentials. */
  url: URL;
  /** `"the proxy option"` or the environment variable it was read from. */
  source: string;
}

/**
 * Picks the proxy for `target`, a `ws:` or `wss:` URL. An explicit `option`
 * is used as given (`false` for none); without one, `https_proxy` or
 * `HTTPS_PROXY` for `wss:` and `http_proxy` or `HTTP_PROXY` for `ws:` (the
 * lowercase name first, as curl reads them), unless `no_proxy` or `NO_PROXY`
 * lists the host.
 *
 * @throws {TypeError} When the proxy URL is not a URL, or its scheme is not `http:`.
 */
export function chooseProxy(target: URL, option: ProxyOption | undefined): ProxyChoice | undefined {
  if (option === false) return undefined;
  if (option !== undefined) {
    return { url: parseProxyUrl(option, "the proxy option"), source: "the proxy option" };
  }
  const secure = target.protocol === "wss:";
  const found = readFirstEnv(
    secure ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"],
  );
  if (found === undefined || found.value.trim() === "") return undefined;
  const noProxy = readFirstEnv(["no_proxy", "NO_PROXY"])?.value ?? "";
  const port = Number(target.port || (secure ? 443 : 80));
  if (isProxyBypassed(noProxy, target.hostname, port)) return undefined;
  return { url: parseProxyUrl(found.value.trim(), found.name), source: found.name };
}

/**
 * Parses a proxy URL. A value without a scheme, such as `proxy.local:3128`,
 * is taken as `http://`, as curl takes it. Messages never hold credentials.
 */
function parseProxyUrl(value: string | URL, source: string): URL {
  let url: URL;
  try {
    url = typeof value === "string"
      ? new URL(value.includes("://") ? value : `http://${value}`)
      : new URL(value.href);
  } catch {
    throw new TypeError(`Cannot use proxy from ${source}: its value is not a URL`);
  }
  if (url.protocol !== "http:") {
    throw new TypeError(
      `Cannot use proxy from ${source}: scheme ${url.protocol} is not supported, only http:`,
    );
  }
  if (url.hostname === "") throw new TypeError(`Cannot use proxy from ${source}: it has no host`);
  return url;
}

/**
 * Whether a `NO_PROXY` list exempts `hostname:port` from the proxy. The list
 * is separated by commas or whitespace; each entry is `*` (every host), a
 * domain (that host and the hosts under it; a leading `.` or `*.` changes
 * nothing), or an IP address (that address only), optionally with `:port`
 * (IPv6 in brackets then). Case is ignored.
 *
 * @param noProxy The list.
 * @param hostname The host, as `URL.hostname` gives it (IPv6 in brackets).
 * @param port The port, the scheme's default when the URL has none.
 * @returns Whether to connect directly.
 */
export function isProxyBypassed(noProxy: string, hostname: string, port: number): boolean {
  const host = bareHost(hostname);
  const isAddress = isIpAddress(host);
  for (const item of noProxy.split(/[\s,]+/)) {
    if (item === "") continue;
    if (item === "*") return true;
    const entry = splitHostPort(item.toLowerCase());
    if (entry === undefined || (entry.port !== undefined && entry.port !== port)) continue;
    const name = bareHost(entry.host).replace(/^\*?\.+/, "");
    if (name === "") continue;
    if (host === name) return true;
    // An address matches only itself: "0.0.1" says nothing about 127.0.0.1.
    if (!isAddress && host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * Builds the request that asks a proxy for a tunnel to `authority`
 * (`host:port`, IPv6 in brackets), with `Proxy-Authorization: Basic` when the
 * proxy URL holds credentials (RFC 7617).
 *
 * @param proxy The proxy URL.
 * @param authority Where the tunnel leads.
 * @returns The request head.
 */
export function encodeConnectRequest(proxy: URL, authority: string): Uint8Array {
  const lines = [`Host: ${authority}`];
  if (proxy.username !== "" || proxy.password !== "") {
    const credentials = `${decodePart(proxy.username)}:${decodePart(proxy.password)}`;
    lines.push(`Proxy-Authorization: Basic ${encodeBase64(new TextEncoder().encode(credentials))}`);
  }
  return encodeHead(`CONNECT ${authority} HTTP/1.1`, lines);
}

/** The first of `names` set in the environment, and its value. */
function readFirstEnv(names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = readEnv(name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

// The slices of Deno's and Node's globals that reading the environment uses.
interface DenoEnvApi {
  env: { get(name: string): string | undefined };
  permissions?: { querySync?(descriptor: { name: "env"; variable: string }): { state: string } };
}
interface ProcessEnvApi {
  env?: Record<string, string | undefined>;
}

/**
 * Reads an environment variable, or `undefined` when it is unset or cannot
 * be read. On Deno it is read only with the `env` permission already
 * granted: a library should neither prompt for it nor fail without it.
 */
export function readEnv(name: string): string | undefined {
  try {
    const deno = (globalThis as { Deno?: DenoEnvApi }).Deno;
    if (deno !== undefined) {
      const query = deno.permissions?.querySync;
      if (query !== undefined && query({ name: "env", variable: name }).state !== "granted") {
        return undefined;
      }
      return deno.env.get(name);
    }
    return (globalThis as { process?: ProcessEnvApi }).process?.env?.[name];
  } catch {
    return undefined;
  }
}

function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
}

function isIpAddress(host: string): boolean {
  return host.includes(":") || /^[0-9]+(\.[0-9]+){3}$/.test(host);
}

/** Splits `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address has no port. */
function splitHostPort(entry: string): { host: string; port?: number } | undefined {
  let host = entry;
  let port: string | undefined;
  const bracketed = /^(\[[^\]]*\])(?::([0-9]+))?$/.exec(entry);
  if (bracketed !== null) {
    host = bracketed[1]!;
    port = bracketed[2];
  } else if (entry.split(":").length === 2) {
    [host, port] = entry.split(":") as [string, string];
    if (!/^[0-9]+$/.test(port)) return undefined;
  }
  return port === undefined ? { host } : { host, port: Number(port) };
}

/** Percent-decodes a URL's user or password; a malformed escape is kept as it is. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
