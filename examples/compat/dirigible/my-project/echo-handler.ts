/**
 * A websocket handler that sends every message back to its sender, through
 * the connection `getConnection()` returns in the handler's context.
 *
 * @module
 */

import { getConnection, getMessage } from "../../../../src/compat/dirigible/mod.ts";

export function onMessage(): void {
  const message = getMessage();
  if (message !== null) getConnection()?.send(message);
}
