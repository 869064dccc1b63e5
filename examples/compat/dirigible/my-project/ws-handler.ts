/**
 * The websocket handler of the Eclipse Dirigible documentation: it logs the
 * events of its connection. The client example uses it, and so does the
 * `my-endpoint` endpoint the server example serves, as upstream does.
 *
 * @module
 */

export function onOpen(): void {
  console.log("Connection openned.");
}

export function onMessage(message: string): void {
  console.log("Message received: " + message);
}

export function onError(error: string): void {
  console.error("Error: " + error);
}

export function onClose(): void {
  console.warn("Connection closed.");
}
