import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate } from "node:timers";
import { WriteCork } from "../../src/runtime/_cork.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

test("WriteCork sends the small writes of one turn together on the next", async () => {
  const sent: Uint8Array[] = [];
  const cork = new WriteCork((chunk) => void sent.push(chunk.slice()));
  assert.equal(cork.write(bytes(3, 1)), undefined);
  assert.equal(cork.write(bytes(2, 2)), undefined);
  assert.equal(sent.length, 0);
  assert.equal(cork.idle, false);
  await nextTurn();
  assert.deepEqual(sent, [new Uint8Array([1, 1, 1, 2, 2])]);
  assert.equal(cork.idle, true);
});

test("WriteCork sends what is corked before a large chunk, in order", async () => {
  const sent: number[][] = [];
  const cork = new WriteCork((chunk) => void sent.push([chunk.length, chunk[0]!]));
  cork.write(bytes(10, 1));
  await cork.write(bytes(64 * 1024, 2));
  assert.deepEqual(sent, [[10, 1], [64 * 1024, 2]]);
  await nextTurn();
  assert.equal(sent.length, 2);
});

test("WriteCork sends at most 16 KiB corked: a write past that sends the rest first", async () => {
  const sent: number[] = [];
  const cork = new WriteCork((chunk) => void sent.push(chunk.length));
  for (let i = 0; i < 3; i++) cork.write(bytes(6 * 1024, i));
  assert.deepEqual(sent, [12 * 1024, 6 * 1024]);
  await nextTurn();
  assert.deepEqual(sent, [12 * 1024, 6 * 1024]);
});

test("WriteCork makes the next write wait for a slow send of corked bytes, and flush too", async () => {
  const log: string[] = [];
  let finish!: () => void;
  const cork = new WriteCork((chunk) => {
    log.push(`send ${chunk.length}`);
    if (chunk.length !== 1) return undefined;
    return new Promise<void>((resolve) => finish = resolve);
  });
  cork.write(bytes(1, 0));
  await nextTurn();
  const next = cork.write(bytes(32 * 1024, 0));
  const flushed = cork.flush();
  assert.ok(next instanceof Promise && flushed instanceof Promise);
  await nextTurn();
  assert.deepEqual(log, ["send 1"]);
  finish();
  await next;
  await flushed;
  assert.deepEqual(log, ["send 1", `send ${32 * 1024}`]);
});

test("WriteCork fails the write after a send that failed", async () => {
  const cork = new WriteCork(() => Promise.reject(new Error("socket closed")));
  cork.write(bytes(1, 0));
  await nextTurn();
  await assert.rejects(Promise.resolve(cork.write(bytes(1, 0))), /socket closed/);
});

test("WriteCork.clear drops what is corked", async () => {
  const sent: Uint8Array[] = [];
  const cork = new WriteCork((chunk) => void sent.push(chunk));
  cork.write(bytes(5, 1));
  cork.clear();
  await nextTurn();
  assert.equal(sent.length, 0);
  assert.equal(cork.idle, true);
});
