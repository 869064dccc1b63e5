/**
 * The whole check, as `npm test` and `deno task ok` run it: format, lint,
 * type check, `deno doc --lint`, `deno publish --dry-run`, the tests with
 * every JSDoc and README example under Deno, the tests under Bun, then the
 * npm build and the tests under Node against it. Each step runs even when an
 * earlier one failed; the last line counts them.
 *
 *     deno run --allow-run --allow-read --allow-env scripts/test.ts
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) =>
  fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
const deno = bin("deno");
const bun = bin("bun");

/** Every entry point of deno.json's exports map, as a path from the root. */
const DOCUMENTED_ENTRY_POINTS = Object.values(
  (JSON.parse(readFileSync(new URL("../deno.json", import.meta.url), "utf8")) as {
    exports: Record<string, string>;
  }).exports,
).map((path) => path.replace(/^\.\//, ""));
const TYPED_SOURCES = ["mod.ts", "cli.ts", "src/", "tests/", "bench/", "examples/", "scripts/"];

const steps: [name: string, command: string, args: string[]][] = [
  ["format", deno, ["fmt", "--check"]],
  ["lint", deno, ["lint"]],
  ["type check", deno, ["check", ...TYPED_SOURCES]],
  // Each entry point alone: its documentation must not lean on another's exports.
  ...DOCUMENTED_ENTRY_POINTS.map((
    entry,
  ): [string, string, string[]] => [`documentation of ${entry}`, deno, ["doc", "--lint", entry]]),
  ["publish dry run", deno, ["publish", "--dry-run", "--allow-dirty"]],
  ["tests and examples under Deno", deno, [
    "test",
    "--doc",
    // Network tests talk to 127.0.0.1 only; TLS fixtures and Unix sockets need files.
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "mod.ts",
    "cli.ts",
    "src/",
    "tests/",
    "README.md",
  ]],
  ["tests under Bun", bun, ["test", "./tests/"]],
  ["npm build and tests under Node", deno, ["run", "-A", "scripts/build_npm.ts"]],
];

const failed: string[] = [];
for (const [name, command, args] of steps) {
  console.log(`\n=== ${name}`);
  const { status, error } = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (error !== undefined || status !== 0) {
    failed.push(name);
    console.log(`=== ${name}: failed${error ? ` (${error.message})` : ""}`);
  }
}
console.log(`\nfailed: ${failed.length === 0 ? "none" : failed.join(", ")}`);
console.log(`checks: ${steps.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length === 0 ? 0 : 1;
