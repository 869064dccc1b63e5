import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type ClientChannel,
  HandshakeError,
  listen,
  type ReconnectFailure,
  reconnecting,
  type ServerChannel,
  TimeoutError,
} from "../mod.ts";
import { delay, rawServer, serve, within } from "./_servers.ts";

/** A `ws:` URL on 127.0.0.1 that nothing listens on: connecting to it is refused at once. */
async function deadUrl(): Promise<string> {
  const server = await listen({ hostname: "127.0.0.1", port: 0 }, () => {});
  await server.close();
  return `ws://127.0.0.1:${server.port}`;
}

/**
 * An echo server that refuses, with 503, the upgrade requests whose number
 * (from 1) `refuse` picks, and records when each request arrived.
 */
async function flakyServer(refuse: (request: number) => boolean) {
  const arrivals: number[] = [];
  const loopback = await serve(undefined, {
    onUpgrade: () => {
      arrivals.push(performance.now());
      if (refuse(arrivals.length)) return new Response("not now", { status: 503 });
    },
  });
  return { ...loopback, arrivals };
}

/** Reads one message from a channel. */
async function readOne(channel: ClientChannel): Promise<unknown> {
  const reader = channel.readable.getReader();
  try {
    return (await within(reader.read(), "message")).value;
  } finally {
    reader.releaseLock();
  }
}

/** Sends a message on a channel and reads the answer. */
async function echo(channel: ClientChannel, message: string): Promise<unknown> {
  const writer = channel.writable.getWriter();
  await within(writer.write(message), "write");
  writer.releaseLock();
  return await readOne(channel);
}

test("reconnecting yields a new channel each time the previous one has closed", async () => {
  let count = 0;
  const server = await serve((channel) => {
    count++;
    const writer = channel.writable.getWriter();
    writer.write(`connection ${count}`).then(() => channel.close(1000, "bye")).catch(() => {});
  });
  try {
    const received: unknown[] = [];
    const codes: number[] = [];
    for await (const channel of reconnecting(server.url, { initialDelay: 10 })) {
      received.push(await readOne(channel));
      codes.push((await within(channel.closed, "close")).code);
      if (received.length === 3) break;
    }
    assert.deepEqual(received, ["connection 1", "connection 2", "connection 3"]);
    assert.deepEqual(codes, [1000, 1000, 1000]);
    assert.equal(server.channels.length, 3);
  } finally {
    await server.close();
  }
});

test("reconnecting starts the next attempt only once the yielded channel's closed resolves", async () => {
  const server = await serve(() => {});
  try {
    const connections = reconnecting(server.url, { initialDelay: 10 });
    const first = await within(connections.next(), "first channel");
    assert.equal(first.done, false);
    // The consumer asks for the next channel while the first is still open.
    const second = connections.next();
    await delay(100);
    assert.equal(server.channels.length, 1, "no attempt while the first channel is open");
    const arriving = server.nextChannel();
    server.channels[0]!.close(1001, "restart");
    assert.equal((await within(first.value!.closed, "close")).code, 1001);
    await arriving;
    const next = await within(second, "second channel");
    assert.equal(next.done, false);
    assert.equal(server.channels.length, 2);
    await connections.return();
    next.value!.close(1000);
    await within(next.value!.closed, "close");
  } finally {
    await server.close();
  }
});

test("reconnecting retries with exponential backoff capped at maxDelay", async () => {
  const server = await flakyServer((request) => request <= 4);
  try {
    const failures: ReconnectFailure[] = [];
    const connections = reconnecting(server.url, {
      initialDelay: 20,
      backoffFactor: 2,
      maxDelay: 50,
      jitter: 0,
      onError: (failure) => failures.push(failure),
    });
    const { value: channel } = await within(connections.next(), "channel");
    assert.deepEqual(failures.map(({ attempt, delay }) => [attempt, delay]), [
      [1, 20],
      [2, 40],
      [3, 50],
      [4, 50],
    ]);
    for (const { error } of failures) {
      assert.ok(error instanceof HandshakeError && error.status === 503, String(error));
    }
    // Each attempt came no sooner than its delay after the one before.
    const gaps = server.arrivals.slice(1).map((at, i) => at - server.arrivals[i]!);
    gaps.forEach((gap, i) => assert.ok(gap >= failures[i]!.delay! - 2, `gap ${i}: ${gap} ms`));
    assert.equal(await echo(channel!, "after four refusals"), "after four refusals");
    await connections.return();
    channel!.close(1000);
    await within(channel!.closed, "close");
  } finally {
    await server.close();
  }
});

