import { test } from "node:test";
import process from "node:process";
import assert from "node:assert/strict";
import { fuzzLive, LIVE_INPUTS, liveInput, loadCorpus } from "./_fuzz_live.ts";

test("the seed corpus holds valid client traffic", () => {
  const corpus = loadCorpus();
  assert.ok(corpus.length >= 5, `${corpus.length} samples`);
  // Client frames: a final or first frame of a known opcode, masked.
  for (const sample of corpus) {
    assert.ok([0x01, 0x02, 0x81, 0x82, 0x88, 0x89, 0x8a].includes(sample[0]!));
    assert.ok((sample[1]! & 0x80) !== 0);
  }
});

test("a live fuzz case is the same bytes for the same seed", () => {
  const corpus = loadCorpus();
  for (const kind of LIVE_INPUTS) {
    assert.deepEqual(liveInput(kind, 42, corpus), liveInput(kind, 42, corpus));
  }
});

test("a live server answers hostile input with valid close codes and keeps serving", {
  timeout: 60_000,
}, async () => {
  const before = process.memoryUsage().rss;
  const report = await fuzzLive({ duration: 8_000, seed: 1, concurrency: 4 });
  assert.ok(report.cases >= 20, `only ${report.cases} cases`);
  // The server closed some cases itself, with a code of its own.
  const closedWithCode = [...report.codes].filter(([code]) => code !== 0);
  assert.ok(closedWithCode.length > 0, `codes ${[...report.codes]}`);
  const grown = process.memoryUsage().rss - before;
  assert.ok(grown < 256 * 1024 * 1024, `rss grew by ${grown} bytes`);
});
