/**
 * A server's open connections, shared by {@linkcode listen} and
 * {@linkcode serve}: `maxConnections` (an upgrade request over the limit is
 * refused with 503 before the upgrade, and a connection that got through in
 * a burst of simultaneous handshakes is closed with 1013 as soon as it
 * opens) and the graceful shutdown.
 *
 * @module
 */

import type { ServerChannel, UpgradeOptions } from "./_accept.ts";
import { TimeoutError } from "./errors.ts";
import { cutOff } from "./protocol/channel.ts";

/** How long `shutdown()` waits for the closing handshakes by default, in milliseconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;

/** A server's count of its open connections against `maxConnections`. */
export interface ConnectionLimit<C extends ServerChannel = ServerChannel> {
  /** `onUpgrade` that refuses with 503 when the server is full, then asks the application's. */
  onUpgrade: NonNullable<UpgradeOptions["onUpgrade"]>;
  /**
   * Counts a new connection until it closes, or closes it with 1013 when the
   * server is full.
   *
   * @returns Whether the connection was admitted.
   */
  admit(channel: C): boolean;
  /** The connections open now. */
  readonly connections: Set<C>;
}

/**
 * Counts a server's connections against `maxConnections`.
 *
 * @typeParam C The connections' type.
 * @param maxConnections The limit; `undefined` or `Infinity` for none.
 * @param onUpgrade The application's `onUpgrade`, asked when there is room.
 * @returns The limit's hooks and the set of open connections.
 * @throws {RangeError} When the limit is not a whole number of at least 1.
 */
export function connectionLimit<C extends ServerChannel = ServerChannel>(
  maxConnections: number | undefined,
  onUpgrade: UpgradeOptions["onUpgrade"],
): ConnectionLimit<C> {
  const max = maxConnections ?? Infinity;
  if (max !== Infinity && !(Number.isInteger(max) && max >= 1)) {
    throw new RangeError(
      `Cannot start server: maxConnections must be a whole number of at least 1, got ${maxConnections}`,
    );
  }
  const connections = new Set<C>();
  return {
    connections,
    onUpgrade: (request, info) => {
      if (connections.size >= max) {
        return new Response(
          `Cannot accept connection: the server has its limit of ${max} connections`,
          { status: 503, headers: { "Retry-After": "1" } },
        );
      }
      return onUpgrade?.(request, info);
    },
    admit(channel) {
      if (connections.size >= max) {
        channel.close(1013, "Server has too many connections");
        return false;
      }
      connections.add(channel);
      channel.closed.then(() => connections.delete(channel));
      return true;
    },
  };
}

/**
 * Closes every connection with 1001 and waits for their closing handshakes
 * and for `stopped`; after `timeout` milliseconds, cuts off the connections
 * still open (those on our codec; the runtimes' own end by their
 * `closeTimeout`).
 *
 * @param connections The open connections.
 * @param stop Stops accepting; settles once the server stopped.
 * @param timeout How long to wait for the closing handshakes, in milliseconds.
 * @returns Once the server stopped and every connection has ended.
 * @throws {RangeError} When the timeout is not at least 0.
 */
export async function shutDown(
  connections: ReadonlySet<ServerChannel>,
  stop: () => Promise<void>,
  timeout: number,
): Promise<void> {
  if (!(timeout >= 0)) {
    throw new RangeError(`Cannot shut down: timeout must be at least 0, got ${timeout}`);
  }
  const stopped = stop();
  const open = [...connections];
  for (const channel of open) channel.close(1001, "Server shutting down");
  const allClosed = Promise.all(open.map((channel) => channel.closed));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = await Promise.race([
    allClosed.then(() => false),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), timeout)),
  ]);
  clearTimeout(timer);
  if (late) {
    const cause = new TimeoutError(
      `Cannot close connection: the server shut down and it did not close within ${timeout} ms`,
      { option: "shutdown", timeout },
    );
    for (const channel of open) cutOff(channel, cause);
  }
  await Promise.all([stopped, allClosed]);
}
