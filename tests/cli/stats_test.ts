import { test } from "node:test";
import assert from "node:assert/strict";
import { Stats } from "../../src/cli/stats.ts";

test("Stats counts messages and their UTF-8 bytes each way", () => {
  const stats = new Stats();
  stats.countSent("h\u00e9llo");
  stats.countSent(new Uint8Array(10));
  stats.countReceived("\u2713");
  const [line, ...rest] = stats.format();
  assert.match(
    line ?? "",
    /^sent 2 messages \(16 bytes\), received 1 message \(3 bytes\) in \d+\.\d s$/,
  );
  assert.deepEqual(rest, [], "no round-trip line without pings");
});

test("Stats gives the minimum, median and maximum round trip", () => {
  const stats = new Stats();
  stats.roundTrips.push(4, 1, 30.25, 2);
  assert.equal(
    stats.format()[1],
    "round trip of 4 pings: min 1.00 ms, median 3.00 ms, max 30.3 ms",
  );
  stats.roundTrips.push(0.5);
  assert.equal(
    stats.format()[1],
    "round trip of 5 pings: min 0.50 ms, median 2.00 ms, max 30.3 ms",
  );
});
