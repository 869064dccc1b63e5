/**
 * Headless Chromium for the tests that talk to a browser: Debian's
 * `/usr/bin/chromium` driven by `playwright-core`, which brings no browser
 * of its own. Where Chromium is missing, or Deno lacks a permission
 * `playwright-core` needs, the tests skip themselves and say why.
 *
 * @module
 */

import { existsSync } from "node:fs";
import type { Page } from "playwright-core";

/** Debian's Chromium, which CI installs. */
export const CHROMIUM = "/usr/bin/chromium";
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

/** Every permission Deno has: playwright-core needs them all under Deno. */
const DENO_PERMISSIONS = ["read", "write", "net", "env", "sys", "run", "ffi", "import"];

/**
 * Why the browser cannot be driven here, for a test's `skip`.
 *
 * @returns The reason, or `false` when it can.
 */
export function chromiumSkip(): string | false {
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

/**
 * Launches Chromium, runs `body` with a new page, and closes the browser
 * afterwards, or as soon as `signal` aborts.
 *
 * @param body What to do in the page.
 * @param signal Closes the browser early.
 * @returns What `body` returns.
 */
export async function withChromiumPage<T>(
  body: (page: Page) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const closeBrowser = () => browser.close().catch(() => {});
  signal?.addEventListener("abort", closeBrowser);
  try {
    return await body(await browser.newPage());
  } finally {
    signal?.removeEventListener("abort", closeBrowser);
    await closeBrowser();
  }
}
