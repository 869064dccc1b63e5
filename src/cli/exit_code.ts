/**
 * The exit codes of the command-line tool, one per way a run can end.
 *
 * @module
 */

/**
 * How a run of the command-line tool ended, as its exit code.
 *
 * - `Normal` (0): the connection closed with 1000 (normal), 1001 (going
 *   away) or 1005 (a close frame without a code), or a server stopped on
 *   SIGINT or SIGTERM.
 * - `Failure` (1): the connection could not be opened (refused, handshake
 *   rejected, timed out), or a server could not listen.
 * - `Usage` (2): a bad command line: unknown flag, bad value, bad URL.
 * - `Abnormal` (3): the connection was cut off without a closing handshake
 *   (1006).
 * - `CloseCode` (4): the connection was closed with any other code (1002,
 *   1008, 1011, 4000, ...).
 */
export const EXIT_CODE = {
  Normal: 0,
  Failure: 1,
  Usage: 2,
  Abnormal: 3,
  CloseCode: 4,
} as const;

/** One of the values of {@linkcode EXIT_CODE}. */
export type ExitCode = typeof EXIT_CODE[keyof typeof EXIT_CODE];

/** Close codes after which a run counts as ended normally. */
const NORMAL_CLOSE_CODES: readonly number[] = [1000, 1001, 1005];

/**
 * The exit code for a connection that closed with `closeCode`.
 *
 * @param closeCode The close code the connection ended with.
 * @returns `Normal`, `Abnormal` for 1006, or `CloseCode`.
 */
export function exitCodeOfClose(closeCode: number): ExitCode {
  if (NORMAL_CLOSE_CODES.includes(closeCode)) return EXIT_CODE.Normal;
  return closeCode === 1006 ? EXIT_CODE.Abnormal : EXIT_CODE.CloseCode;
}
