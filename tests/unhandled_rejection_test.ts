import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("./fixtures/unhandled_rejection.mjs", import.meta.url));

/** How the runtime running this suite runs one test file, as `npm test` runs the suite. */
function testCommand(file: string): string[] {
  if ("Deno" in globalThis) return ["test", "--allow-read", file];
  if ("Bun" in globalThis) return ["test", file];
  // As scripts/build_npm.ts runs the suite under Node.
  return ["--unhandled-rejections=strict", "--test", file];
}

test("the test runner fails a test file that leaves a rejection unhandled", () => {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  // Node's runner marks its child processes so; a runner started with it runs no files.
  delete env.NODE_TEST_CONTEXT;
  const { status, stdout, stderr } = spawnSync(process.execPath, testCommand(FIXTURE), {
    encoding: "utf8",
    timeout: 60_000,
    env,
  });
  assert.notEqual(status, 0, `the run passed:\n${stdout}\n${stderr}`);
  assert.match(stdout + stderr, /deliberately unhandled/);
});
