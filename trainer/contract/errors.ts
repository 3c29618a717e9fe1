// Errors the trainer's commands raise on purpose, and the exit codes the operator relies on.

/** Exit codes of the `caffe` command. The operator reads them from a pod's container status. */
export const ExitCode = {
  /** The command did what it was asked. */
  Ok: 0,
  /** Something failed that a retry may fix (I/O, network, a crash). */
  Failure: 1,
  /** Wrong flags or arguments (sysexits EX_USAGE). */
  Usage: 64,
  /** The input can never work: a bad prototxt, missing data, a shape mismatch (sysexits EX_DATAERR).
   * Retrying is pointless; the operator fails the job at once. */
  BadInput: 65,
} as const;

/** The user's input is wrong in a way no retry can fix. `where` names the file, line or field. */
export class BadInputError extends Error {
  override readonly name = 'BadInputError';
  constructor(
    message: string,
    readonly where?: string,
    options?: ErrorOptions,
  ) {
    super(where ? `${where}: ${message}` : message, options);
  }
}

/** The command line itself is wrong: an unknown flag, a missing argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof BadInputError) return ExitCode.BadInput;
  if (error instanceof UsageError) return ExitCode.Usage;
  return ExitCode.Failure;
}
