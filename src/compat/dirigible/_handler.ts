/**
 * Websocket handlers: the object shape of one, and loading one from a module
 * specifier with dynamic `import()`.
 *
 * @module
 */

import { existsSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * The callbacks of a websocket handler, any subset of them: the exports of a
 * handler module, or an object passed to `createWebsocket`.
 */
export interface WebsocketHandler {
  /** Called once the connection is open. */
  onOpen?: (() => unknown) | undefined;
  /** Called with each text message received. */
  onMessage?: ((message: string) => unknown) | undefined;
  /** Called with the message of an error: a failed connection or a callback that threw. */
  onError?: ((error: string) => unknown) | undefined;
  /** Called once the connection has closed. */
  onClose?: (() => unknown) | undefined;
}

/** The callback names, in the order of a connection's life. */
export const CALLBACK_NAMES = ["onOpen", "onMessage", "onError", "onClose"] as const;

/** Module extensions tried, in order, after a path without one. */
const EXTENSIONS = [".ts", ".js", ".mjs", ".cjs"];
/** The JavaScript a TypeScript module is compiled to, by extension. */
const COMPILED: Record<string, string> = { ".ts": ".js", ".mts": ".mjs", ".cts": ".cjs" };

/**
 * Checks that an object is a handler: every callback it has is a function.
 *
 * @returns A message saying what is wrong, or `undefined`.
 */
export function checkHandler(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) {
    return `expected an object with onOpen, onMessage, onError or onClose, got ${typeName(value)}`;
  }
  for (const name of CALLBACK_NAMES) {
    const callback = (value as Record<string, unknown>)[name];
    if (callback !== undefined && typeof callback !== "function") {
      return `${name} must be a function, got ${typeName(callback)}`;
    }
  }
  return undefined;
}

/**
 * Loads a handler module and returns its callbacks: its named exports, or
 * failing those its default export (as a CommonJS module's `exports` is).
 *
 * A relative path is resolved against `base`. A `file:` path that does not
 * exist is tried with `.ts`, `.js`, `.mjs` and `.cjs` added, and a `.ts`
 * path with its compiled `.js` sibling; a `.ts` file that the runtime cannot
 * import (Node without type stripping) falls back to that sibling too.
 *
 * @param specifier A URL, an absolute path, or a path relative to `base`.
 * @param base The URL relative paths are resolved against.
 * @returns The handler's callbacks.
 * @throws {Error} When no module loads or it exports no callback; the message
 * is the detail, for the caller to put after its own.
 */
export async function importHandler(specifier: string, base: URL): Promise<WebsocketHandler> {
  const url = resolveSpecifier(specifier, base);
  const candidates = url.protocol === "file:" ? fileCandidates(url) : [url];
  if (candidates.length === 0) {
    throw new Error(`no module at ${fileURLToPath(url)}`);
  }
  let module: Record<string, unknown> | undefined;
  let failure: unknown;
  for (const candidate of candidates) {
    try {
      module = await import(candidate.href);
      break;
    } catch (error) {
      failure ??= error;
    }
  }
  if (module === undefined) {
    throw new Error(describe(failure), { cause: failure });
  }
  const callbacks = CALLBACK_NAMES.some((name) => module[name] !== undefined)
    ? module
    : module.default;
  if (
    typeof callbacks !== "object" || callbacks === null ||
    !CALLBACK_NAMES.some((name) => (callbacks as Record<string, unknown>)[name] !== undefined)
  ) {
    throw new Error(`it exports none of ${CALLBACK_NAMES.join(", ")}`);
  }
  const problem = checkHandler(callbacks);
  if (problem !== undefined) throw new Error(problem);
  return callbacks as WebsocketHandler;
}

/** The URL of a specifier: a URL as it is, a path as a `file:` URL. */
function resolveSpecifier(specifier: string, base: URL): URL {
  // A scheme of two letters or more; one letter is a Windows drive.
  if (/^[a-z][a-z\d+.-]+:/i.test(specifier)) return new URL(specifier);
  if (isAbsolute(specifier)) return pathToFileURL(specifier);
  return new URL(specifier.split("\\").join("/"), base);
}

/** The files to try importing for a `file:` URL, in order. */
function fileCandidates(url: URL): URL[] {
  const path = fileURLToPath(url);
  const extension = /\.[cm]?ts$/.exec(path)?.[0];
  const compiled = extension === undefined
    ? undefined
    : new URL(`${url.href.slice(0, -extension.length)}${COMPILED[extension]}`);
  if (isFile(path)) {
    return compiled !== undefined && isFile(fileURLToPath(compiled)) ? [url, compiled] : [url];
  }
  if (compiled !== undefined) return isFile(fileURLToPath(compiled)) ? [compiled] : [];
  return EXTENSIONS.map((added) => new URL(`${url.href}${added}`))
    .filter((candidate) => isFile(fileURLToPath(candidate)));
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The message of an error, or the value as a string. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A value's type for an error message: `null`, `an array` or its `typeof`. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
