import { test } from "node:test";
import assert from "node:assert/strict";
import { lines, runCli, TIMEOUT } from "./_cli.ts";

for (const args of [["--help"], ["help"], ["connect", "--help"], ["serve", "-h"]]) {
  test(`seed-websocket ${args.join(" ")} prints the help and exits 0`, {
    timeout: 2 * TIMEOUT,
  }, async () => {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    const command = args.length === 2 ? args[0] : "COMMAND";
    assert.match(stdout, new RegExp(`^Usage: seed-websocket ${command} \\[options\\]`));
    if (command !== "COMMAND") assert.match(stdout, /^Options:$/m);
  });
}

test("seed-websocket reports each bad command line in one line and exits 2", {
  timeout: 6 * TIMEOUT,
}, async () => {
  const cases: [string[], RegExp][] = [
    [[], /expected a command/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["connect"], /connect takes one URL, got 0 arguments/],
    [["connect", "--bogus", "ws://127.0.0.1:1"], /unknown option '--bogus'/],
    [["connect", "not a url"], /"not a url" is not a URL/],
    [["connect", "ftp://example.com"], /is not a ws:\/\/, wss:\/\/ or ws\+unix: URL/],
    [["connect", "-H", "no colon", "ws://127.0.0.1:1"], /--header takes "Name: value"/],
    [["connect", "--ping", "soon", "ws://127.0.0.1:1"], /--ping must be a number of seconds/],
    [["connect", "-b", "-j", "ws://127.0.0.1:1"], /--binary and --json cannot be used together/],
    [["serve", "--port", "http"], /--port must be a whole number from 0 to 65535/],
    [["serve", "--mode", "fast"], /--mode must be native or raw/],
    [["serve", "extra"], /serve takes no arguments/],
    [["serve", "--cert", "cert.pem"], /--cert and --key go together/],
    [
      ["connect", "--ca", "/no/such/ca.pem", "wss://127.0.0.1:1"],
      /cannot read \/no\/such\/ca\.pem/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    const shown = `seed-websocket ${args.join(" ")}: ${stderr}`;
    assert.equal(code, 2, shown);
    assert.equal(stdout, "", shown);
    assert.equal(lines(stderr).length, 1, shown);
    assert.match(stderr, /^seed-websocket: .* \(see --help\)\n$/, shown);
    assert.match(stderr, pattern, shown);
  }
});