test("reconnecting keeps every delay within the jitter's bounds", async () => {
  const url = await deadUrl();
  const draws = [0, 0.999999, 0.5];
  const failures: ReconnectFailure[] = [];
  const connections = reconnecting(url, {
    initialDelay: 4,
    maxDelay: 10,
    jitter: 0.5,
    maxAttempts: 4,
    random: () => draws.shift() ?? 0.25,
    onError: (failure) => failures.push(failure),
  });
  await assert.rejects(within(connections.next(), "give-up"), /4 attempts failed/);
  // Bases 4, 8, 10 (capped): the draw takes up to half of each off.
  assert.deepEqual(failures.map(({ delay }) => delay), [
    4,
    8 * (1 - 0.5 * 0.999999),
    7.5,
    undefined,
  ]);
});

test("reconnecting draws jitter from Math.random within [base × (1 − jitter), base]", async () => {
  const url = await deadUrl();
  const failures: ReconnectFailure[] = [];
  const connections = reconnecting(url, {
    initialDelay: 1,
    maxDelay: 8,
    jitter: 0.75,
    maxAttempts: 12,
    onError: (failure) => failures.push(failure),
  });
  await assert.rejects(within(connections.next(), "give-up"), /12 attempts failed/);
  const delays = failures.slice(0, -1).map(({ delay }) => delay!);
  delays.forEach((delay, i) => {
    const base = Math.min(8, 2 ** i);
    assert.ok(
      delay >= base * 0.25 && delay <= base,
      `delay ${i}: ${delay} not in [${base / 4}, ${base}]`,
    );
  });
  // Math.random, not a constant: twelve draws are not all alike.
  assert.ok(new Set(delays.slice(3)).size > 1, `delays ${delays.join(", ")}`);
});

test("reconnecting defaults to a 1000 ms initial delay, factor 2, jitter 0.5 and a 30000 ms cap", async () => {
  const url = await deadUrl();
  const firstDelay = async (options: Parameters<typeof reconnecting>[1]) => {
    const stop = new AbortController();
    let reported: number | undefined;
    const connections = reconnecting(url, {
      ...options,
      signal: stop.signal,
      onError: ({ delay }) => {
        reported = delay;
        stop.abort();
      },
    });
    assert.deepEqual(await within(connections.next(), "end"), { done: true, value: undefined });
    return reported;
  };
  assert.equal(await firstDelay({ random: () => 0 }), 1000);
  // The default jitter takes up to half off.
  assert.equal(await firstDelay({ random: () => 1 }), 500);
  // The default cap applies from the first delay when initialDelay is above it.
  assert.equal(await firstDelay({ initialDelay: 40_000, jitter: 0 }), 30_000);
  // The default factor doubles the delay after each further failure.
  const failures: number[] = [];
  const connections = reconnecting(url, {
    initialDelay: 1,
    jitter: 0,
    maxAttempts: 5,
    onError: ({ delay }) => failures.push(delay ?? -1),
  });
  await assert.rejects(within(connections.next(), "give-up"));
  assert.deepEqual(failures, [1, 2, 4, 8, -1]);
});

test("reconnecting never gives up by default", async () => {
  const url = await deadUrl();
  const stop = new AbortController();
  const attempts: number[] = [];
  const connections = reconnecting(url, {
    initialDelay: 0,
    signal: stop.signal,
    onError: ({ attempt, delay }) => {
      assert.notEqual(delay, undefined);
      attempts.push(attempt);
      if (attempt === 30) stop.abort();
    },
  });
  assert.deepEqual(await within(connections.next(), "end"), { done: true, value: undefined });
  assert.equal(attempts.length, 30);
});

