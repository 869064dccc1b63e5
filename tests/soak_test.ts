import { test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../mod.ts";
import { soakClients } from "./_soak.ts";
import { within } from "./_servers.ts";

const CONNECTIONS = 1000;
const MESSAGES = 10;

test(
  "1,000 connections exchange numbered messages with an echo server, each once, in order, intact",
  {
    timeout: 90_000,
  },
  async () => {
    const server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      onError: () => {},
      onConnection: (channel) => channel.readable.pipeTo(channel.writable).catch(() => {}),
    });
    try {
      let peak = 0;
      const echoed = await within(
        soakClients({
          url: `ws://127.0.0.1:${server.port}`,
          connections: CONNECTIONS,
          messages: MESSAGES,
          rounds: 2,
          onRound: () => peak = Math.max(peak, server.connections.size),
        }),
        "soak",
        60_000,
      );
      assert.equal(echoed, CONNECTIONS * MESSAGES * 2);
      // All were open at once.
      assert.equal(peak, CONNECTIONS);
    } finally {
      await server.shutdown(5000);
    }
  },
);
