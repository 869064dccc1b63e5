/**
 * Feeds hostile input to connections for as long as asked: random garbage,
 * garbage behind a plausible frame header, and valid traffic with flipped
 * bits, in both roles, cut at random points. Every case checks the
 * invariants of the property tests (no exception out of `receive`, one end
 * with a valid close code, bounded time and output). Seeds follow each other
 * from `--seed`, so a failure names the seed that reproduces it.
 *
 *     deno run scripts/fuzz.ts [--seconds 60] [--seed 1]
 *     bun scripts/fuzz.ts --seconds 600 --seed 100000
 *
 * @module
 */

import { parseArgs } from "node:util";
import { HOSTILE_INPUTS, survive } from "../tests/conformance/_fuzz.ts";
import { ROLES } from "../tests/conformance/_harness.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string", default: "1" },
  },
});
const seconds = Number(values.seconds);
const firstSeed = Number(values.seed);
if (!(seconds > 0) || !Number.isInteger(firstSeed)) {
  console.error("usage: fuzz.ts [--seconds N > 0] [--seed INTEGER]");
  process.exit(2);
}

const codes = new Map<number, number>();
const deadline = performance.now() + seconds * 1000;
let seed = firstSeed;
let cases = 0;
while (performance.now() < deadline) {
  for (const kind of HOSTILE_INPUTS) {
    for (const role of ROLES) {
      try {
        const code = survive(kind, role, seed);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        cases++;
      } catch (error) {
        console.error(`failed: ${kind}, ${role}, seed ${seed}`);
        console.error(error);
        process.exit(1);
      }
    }
  }
  seed++;
}

const byCode = [...codes].sort(([a], [b]) => a - b).map(([code, n]) => `${code}: ${n}`);
console.log(`${cases} cases, seeds ${firstSeed}-${seed - 1}, no failure`);
console.log(`ended with ${byCode.join(", ")}`);
console.log(`rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
