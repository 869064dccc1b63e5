/**
 * A command that could not do its job (connect, listen): reported in one
 * line, with exit code 1.
 *
 * @module
 */

/** A command could not do its job: exit code 1, its message in one line. */
export class CommandFailure extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed and why.
   * @param cause The error that made it fail.
   */
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "CommandFailure";
  }
}

/** An error's message on one line. */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ");
}
