/**
 * Helpers of the Accessors tests: waiting for events, recording them, and
 * servers that refuse or never answer.
 *
 * @module
 */

import type { Emitter } from "../../../src/compat/_events.ts";
import { Server, type ServerOptions } from "../../../src/compat/accessors/mod.ts";
import { type Loopback, serve, within } from "../../_servers.ts";

/**
 * The arguments of the next event of a name.
 *
 * @param emitter The client, server or socket.
 * @param name The event name.
 * @param ms How long to wait.
 * @returns The event's arguments.
 */
export function nextEvent(emitter: Emitter, name: string, ms?: number): Promise<unknown[]> {
  return within(
    new Promise((resolve) => emitter.once(name, (...args: unknown[]) => resolve(args))),
    `${name} event`,
    ms,
  );
}

/**
 * Records events as short strings, in order: the name, then the first
 * argument as JSON when there is one.
 *
 * @param emitter The client, server or socket.
 * @param names The events to record.
 * @returns The log, filled as events come.
 */
export function record(emitter: Emitter, names: string[]): string[] {
  const log: string[] = [];
  for (const name of names) {
    emitter.on(name, (...args: unknown[]) => {
      log.push(args.length === 0 ? name : `${name}:${JSON.stringify(args[0])}`);
    });
  }
  return log;
}

/**
 * An Accessors server on 127.0.0.1 and a free port, started.
 *
 * @param options More options.
 * @returns The listening server.
 */
export async function startServer(options: ServerOptions = {}): Promise<Server> {
  const server = new Server({ hostInterface: "127.0.0.1", port: 0, ...options });
  server.on("error", () => {});
  await within(server.start(), "server start");
  return server;
}

/** A server of the core that refuses some upgrade requests. */
export interface RefusingServer extends Loopback {
  /** The port it listens on. */
  port: number;
  /** When each upgrade request arrived, from `performance.now()`. */
  arrivals: number[];
}

/**
 * A server of the core, whose connections nobody reads, that refuses with 503 the upgrade requests
 * whose number (from 1) `refuse` picks.
 *
 * @param refuse Which requests to refuse.
 * @returns The running server.
 */
export async function refusingServer(
  refuse: (request: number) => boolean,
): Promise<RefusingServer> {
  const arrivals: number[] = [];
  const loopback = await serve(() => {}, {
    onUpgrade: () => {
      arrivals.push(performance.now());
      if (refuse(arrivals.length)) return new Response("not now", { status: 503 });
    },
  });
  return { ...loopback, port: Number(new URL(loopback.url).port), arrivals };
}

/**
 * The gaps between consecutive times.
 *
 * @param times Times in milliseconds.
 * @returns Each time minus the one before.
 */
export function gaps(times: number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!);
}
