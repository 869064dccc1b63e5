/**
 * Plain HTTP requests answered with the files of one directory, for
 * `serve --static DIR`.
 *
 * @module
 */

import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
};

/**
 * Makes a `fetch` handler that answers GET and HEAD requests with the files
 * under `directory` (`index.html` for a directory), 404 for anything else
 * there, and 405 for other methods. A path that leads out of the directory
 * is not found.
 *
 * @param directory The directory whose files are served.
 * @returns The handler.
 */
export function staticFiles(directory: string): (request: Request) => Promise<Response> {
  const root = resolve(directory);
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const file = await findFile(root, new URL(request.url).pathname);
    if (file === undefined) return new Response("Not Found", { status: 404 });
    const body = request.method === "HEAD" ? null : await readFile(file);
    return new Response(body, {
      headers: {
        "content-type": CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
      },
    });
  };
}

/** The file a request path names under `root`, or `undefined`. */
async function findFile(root: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  let path = resolve(join(root, decoded));
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  try {
    if ((await stat(path)).isDirectory()) path = join(path, "index.html");
    return (await stat(path)).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}
