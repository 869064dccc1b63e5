/**
 * Picks the raw-socket adapter of the runtime this code runs on, loading
 * only that one: importing the Deno adapter never loads Bun's, and so on.
 *
 * @module
 */

import type { RuntimeNet } from "./_transport.ts";

let loading: Promise<RuntimeNet> | undefined;

/**
 * Returns the raw-socket adapter of the current runtime: Bun, Deno, or Node
 * (and anything else that provides `node:net`).
 *
 * @returns The adapter, loaded once.
 */
export function runtimeNet(): Promise<RuntimeNet> {
  loading ??= "Bun" in globalThis
    ? import("./bun.ts").then((module) => module.bunNet)
    : "Deno" in globalThis
    ? import("./deno.ts").then((module) => module.denoNet)
    : import("./node.ts").then((module) => module.nodeNet);
  return loading;
}
