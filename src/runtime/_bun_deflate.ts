/**
 * What `Bun.serve` answers to a client's permessage-deflate offer. Bun does
 * not tell a server socket the extensions it agreed on, so this mirrors its
 * negotiation (uWebSockets' `negotiateCompression`), for the channel's
 * `extensions`: a shared compressor or decompressor has no context
 * takeover, and an offer asking to limit a shared compressor's window is
 * declined.
 *
 * @module
 */

import { parseExtensionList } from "../handshake/_header_values.ts";
import { PERMESSAGE_DEFLATE } from "../extensions/permessage_deflate.ts";

/** Bun's `perMessageDeflate` setting: a shared or a per-connection context for each direction. */
export type BunPerMessageDeflate = boolean | {
  compress: "shared" | "dedicated";
  decompress: "shared" | "dedicated";
};

const FULL_WINDOW = 15;

/**
 * The `Sec-WebSocket-Extensions` Bun answers `request` with.
 *
 * @returns The answer, or `""` when Bun declines or nothing was offered.
 */
export function bunDeflateAnswer(request: Request, setting: BunPerMessageDeflate): string {
  if (setting === false) return "";
  const header = request.headers.get("sec-websocket-extensions");
  if (header === null) return "";
  let offers;
  try {
    offers = parseExtensionList(header, (detail) => {
      throw new Error(detail);
    });
  } catch {
    return "";
  }
  const deflate = offers.filter((offer) => offer.name === PERMESSAGE_DEFLATE);
  if (deflate.length === 0) return "";
  // Bun reads the parameters of every offer together.
  const offered = new Map(deflate.flatMap((offer) => offer.params.map((p) => [p.name, p.value])));
  const shared = setting === true ? { compress: true, decompress: true } : {
    compress: setting.compress === "shared",
    decompress: setting.decompress === "shared",
  };
  let inflationWindow = shared.decompress ? 0 : FULL_WINDOW;
  let compressionWindow = shared.compress ? 0 : FULL_WINDOW;
  const parts = [PERMESSAGE_DEFLATE];
  if (offered.has("client_no_context_takeover") || inflationWindow === 0) {
    parts.push("client_no_context_takeover");
    inflationWindow = 0;
  }
  const clientBits = Number(offered.get("client_max_window_bits") ?? 0);
  if (clientBits > 0 && inflationWindow > 0) {
    parts.push(`client_max_window_bits=${Math.min(clientBits, inflationWindow)}`);
  }
  if (offered.has("server_no_context_takeover") || compressionWindow === 0) {
    parts.push("server_no_context_takeover");
    compressionWindow = 0;
  }
  const serverBits = Number(offered.get("server_max_window_bits") ?? 0);
  if (serverBits > 0) {
    if (compressionWindow === 0) return "";
    parts.push(`server_max_window_bits=${Math.min(serverBits, compressionWindow)}`);
  }
  return parts.join("; ");
}