test("reconnecting throws after maxAttempts failures in a row, naming them, the last error as cause", async () => {
  const server = await flakyServer(() => true);
  try {
    const failures: ReconnectFailure[] = [];
    const connections = reconnecting(server.url, {
      initialDelay: 5,
      maxAttempts: 3,
      onError: (failure) => failures.push(failure),
    });
    await assert.rejects(within(connections.next(), "give-up"), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(
        error.message,
        `Cannot open connection to ${server.url}: 3 attempts failed, the last with: ` +
          "Cannot open connection: the server answered 503 Service Unavailable: not now",
      );
      assert.equal(error.cause, failures[2]!.error);
      return true;
    });
    assert.deepEqual(failures.map(({ attempt }) => attempt), [1, 2, 3]);
    assert.equal(failures[2]!.delay, undefined);
    assert.equal(server.arrivals.length, 3);
    assert.deepEqual(await connections.next(), { done: true, value: undefined });
  } finally {
    await server.close();
  }
});

test("reconnecting says 1 attempt when maxAttempts is 1", async () => {
  const url = await deadUrl();
  await assert.rejects(
    reconnecting(url, { maxAttempts: 1 }).next(),
    new RegExp(`^Error: Cannot open connection to ${url}: 1 attempt failed, the last with: `),
  );
});

test("reconnecting counts failures again from 1 once a connection has opened", async () => {
  // Requests 1-2 and 4-5 are refused; 3 and 6 are accepted.
  const server = await flakyServer((request) => request % 3 !== 0);
  try {
    const attempts: number[] = [];
    let opened = 0;
    for await (
      const channel of reconnecting(server.url, {
        initialDelay: 5,
        maxAttempts: 3,
        onError: ({ attempt }) => attempts.push(attempt),
      })
    ) {
      opened++;
      channel.close(1000);
      await within(channel.closed, "close");
      if (opened === 2) break;
    }
    assert.deepEqual(attempts, [1, 2, 1, 2]);
    assert.equal(server.arrivals.length, 6);
  } finally {
    await server.close();
  }
});

test("reconnecting ends cleanly when its signal aborts during a delay", async () => {
  const url = await deadUrl();
  const stop = new AbortController();
  const connections = reconnecting(url, {
    initialDelay: 60_000,
    signal: stop.signal,
    onError: () => setTimeout(() => stop.abort(), 20),
  });
  const started = performance.now();
  assert.deepEqual(await within(connections.next(), "end"), { done: true, value: undefined });
  assert.ok(performance.now() - started < 5000);
});

test("reconnecting aborts a pending attempt when its signal aborts", async () => {
  let hungUp!: () => void;
  const closed = new Promise<void>((resolve) => hungUp = resolve);
  let requested!: () => void;
  const request = new Promise<void>((resolve) => requested = resolve);
  // A server that reads the upgrade request and never answers it.
  const server = await rawServer((socket) => {
    socket.on("close", hungUp);
    requested();
  });
  try {
    const stop = new AbortController();
    const failures: ReconnectFailure[] = [];
    const connections = reconnecting(server.url, {
      signal: stop.signal,
      onError: (failure) => failures.push(failure),
    });
    const ending = connections.next();
    await within(request, "upgrade request");
    stop.abort();
    assert.deepEqual(await within(ending, "end"), { done: true, value: undefined });
    await within(closed, "socket closed by the client");
    assert.deepEqual(failures, [], "an abort is not a failed attempt");
  } finally {
    await server.close();
  }
});

test("reconnecting ends at once when its signal aborts while a yielded channel is open, leaving it open", async () => {
  const server = await serve();
  try {
    const stop = new AbortController();
    const connections = reconnecting(server.url, { signal: stop.signal });
    const { value: channel } = await within(connections.next(), "channel");
    const ending = connections.next();
    stop.abort();
    assert.deepEqual(await within(ending, "end"), { done: true, value: undefined });
    assert.equal(await echo(channel!, "still open"), "still open");
    assert.equal(server.channels.length, 1);
    channel!.close(1000);
    assert.equal((await within(channel!.closed, "close")).code, 1000);
  } finally {
    await server.close();
  }
});

test("reconnecting does not start when its signal has already aborted", async () => {
  const server = await flakyServer(() => false);
  try {
    const connections = reconnecting(server.url, { signal: AbortSignal.abort() });
    assert.deepEqual(await connections.next(), { done: true, value: undefined });
    await delay(50);
    assert.equal(server.arrivals.length, 0);
  } finally {
    await server.close();
  }
});

