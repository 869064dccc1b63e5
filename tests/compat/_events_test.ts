import { test } from "node:test";
import assert from "node:assert/strict";
import { Emitter } from "../../src/compat/_events.ts";

class Door extends Emitter {
  onopen: ((...args: unknown[]) => void) | null = null;
}

test("Emitter calls on() listeners in order with the event's arguments, then the onxxx property", () => {
  const door = new Door();
  const calls: unknown[][] = [];
  door.on("open", (...args: unknown[]) => calls.push(["first", ...args]));
  door.addListener("open", (...args: unknown[]) => calls.push(["second", ...args]));
  door.onopen = (...args) => calls.push(["property", ...args]);
  assert.equal(door.emit("open", 1, "two"), true);
  assert.deepEqual(calls, [["first", 1, "two"], ["second", 1, "two"], ["property", 1, "two"]]);
});

test("Emitter once() listeners run once, off() and removeListener() remove", () => {
  const door = new Door();
  let count = 0;
  const listener = () => count++;
  door.once("open", () => count += 10);
  door.on("open", listener);
  door.emit("open");
  door.emit("open");
  assert.equal(count, 12);
  door.off("open", listener);
  door.emit("open");
  assert.equal(count, 12);
  door.on("open", listener).removeListener("open", listener);
  assert.equal(door.listenerCount("open"), 0);
  assert.equal(door.emit("open"), false);
});

test("Emitter addEventListener adds a listener once, honours once and handleEvent objects", () => {
  const door = new Door();
  const seen: string[] = [];
  const listener = (event: { type: string }) => seen.push(`fn:${event.type}`);
  const object = { handleEvent: (event: { type: string }) => seen.push(`object:${event.type}`) };
  door.addEventListener("open", listener);
  door.addEventListener("open", listener);
  door.addEventListener("open", object, { once: true });
  door.emit("open", { type: "open" });
  door.emit("open", { type: "open" });
  door.removeEventListener("open", listener);
  door.emit("open", { type: "open" });
  assert.deepEqual(seen, ["fn:open", "object:open", "fn:open"]);
});

test("Emitter removeAllListeners removes one event's listeners or all of them", () => {
  const door = new Door();
  door.on("open", () => {}).on("close", () => {});
  door.removeAllListeners("open");
  assert.equal(door.listenerCount("open"), 0);
  assert.equal(door.listenerCount("close"), 1);
  door.removeAllListeners();
  assert.equal(door.listenerCount("close"), 0);
});

test("Emitter drops an error event nobody listens to instead of throwing", () => {
  const door = new Door();
  assert.equal(door.emit("error", new Error("peer misbehaved")), false);
});

test("Emitter keeps calling listeners after one throws, and rethrows its error uncaught", async () => {
  const door = new Door();
  const seen: string[] = [];
  const failure = new Error("listener bug");
  door.on("open", () => {
    throw failure;
  });
  door.on("open", () => seen.push("second"));
  const uncaught = new Promise<unknown>((resolve) => {
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (callback) => {
      globalThis.queueMicrotask = original;
      try {
        callback();
      } catch (error) {
        resolve(error);
      }
    };
  });
  door.emit("open");
  assert.deepEqual(seen, ["second"]);
  assert.equal(await uncaught, failure);
});

test("Emitter emit returns true when only once() listeners listened", () => {
  const door = new Door();
  door.once("open", () => {});
  assert.equal(door.emit("open"), true);
  assert.equal(door.emit("open"), false);
});
