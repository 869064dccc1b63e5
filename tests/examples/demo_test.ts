import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { connect, type Message } from "../../mod.ts";
import { chromiumSkip, withChromiumPage } from "../_chromium.ts";
import { ExampleProcess, TIMEOUT, within } from "./_process.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/**
 * Where screenshots go: `test-artifacts/` at the repository's root, from
 * tests/examples/ here or from npm/test/examples/ under Node.
 */
const ARTIFACTS = fileURLToPath(
  new URL(
    import.meta.url.endsWith(".ts") ? "../../test-artifacts/" : "../../../test-artifacts/",
    import.meta.url,
  ),
);

/** Starts the demo on a free port and hands its address to `body`; stops it afterwards. */
async function withDemo(body: (url: string, demo: ExampleProcess) => Promise<void>): Promise<void> {
  const demo = new ExampleProcess("demo/main", ["--port", "0"]);
  try {
    const [, url] = await demo.line(
      /^demo running: open (http:\/\/127\.0\.0\.1:\d+\/) in a browser$/,
    );
    await body(url!, demo);
  } finally {
    await demo.stop();
  }
}

async function nextMessage(reader: ReadableStreamDefaultReader<Message>): Promise<unknown> {
  const { value } = await within(reader.read(), "message");
  return JSON.parse(String(value));
}

test("demo serves its pages and relays chat messages to everyone in the room", {
  timeout: 3 * TIMEOUT,
}, async () => {
  await withDemo(async (url) => {
    for (const path of ["", "chat.html", "echo.html", "chat.js", "echo.js", "style.css"]) {
      const response = await within(fetch(`${url}${path}`), "page");
      assert.equal(response.status, 200, path);
      assert.ok((await response.text()).length > 100, path);
    }
    const missing = await within(fetch(`${url}missing`), "page");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    const ws = url.replace(/^http/, "ws");
    const alice = await within(connect(`${ws}ws/chat`), "connection");
    const aliceReader = alice.readable.getReader();
    assert.deepEqual(await nextMessage(aliceReader), { type: "presence", count: 1 });
    const bob = await within(connect(`${ws}ws/chat`), "connection");
    const bobReader = bob.readable.getReader();
    assert.deepEqual(await nextMessage(aliceReader), { type: "presence", count: 2 });
    assert.deepEqual(await nextMessage(bobReader), { type: "presence", count: 2 });
    await alice.writable.getWriter().write(JSON.stringify({ name: "alice", text: "hi <b>" }));
    for (const reader of [aliceReader, bobReader]) {
      const event = await nextMessage(reader) as Record<string, unknown>;
      assert.deepEqual({ ...event, time: typeof event.time }, {
        type: "message",
        name: "alice",
        text: "hi <b>",
        time: "string",
      });
    }
    // Something that is not a chat message closes the sender with 1003.
    await bob.writable.getWriter().write("not json");
    assert.equal((await within(bob.closed, "close")).code, 1003);
    assert.deepEqual(await nextMessage(aliceReader), { type: "presence", count: 1 });

    const echo = await within(connect(`${ws}ws/echo`), "connection");
    await echo.writable.getWriter().write("ping");
    assert.equal((await within(echo.readable.getReader().read(), "echo")).value, "ping");
    echo.close(1000);
    alice.close(1000);
    await within(Promise.all([echo.closed, alice.closed]), "close");
  });
});

/** The texts of the chat messages a page shows, without their times. */
function chatLines(page: Page): Promise<string[]> {
  return page.$$eval(
    "#messages li",
    (items) => items.map((item) => item.textContent!.replace(/^.*? (?=\S+: )/, "")),
  );
}

async function say(page: Page, name: string, text: string): Promise<void> {
  await page.fill("#name", name);
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

test("demo chat room: two Chromium pages talk to each other", {
  timeout: 6 * TIMEOUT,
  skip: chromiumSkip(),
}, async () => {
  await withDemo(async (url) => {
    await within(
      withChromiumPage(async (alice) => {
        // A page of its own context, as another person's browser would be.
        const bob = await alice.context().browser()!.newPage();
        for (const page of [alice, bob]) {
          await page.goto(`${url}chat.html`);
          await page.waitForSelector('body[data-state="open"]', { timeout: TIMEOUT });
        }
        await alice.waitForSelector("#status:has-text('2 in the room')", { timeout: TIMEOUT });
        await say(alice, "alice", "hello from alice");
        await bob.waitForSelector("#messages li:has-text('hello from alice')", {
          timeout: TIMEOUT,
        });
        await say(bob, "bob", "hi alice, <b>not bold</b>");
        for (const page of [alice, bob]) {
          await page.waitForSelector("#messages li:nth-child(2)", { timeout: TIMEOUT });
          assert.deepEqual(await chatLines(page), [
            "alice: hello from alice",
            "bob: hi alice, <b>not bold</b>",
          ]);
          assert.equal(await page.locator("#messages b").count(), 0, "text stays text");
        }
        mkdirSync(ARTIFACTS, { recursive: true });
        await alice.screenshot({ path: `${ARTIFACTS}demo-chat-alice-${runtime}.png` });
        await bob.screenshot({ path: `${ARTIFACTS}demo-chat-bob-${runtime}.png` });
      }),
      "chat between two pages",
    );
  });
});

test("demo echo page measures round trips and draws them", {
  timeout: 6 * TIMEOUT,
  skip: chromiumSkip(),
}, async () => {
  await withDemo(async (url) => {
    await within(
      withChromiumPage(async (page) => {
        await page.goto(`${url}echo.html`);
        await page.waitForSelector('body[data-state="open"]', { timeout: TIMEOUT });
        await page.fill("#text", "echo me");
        await page.press("#text", "Enter");
        await page.waitForSelector("#echoes li:has-text('echo me')", { timeout: TIMEOUT });
        // A string, run in the page: the tests are type-checked without the DOM's types.
        await page.waitForFunction(
          `/^last [\\d.]+ ms, median [\\d.]+ ms/.test(document.getElementById("latency").textContent) &&
            Number(document.getElementById("graph").dataset.samples) >= 8`,
          undefined,
          { timeout: TIMEOUT },
        );
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: `${ARTIFACTS}demo-echo-${runtime}.png` });
      }),
      "echo page",
    );
  });
});