test("reconnecting leaves the channel open when the loop is left with break", async () => {
  const server = await serve();
  try {
    let kept: ClientChannel | undefined;
    for await (const channel of reconnecting(server.url)) {
      kept = channel;
      break;
    }
    assert.equal(await echo(kept!, "kept"), "kept");
    kept!.close(1000);
    assert.equal((await within(kept!.closed, "close")).code, 1000);
    assert.equal(server.channels.length, 1);
  } finally {
    await server.close();
  }
});

test("reconnecting passes its other options on to connect", async () => {
  const server = await serve(undefined, { selectProtocol: (offered) => offered.at(-1) });
  try {
    const connections = reconnecting(server.url, {
      protocols: ["a", "b"],
      headers: { "X-Trace": "42" },
    });
    const { value: channel } = await within(connections.next(), "channel");
    await connections.return();
    assert.equal(channel!.protocol, "b");
    const accepted: ServerChannel = server.channels[0]!;
    assert.equal(accepted.request.headers.get("x-trace"), "42");
    channel!.close(1000);
    await within(channel!.closed, "close");
  } finally {
    await server.close();
  }
});

test("reconnecting passes handshakeTimeout on, failing an attempt the server does not answer", async () => {
  const server = await rawServer(() => {});
  try {
    const failures: ReconnectFailure[] = [];
    const connections = reconnecting(server.url, {
      handshakeTimeout: 50,
      maxAttempts: 2,
      initialDelay: 5,
      onError: (failure) => failures.push(failure),
    });
    await assert.rejects(within(connections.next(), "give-up"), /2 attempts failed/);
    for (const { error } of failures) {
      assert.ok(error instanceof TimeoutError, String(error));
    }
  } finally {
    await server.close();
  }
});

test("reconnecting ends with the exception onError throws", async () => {
  const url = await deadUrl();
  const mistake = new Error("logger broke");
  const connections = reconnecting(url, {
    onError: () => {
      throw mistake;
    },
  });
  await assert.rejects(within(connections.next(), "end"), (error) => error === mistake);
});

test("reconnecting refuses out-of-range options at once", () => {
  const url = "ws://127.0.0.1:1";
  const cases: [Parameters<typeof reconnecting>[1], RegExp][] = [
    [{ initialDelay: -1 }, /initialDelay must be from 0 to 2147483647, got -1/],
    [{ maxDelay: 2 ** 31 }, /maxDelay must be from 0 to 2147483647, got 2147483648/],
    [{ jitter: 1.5 }, /jitter must be from 0 to 1, got 1\.5/],
    [{ jitter: NaN }, /jitter must be from 0 to 1, got NaN/],
    [{ backoffFactor: 0.5 }, /backoffFactor must be a finite number of at least 1, got 0\.5/],
    [{ backoffFactor: Infinity }, /backoffFactor must be a finite number of at least 1/],
    [{ maxAttempts: 0 }, /maxAttempts must be a whole number of at least 1 or Infinity, got 0/],
    [{ maxAttempts: 2.5 }, /maxAttempts must be a whole number of at least 1 or Infinity/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => reconnecting(url, options),
      (error) => error instanceof RangeError && message.test(error.message),
      JSON.stringify(options),
    );
  }
});

test("reconnecting refuses a URL, subprotocol or header no retry could fix at once", () => {
  const syntax = (error: unknown) => error instanceof DOMException && error.name === "SyntaxError";
  assert.throws(() => reconnecting("not a url"), syntax);
  assert.throws(() => reconnecting("http://[::1"), syntax);
  assert.throws(() => reconnecting("ws://127.0.0.1:1", { protocols: ["a b"] }), syntax);
  assert.throws(
    () => reconnecting("ws://127.0.0.1:1", { headers: { "Sec-WebSocket-Key": "x" } }),
    TypeError,
  );
});

test("reconnecting refuses a random() that returns a number outside [0, 1]", async () => {
  const url = await deadUrl();
  const connections = reconnecting(url, { random: () => 1.5 });
  await assert.rejects(
    within(connections.next(), "end"),
    (error) =>
      error instanceof RangeError && /random\(\) must return .* got 1\.5/.test(error.message),
  );
});
