/**
 * Runs the live-server fuzz test for as long as asked: hostile input (random
 * bytes, bit flips on random traffic and on the seed corpus in
 * `tests/fixtures/fuzz/`, random frame lengths) cut into random chunks and
 * sent to an echo server on 127.0.0.1, several sockets at a time. Seeds
 * follow each other from `--seed`, so a failure names the seed that
 * reproduces it.
 *
 *     deno run -A scripts/fuzz_live.ts [--seconds 60] [--seed 1] [--concurrency 4]
 *     bun scripts/fuzz_live.ts --seconds 600 --seed 100000
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { fuzzLive } from "../tests/_fuzz_live.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string", default: "1" },
    concurrency: { type: "string", default: "4" },
  },
});
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
if (
  !(seconds > 0) || !Number.isInteger(seed) || !(Number.isInteger(concurrency) && concurrency > 0)
) {
  console.error("usage: fuzz_live.ts [--seconds N > 0] [--seed INTEGER] [--concurrency N > 0]");
  process.exit(2);
}

const started = performance.now();
let reported = started;
try {
  const report = await fuzzLive({
    duration: seconds * 1000,
    seed,
    concurrency,
    onRound: (cases) => {
      if (performance.now() - reported < 10_000) return;
      reported = performance.now();
      const rss = (process.memoryUsage().rss / 1048576).toFixed(0);
      console.log(`${cases} cases, ${((reported - started) / 1000).toFixed(0)} s, rss ${rss} MiB`);
    },
  });
  const byCode = [...report.codes].sort(([a], [b]) => a - b).map(([code, n]) =>
    `${code === 0 ? "none" : code}: ${n}`
  );
  console.log(`${report.cases} cases, seeds ${seed}-${report.lastSeed}, no failure`);
  console.log(`server close frames: ${byCode.join(", ")}`);
  console.log(`rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
} catch (error) {
  console.error(error);
  process.exit(1);
}
