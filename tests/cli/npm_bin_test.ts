import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TIMEOUT, within } from "./_cli.ts";

// Under Node this file runs from npm/test/cli/, two levels below the built package.
const underNode = !("Deno" in globalThis) && !("Bun" in globalThis);
const packageDir = new URL("../../", import.meta.url);

test("the npm package's seed-websocket program runs the command-line tool", {
  timeout: 2 * TIMEOUT,
  skip: underNode ? false : "checks the npm build, which only Node runs",
}, async () => {
  const manifest = JSON.parse(readFileSync(new URL("package.json", packageDir), "utf8")) as {
    bin?: Record<string, string>;
  };
  assert.deepEqual(manifest.bin, { "seed-websocket": "./esm/cli.js" });
  const program = fileURLToPath(new URL(manifest.bin["seed-websocket"]!, packageDir));
  assert.match(readFileSync(program, "utf8"), /^#!\/usr\/bin\/env node\n/);
  // Run as a file, as npm's link to it is: the shebang picks node.
  const child = spawn(program, ["connect", "--help"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => stdout += text);
  const code = await within(
    new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    }),
    "exit of seed-websocket",
  );
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: seed-websocket connect \[options\] URL$/m);
});
