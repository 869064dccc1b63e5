/**
 * `listen` against clients no one here wrote: the runtime's own `WebSocket`,
 * npm's `ws`, and headless Chromium's, driven by `playwright-core`.
 *
 * @module
 */

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
import { chromiumSkip, withChromiumPage } from "../_chromium.ts";

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

/** Launching the browser comes on top of the exchange. */
const BROWSER_DEADLINE = DEADLINE + 5000;

const chromiumClient: ForeignClient = {
  name: "Chromium's WebSocket",
  skip: chromiumSkip(),
  run(url: string, plan: Plan, signal: AbortSignal) {
    return withChromiumPage(async (page) => {
      // The page runs the same script, from its source.
      await page.addScriptTag({ content: `globalThis.PeerScript = ${PeerScript};` });
      return await page.evaluate(({ url, plan, protocols }) => {
        const Script = (globalThis as unknown as { PeerScript: typeof PeerScript }).PeerScript;
        const script = new Script(plan);
        script.drive(new WebSocket(url, protocols));
        return script.seen;
      }, { url, plan, protocols: OFFERED_PROTOCOLS });
    }, signal);
  },
};

testServersAgainst(runtimeClient);
testServersAgainst(wsClient);
testServersAgainst(chromiumClient, BROWSER_DEADLINE);
