import { test } from "node:test";
import assert from "node:assert/strict";
import { iosched, socket } from "../../../src/compat/edgeros/mod.ts";

test("socket.sockaddr() makes an IPv4 address with AF_INET and an IPv6 one with AF_INET6", () => {
  assert.deepEqual(socket.sockaddr("192.168.7.32", 8000), {
    domain: socket.AF_INET,
    addr: "192.168.7.32",
    port: 8000,
  });
  assert.deepEqual(socket.sockaddr("::1", 0), { domain: socket.AF_INET6, addr: "::1", port: 0 });
  assert.equal(socket.sockaddr("fe80::1", 65535).port, 65535);
});

test("socket.sockaddr() refuses a name with a TypeError and a bad port with a RangeError", () => {
  for (const addr of ["localhost", "", "1.2.3", 7]) {
    assert.throws(() => socket.sockaddr(addr as string, 80), TypeError, String(addr));
  }
  for (const port of [-1, 65536, 80.5, "80", NaN]) {
    assert.throws(
      () => socket.sockaddr("127.0.0.1", port as number),
      (error) => error instanceof RangeError && /port must be a whole number/.test(error.message),
      String(port),
    );
  }
});

test("socket address families are the Linux values, and INADDR_ANY and INADDR_LOOPBACK the IPv4 ones", () => {
  assert.equal(socket.AF_INET, 2);
  assert.equal(socket.AF_INET6, 10);
  assert.equal(socket.INADDR_ANY, "0.0.0.0");
  assert.equal(socket.INADDR_LOOPBACK, "127.0.0.1");
});

test("iosched.poll() returns at once and does nothing, whatever its timeout", async () => {
  let ticked = false;
  const tick = new Promise<void>((resolve) =>
    setTimeout(() => {
      ticked = true;
      resolve();
    }, 0)
  );
  const started = performance.now();
  assert.equal(iosched.poll(), undefined);
  assert.equal(iosched.poll(10_000), undefined);
  assert.ok(performance.now() - started < 1000);
  // It turned no event loop: the timer runs only once this code yields.
  assert.equal(ticked, false);
  await tick;
  assert.equal(ticked, true);
});
