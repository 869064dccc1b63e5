/**
 * `listen` against clients no one here wrote: the runtime's own `WebSocket`,
 * npm's `ws`, and headless Chromium's, driven by `playwright-core`.
 *
 * @module
 */

import { existsSync } from "node:fs";
import {
  DEADLINE,
  type ForeignClient,
  loadWs,
  OFFERED_PROTOCOLS,
  PeerScript,
  type Plan,
  testServersAgainst,
  type WebSocketLike,
} from "./_exchange.ts";

const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";

const runtimeClient: ForeignClient = {
  name: `${runtime}'s WebSocket`,
  skip: typeof globalThis.WebSocket === "function"
    ? false
    : `needs a global WebSocket, which ${runtime} ${
      "process" in globalThis ? globalThis.process.version : ""
    } lacks`,
  run(url: string, plan: Plan, signal: AbortSignal) {
    const socket = new WebSocket(url, OFFERED_PROTOCOLS);
    const script = new PeerScript(plan);
    script.drive(socket);
    signal.addEventListener("abort", () => socket.close());
    return script.seen;
  },
};

const wsClient: ForeignClient = {
  name: "the ws client",
  skip: false,
  run(url: string, plan: Plan, signal: AbortSignal) {
    const { WebSocket } = loadWs();
    const socket = new WebSocket(url, OFFERED_PROTOCOLS);
    const script = new PeerScript(plan);
    // Its socket has the WHATWG events too, with wasClean, which its own events lack.
    script.drive(socket as WebSocketLike);
    signal.addEventListener("abort", () => socket.terminate());
    return script.seen;
  },
};

/** Debian's Chromium, which CI installs; playwright-core brings no browser. */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];
/** Launching the browser comes on top of the exchange. */
const BROWSER_DEADLINE = DEADLINE + 5000;

/** Every permission Deno has: playwright-core needs them all under Deno. */
const DENO_PERMISSIONS = ["read", "write", "net", "env", "sys", "run", "ffi", "import"];

/** Why the browser cannot be driven here, or `false`. */
function chromiumSkip(): string | false {
  if (!existsSync(CHROMIUM)) {
    return `needs Chromium at ${CHROMIUM}: install it with apt-get install chromium`;
  }
  const deno = (globalThis as {
    Deno?: { permissions: { querySync(descriptor: { name: string }): { state: string } } };
  }).Deno;
  if (
    deno !== undefined &&
    DENO_PERMISSIONS.some((name) => deno.permissions.querySync({ name }).state !== "granted")
  ) {
    return "needs deno test -A: playwright-core reads the home directory (--allow-sys) and " +
      "/proc/sys (which Deno grants with --allow-all only)";
  }
  return false;
}

const chromiumClient: ForeignClient = {
  name: "Chromium's WebSocket",
  skip: chromiumSkip(),
  async run(url: string, plan: Plan, signal: AbortSignal) {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const closeBrowser = () => browser.close().catch(() => {});
    signal.addEventListener("abort", closeBrowser);
    try {
      const page = await browser.newPage();
      // The page runs the same script, from its source.
      await page.addScriptTag({ content: `globalThis.PeerScript = ${PeerScript};` });
      return await page.evaluate(({ url, plan, protocols }) => {
        const Script = (globalThis as unknown as { PeerScript: typeof PeerScript }).PeerScript;
        const script = new Script(plan);
        script.drive(new WebSocket(url, protocols));
        return script.seen;
      }, { url, plan, protocols: OFFERED_PROTOCOLS });
    } finally {
      signal.removeEventListener("abort", closeBrowser);
      await closeBrowser();
    }
  },
};

testServersAgainst(runtimeClient);
testServersAgainst(wsClient);
testServersAgainst(chromiumClient, BROWSER_DEADLINE);
