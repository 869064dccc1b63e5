/**
 * The Eclipse Dirigible examples as processes: the server serving
 * `my-endpoint` and `echo`, the upstream client example talking to it, and
 * browser-style clients (our `WebSocket` class and headless Chromium) talking
 * to its endpoints.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { listen, WebSocket as OurWebSocket } from "../../../mod.ts";
import { chromiumSkip, withChromiumPage } from "../../_chromium.ts";
import { ExampleProcess, run, TIMEOUT, within } from "../_process.ts";

const SERVER = "compat/dirigible/server";
const CLIENT = "compat/dirigible/client";

/** The lines of some output. */
function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** Starts the server example on a free port and hands its URL to `body`; stops it afterwards. */
async function withServer(
  body: (url: string, server: ExampleProcess) => Promise<void> | void,
): Promise<void> {
  const server = new ExampleProcess(SERVER, ["--port", "0"]);
  try {
    const url = await server.listening();
    await server.line(/^serving .*my-endpoint /);
    await body(url, server);
  } finally {
    await server.stop();
  }
}

/** What the page or our client saw of one exchange with the server example. */
interface Seen {
  echoed: string[];
  closeCode: number;
}

/**
 * In a browser or with our `WebSocket`: sends `message` to `my-endpoint` and
 * closes, then sends two messages to `echo` and collects what comes back.
 * Written without closures over the module so that the page can run it from
 * its source.
 */
function talkToEndpoints(
  base: string,
  message: string,
  WebSocketClass: typeof globalThis.WebSocket,
): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const logging = new WebSocketClass(`${base}my-endpoint`);
    logging.onerror = () => reject(new Error("my-endpoint failed"));
    logging.onopen = () => {
      logging.send(message);
      logging.close(1000);
    };
    logging.onclose = () => {
      const echo = new WebSocketClass(`${base}echo`);
      const echoed: string[] = [];
      echo.onerror = () => reject(new Error("echo failed"));
      echo.onopen = () => {
        echo.send(message);
        echo.send("h\u00e9llo \u2713");
      };
      echo.onmessage = (event) => {
        echoed.push(event.data as string);
        if (echoed.length === 2) echo.close(1000, "done");
      };
      echo.onclose = (event) => resolve({ echoed, closeCode: event.code });
    };
  });
}

/** Checks what the server example printed for one client's exchange. */
async function assertServerLogged(server: ExampleProcess, message: string): Promise<void> {
  await server.line(new RegExp(`^Message received: ${message}$`));
  const logged = lines(server.stdout);
  const at = logged.indexOf(`Message received: ${message}`);
  assert.equal(logged[at - 1], "Connection openned.", server.stdout);
  await server.waitFor(
    "Connection closed.",
    () => server.stderr.includes("Connection closed.\n") || undefined,
  );
}

test("dirigible server prints where it serves my-endpoint and echo", {
  timeout: 2 * TIMEOUT,
}, async () => {
  await withServer((url, server) => {
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(lines(server.stdout), [
      `listening on ${url}`,
      `serving ${url}/websockets/v4/service/echo (Sends every message back)`,
      `serving ${url}/websockets/v4/service/my-endpoint (My Websocket)`,
    ]);
    assert.equal(server.stderr, "");
  });
});

test("dirigible client, the upstream example, sends hello to my-endpoint and closes", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(async (url, server) => {
    const uri = `${url}/websockets/v4/service/my-endpoint`;
    const { code, stdout, stderr } = await run(CLIENT, [uri]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(lines(stdout), [`Connect to: ${uri}`, "Connection openned."]);
    assert.deepEqual(lines(stderr), ["Connection closed."]);
    await assertServerLogged(server, "hello");
    assert.deepEqual(lines(server.stdout).slice(3), [
      "Connection openned.",
      "Message received: hello",
    ]);
    assert.deepEqual(lines(server.stderr), ["Connection closed."]);
  });
});

test("dirigible client calls onError then onClose when nothing listens", {
  timeout: 2 * TIMEOUT,
}, async () => {
  const closed = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await closed.close();
  const uri = `ws://127.0.0.1:${closed.port}/websockets/v4/service/my-endpoint`;
  const { code, stdout, stderr } = await run(CLIENT, [uri]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(lines(stdout), [`Connect to: ${uri}`]);
  const errors = lines(stderr);
  assert.equal(errors.length, 2, stderr);
  assert.match(errors[0]!, /^Error: \S/);
  assert.equal(errors[1], "Connection closed.");
});

test("dirigible server's endpoints talk to our WebSocket class", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(async (url, server) => {
    const seen = await within(
      talkToEndpoints(
        `${url}/websockets/v4/service/`,
        "from WebSocket",
        OurWebSocket as unknown as typeof globalThis.WebSocket,
      ),
      "exchange",
    );
    assert.deepEqual(seen, { echoed: ["from WebSocket", "h\u00e9llo \u2713"], closeCode: 1000 });
    await assertServerLogged(server, "from WebSocket");
  });
});

test("dirigible server's endpoints talk to Chromium's WebSocket", {
  timeout: 4 * TIMEOUT,
  skip: chromiumSkip(),
}, async () => {
  await withServer(async (url, server) => {
    const seen = await within(
      withChromiumPage(async (page) => {
        await page.addScriptTag({ content: `globalThis.talkToEndpoints = ${talkToEndpoints};` });
        return await page.evaluate((base) => {
          const talk = (globalThis as unknown as { talkToEndpoints: typeof talkToEndpoints })
            .talkToEndpoints;
          return talk(base, "from Chromium", WebSocket);
        }, `${url}/websockets/v4/service/`);
      }),
      "exchange with Chromium",
    );
    assert.deepEqual(seen, { echoed: ["from Chromium", "h\u00e9llo \u2713"], closeCode: 1000 });
    await assertServerLogged(server, "from Chromium");
  });
});

test("dirigible server closes connections with 1001 and exits 0 on SIGTERM", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withServer(async (url, server) => {
    const socket = new OurWebSocket(`${url}/websockets/v4/service/echo`);
    const closed = new Promise<number>((resolve) =>
      socket.onclose = (event) => resolve(event.code)
    );
    await within(new Promise((resolve) => socket.onopen = resolve), "open");
    // Not server.child.kill(): see the SIGTERM test of echo_server.
    process.kill(server.child.pid!, "SIGTERM");
    assert.equal(await within(closed, "close"), 1001);
    assert.deepEqual(await server.exit(), { code: 0, signal: null }, server.stderr);
  });
});

test("dirigible server exits 2 with one line on stderr for a bad flag", {
  timeout: 2 * TIMEOUT,
}, async () => {
  for (const args of [["--no-such-flag"], ["--port", "http"]]) {
    const { code, stdout, stderr } = await run(SERVER, args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(stderr, /^server: /);
  }
});
