/**
 * Helpers of the compression conformance tests: {@linkcode Connection}s with
 * a permessage-deflate compressor, wired in memory or fed by hand, recording
 * the frames they write with their RSV1 bit.
 *
 * @module
 */

import zlib from "node:zlib";
import { type CloseInfo, Connection, type Message } from "../../mod.ts";
import { type Frame, FrameParser, type Role } from "../../src/codec/mod.ts";
import { createDeflateCompressor } from "../../src/extensions/_deflate.ts";
import type { CompressionOptions, DeflateParams } from "../../src/extensions/permessage_deflate.ts";
import { within } from "../_servers.ts";

export const DEFAULT_PARAMS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

/** One end: its connection, what it received, the frames it wrote and how it ended. */
export interface End {
  connection: Connection;
  messages: Message[];
  written: Frame[];
  end: CloseInfo | undefined;
  /** Resolves once `count` messages were received. */
  received(count: number): Promise<Message[]>;
  /** Resolves once the connection ended. */
  ended(): Promise<CloseInfo>;
}

/** Creates one end with a compressor for `params`; `write` gets the raw bytes it writes. */
export function createEnd(
  role: Role,
  params: DeflateParams | undefined,
  options: CompressionOptions & { fragmentSize?: number; maxMessageSize?: number } = {},
  write: (bytes: Uint8Array) => void = () => {},
): End {
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((wake) => wake());
  // What it writes, decoded as its peer decodes it, RSV1 allowed.
  const parser = new FrameParser({
    role: role === "server" ? "client" : "server",
    allowRsv1: true,
  });
  const end: End = {
    connection: undefined as unknown as Connection,
    messages: [],
    written: [],
    end: undefined,
    received(count) {
      return within(waitFor(() => end.messages.length >= count, waiters), "messages")
        .then(() => end.messages);
    },
    ended() {
      return within(waitFor(() => end.end !== undefined, waiters), "end").then(() => end.end!);
    },
  };
  const compressor = params === undefined
    ? undefined
    : createDeflateCompressor(params, role, { threshold: 0, ...options });
  end.connection = new Connection({
    role,
    ...(options.fragmentSize === undefined ? {} : { fragmentSize: options.fragmentSize }),
    ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
    ...(compressor === undefined ? {} : { compressor }),
  }, {
    write(bytes) {
      parser.push(bytes.slice(), (frame) => end.written.push(frame));
      write(bytes);
      wake();
    },
    message(data) {
      end.messages.push(data);
      wake();
    },
    end(info) {
      end.end = info;
      wake();
    },
  });
  return end;
}

/** A client and a server connected in memory, each writing straight into the other. */
export function createPair(
  params: DeflateParams,
  options: CompressionOptions & { fragmentSize?: number } = {},
): { client: End; server: End } {
  // A copy, as a transport would give: the receiver unmasks in place.
  const ends: { client?: End; server?: End } = {};
  const client = createEnd(
    "client",
    params,
    options,
    (bytes) => ends.server!.connection.receive(bytes.slice()),
  );
  const server = createEnd(
    "server",
    params,
    options,
    (bytes) => ends.client!.connection.receive(bytes.slice()),
  );
  Object.assign(ends, { client, server });
  return { client, server };
}

function waitFor(done: () => boolean, waiters: (() => void)[]): Promise<void> {
  return new Promise((resolve) => {
    const check = () => done() ? resolve() : waiters.push(check);
    check();
  });
}

/** A message compressed as a peer would send it: raw deflate, sync flush, tail removed. */
export function compress(data: Uint8Array, windowBits = 15): Uint8Array {
  const out = zlib.deflateRawSync(data, { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return new Uint8Array(out.buffer, out.byteOffset, out.length - 4);
}

/** Every combination of the four parameters, with a few window sizes. */
export function* paramCombinations(): Generator<DeflateParams> {
  for (const serverNoContextTakeover of [false, true]) {
    for (const clientNoContextTakeover of [false, true]) {
      for (const [serverMaxWindowBits, clientMaxWindowBits] of [[15, 15], [8, 9], [12, 8]]) {
        yield {
          serverNoContextTakeover,
          clientNoContextTakeover,
          serverMaxWindowBits: serverMaxWindowBits!,
          clientMaxWindowBits: clientMaxWindowBits!,
        };
      }
    }
  }
}

/** The parameters, short, for test names. */
export function describeParams(params: DeflateParams): string {
  const parts = [];
  if (params.serverNoContextTakeover) parts.push("server_no_context_takeover");
  if (params.clientNoContextTakeover) parts.push("client_no_context_takeover");
  parts.push(`server bits ${params.serverMaxWindowBits}`);
  parts.push(`client bits ${params.clientMaxWindowBits}`);
  return parts.join(", ");
}
