/**
 * The slices of EdgerOS's `socket` and `iosched` modules that the
 * `websocket` module's documented examples use: socket addresses, their
 * families, and an event-loop turn that an event-loop runtime does not need.
 *
 * @module
 */

import { isIP } from "node:net";

/** A socket address, as EdgerOS's `socket.sockaddr()` makes it. */
export interface SockAddr {
  /** The address family: {@linkcode socket.AF_INET} or {@linkcode socket.AF_INET6}. */
  domain?: number;
  /**
   * The IP address.
   *
   * @default {"0.0.0.0"}
   */
  addr?: string;
  /** The port; 0 lets the system pick one when listening. */
  port: number;
}

/** The address families, with their Linux values, and {@linkcode socket.sockaddr}. */
export interface SocketModule {
  /** IPv4, 2 as on Linux. */
  readonly AF_INET: number;
  /** IPv6, 10 as on Linux. */
  readonly AF_INET6: number;
  /** Every IPv4 address of the host: `"0.0.0.0"`. */
  readonly INADDR_ANY: string;
  /** The IPv4 loopback address: `"127.0.0.1"`. */
  readonly INADDR_LOOPBACK: string;
  /**
   * Makes a socket address, its family read from the address.
   *
   * @param addr An IPv4 or IPv6 address.
   * @param port A port from 0 to 65535.
   * @returns `{ domain, addr, port }`.
   * @throws {TypeError} When `addr` is not an IP address.
   * @throws {RangeError} When `port` is not a whole number from 0 to 65535.
   */
  sockaddr(addr: string, port: number): Required<SockAddr>;
}

/**
 * EdgerOS's `socket` module, reduced to what WebSocket code uses with it:
 * the address families for `WsClient.createClient()`'s `domain` option, and
 * the socket addresses `WsServer.createServer()` listens on.
 *
 * @example A server address and a client's address family
 * ```ts
 * import { socket } from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(socket.sockaddr(socket.INADDR_ANY, 8000), {
 *   domain: socket.AF_INET,
 *   addr: "0.0.0.0",
 *   port: 8000,
 * });
 * assert.equal(socket.sockaddr("::1", 0).domain, socket.AF_INET6);
 * assert.throws(() => socket.sockaddr("localhost", 80), TypeError);
 * ```
 */
export const socket: SocketModule = {
  AF_INET: 2,
  AF_INET6: 10,
  INADDR_ANY: "0.0.0.0",
  INADDR_LOOPBACK: "127.0.0.1",
  sockaddr(addr: string, port: number): Required<SockAddr> {
    const family = typeof addr === "string" ? isIP(addr) : 0;
    if (family === 0) {
      throw new TypeError(
        `Cannot make socket address: ${JSON.stringify(addr)} is not an IP address`,
      );
    }
    checkPort(port, "make socket address");
    return { domain: family === 6 ? socket.AF_INET6 : socket.AF_INET, addr, port };
  },
};

/**
 * Checks a port number.
 *
 * @throws {RangeError} When it is not a whole number from 0 to 65535.
 */
export function checkPort(port: unknown, action: string): asserts port is number {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw new RangeError(
      `Cannot ${action}: port must be a whole number from 0 to 65535, got ${String(port)}`,
    );
  }
}

/** EdgerOS's `iosched` module, reduced to {@linkcode iosched.poll}. */
export interface IoschedModule {
  /**
   * Does nothing and returns at once: the runtime's event loop already
   * delivers every I/O event.
   *
   * @param _timeout EdgerOS's wait timeout in milliseconds; not used.
   */
  poll(_timeout?: number): void;
}

/**
 * EdgerOS's `iosched` module, reduced to a `poll()` that does nothing.
 *
 * EdgerOS programs turn their event loop by hand, `while (true) {
 * iosched.poll(); }`. Deno, Bun and Node run their own event loop, which no
 * function can turn synchronously: such a loop would block it forever, and
 * must go. `poll()` is kept so that code which calls it now and then still
 * runs.
 *
 * @example Code that turns the loop now and then
 * ```ts
 * import { iosched } from "@seed/websocket/edgeros";
 * import assert from "node:assert/strict";
 *
 * assert.equal(iosched.poll(), undefined);
 * assert.equal(iosched.poll(100), undefined);
 * ```
 */
export const iosched: IoschedModule = {
  poll(_timeout?: number): void {},
};
