/**
 * The `compression` option of clients and servers: permessage-deflate
 * negotiated in the handshake, then its compressor, on `node:zlib`, loaded
 * only once a connection agreed on it.
 *
 * @module
 */

import { HandshakeError } from "./errors.ts";
import type { Role } from "./codec/frame.ts";
import type { Extension } from "./handshake/server.ts";
import {
  acceptDeflateAnswer,
  checkCompressionOptions,
  type CompressionOptions,
  createDeflateOffer,
  type DeflateParams,
  negotiateDeflate,
} from "./extensions/permessage_deflate.ts";
import type { MessageCompressor } from "./protocol/compressor.ts";

/** A server's answer to the client's offers, and the compressor to use. */
export interface CompressionAgreement {
  /** The value of `Sec-WebSocket-Extensions` to answer with. */
  answer: string;
  /** The connection's compressor. */
  compressor: MessageCompressor;
}

/**
 * On a server: accepts the first permessage-deflate offer the options allow.
 *
 * @returns The answer and the compressor, or `undefined` when compression is off or declined.
 * @throws {RangeError} When the options are out of range.
 */
export async function negotiateCompression(
  offered: Extension[],
  option: boolean | CompressionOptions | undefined,
): Promise<CompressionAgreement | undefined> {
  const options = checkCompressionOptions(option, "upgrade request");
  if (options === undefined) return undefined;
  const agreement = negotiateDeflate(offered, options);
  if (agreement === undefined) return undefined;
  return {
    answer: agreement.answer,
    compressor: await createCompressor(agreement.params, "server", options),
  };
}

/**
 * On a client: the `Sec-WebSocket-Extensions` offer to send.
 *
 * @returns The offer, or `undefined` when compression is off.
 * @throws {RangeError} When the options are out of range.
 */
export function offerCompression(
  option: boolean | CompressionOptions | undefined,
): string | undefined {
  const options = checkCompressionOptions(option, "open connection");
  return options === undefined ? undefined : createDeflateOffer(options);
}

/**
 * On a client: checks the server's answer to the offer.
 *
 * @returns The compressor, or `undefined` when the server declined compression.
 * @throws {HandshakeError} With 502 when the answer is malformed or breaks the offer.
 */
export async function acceptCompression(
  answered: Extension[],
  option: boolean | CompressionOptions | undefined,
): Promise<MessageCompressor | undefined> {
  const options = checkCompressionOptions(option, "open connection");
  if (options === undefined) return undefined;
  let params: DeflateParams | undefined;
  try {
    params = acceptDeflateAnswer(answered, options);
  } catch (error) {
    throw new HandshakeError(
      `Cannot open connection: the server's permessage-deflate answer is invalid: ${
        (error as Error).message
      }`,
      { status: 502 },
    );
  }
  return params === undefined ? undefined : await createCompressor(params, "client", options);
}

async function createCompressor(
  params: DeflateParams,
  role: Role,
  options: CompressionOptions,
): Promise<MessageCompressor> {
  const { createDeflateCompressor } = await import("./extensions/_deflate.ts");
  return createDeflateCompressor(params, role, options);
}
