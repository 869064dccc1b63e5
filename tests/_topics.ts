/**
 * A server whose connections subscribe and publish on command, and a client
 * that records what it receives, for the topic tests.
 */

import assert from "node:assert/strict";
import {
  type Channel,
  connect,
  type Message,
  serve,
  type ServeOptions,
  type Server,
  type TopicChannel,
} from "../mod.ts";
import { within } from "./_servers.ts";

/**
 * A chat-like handler: `sub <topic>` and `unsub <topic>` change the
 * connection's subscriptions and are answered `ok <topic>`; any other message
 * is published to topic `room` except to its sender.
 */
export function topicHandler(server: () => Server) {
  return (channel: TopicChannel): void => {
    const writer = channel.writable.getWriter();
    channel.readable.pipeTo(
      new WritableStream({
        async write(message) {
          if (typeof message === "string" && message.startsWith("sub ")) {
            channel.subscribe(message.slice(4));
            await writer.write(`ok ${message.slice(4)}`);
          } else if (typeof message === "string" && message.startsWith("unsub ")) {
            channel.unsubscribe(message.slice(6));
            await writer.write(`ok ${message.slice(6)}`);
          } else {
            await server().publish("room", message, { except: channel });
          }
        },
      }),
    ).catch(() => {});
  };
}

export async function startServer(options: Partial<ServeOptions>): Promise<Server> {
  const started: { server?: Server } = {};
  started.server = await serve({
    hostname: "127.0.0.1",
    port: 0,
    onConnection: topicHandler(() => started.server!),
    onError: () => {},
    ...options,
  });
  return started.server;
}

/** A connected client that reads every message into a list and can wait for the next ones. */
export class Client {
  readonly channel: Channel;
  readonly received: Message[] = [];
  readonly #writer: WritableStreamDefaultWriter<string | Uint8Array>;
  #changed: (() => void) | undefined;

  private constructor(channel: Channel) {
    this.channel = channel;
    this.#writer = channel.writable.getWriter();
    (async () => {
      const reader = channel.readable.getReader();
      for (let i = 0; i < 1_000_000; i++) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        this.received.push(value!);
        this.#changed?.();
      }
    })();
  }

  static async open(server: Server): Promise<Client> {
    return new Client(await within(connect(`ws://127.0.0.1:${server.port}/`), "connect"));
  }

  send(message: string | Uint8Array): Promise<void> {
    return this.#writer.write(message);
  }

  /** Waits until `count` messages have been received in all, and returns them. */
  async waitFor(count: number, what = `${count} messages`): Promise<Message[]> {
    await within(
      new Promise<void>((resolve) => {
        const check = () => {
          if (this.received.length >= count) resolve();
        };
        this.#changed = check;
        check();
      }),
      what,
    );
    return this.received.slice(0, count);
  }

  async subscribe(topic: string): Promise<void> {
    const before = this.received.length;
    await this.send(`sub ${topic}`);
    assert.equal((await this.waitFor(before + 1, "subscribe answer"))[before], `ok ${topic}`);
  }

  close(): Promise<unknown> {
    this.channel.close(1000);
    return within(this.channel.closed, "close");
  }
}
