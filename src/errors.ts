/**
 * Every failure the tool reports is one of these classes. Code throws them; only the
 * top-level handler in cli.ts prints the one-line message and exits with `exitCode`.
 * Exit codes follow sysexits(3) and are documented in the README.
 */
export const ExitCode = {
  ok: 0,
  usage: 64,
  data: 65,
  unavailable: 69,
  internal: 70,
  cannotWrite: 73,
  tryLater: 75,
  permission: 77,
  config: 78,
} as const;

export interface DataprodErrorOptions {
  /** What the person should do next, printed after the message. */
  hint?: string;
  /** The underlying error, shown only with --verbose. */
  cause?: unknown;
}

export class DataprodError extends Error {
  readonly exitCode: number = ExitCode.internal;
  readonly hint?: string;

  constructor(message: string, options: DataprodErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Wrong flags or arguments, or an answer that cannot be asked for (no TTY). */
export class UsageError extends DataprodError {
  override readonly exitCode: number = ExitCode.usage;
}
/** Bad input data or a failed quality gate. */
export class DataError extends DataprodError {
  override readonly exitCode: number = ExitCode.data;
}
/** A remote service cannot be reached. */
export class UnavailableError extends DataprodError {
  override readonly exitCode: number = ExitCode.unavailable;
}
/** A bug: something that should not happen. */
export class InternalError extends DataprodError {
  override readonly exitCode: number = ExitCode.internal;
}
/** An output file or directory cannot be written. */
export class CannotWriteError extends DataprodError {
  override readonly exitCode: number = ExitCode.cannotWrite;
}
/** Try again later: another run holds the lock, or the run was interrupted. */
export class TryLaterError extends DataprodError {
  override readonly exitCode: number = ExitCode.tryLater;
}
/** Permission or authentication refused (including an unknown SSH host key). */
export class PermissionError extends DataprodError {
  override readonly exitCode: number = ExitCode.permission;
}
/** The configuration or a secret is missing or invalid. */
export class ConfigError extends DataprodError {
  override readonly exitCode: number = ExitCode.config;
}

export interface ClassifiedErrorOptions extends DataprodErrorOptions {
  /** Exit code if this error ends the run; defaults to 69 (unavailable). */
  exitCode?: number;
}

/**
 * A failure at a connector boundary that may succeed if tried again (ECONNRESET, 429,
 * 5xx, SMTP 4xx). Only the runner retries, and only these.
 */
export class TransientError extends DataprodError {
  override readonly exitCode: number;
  constructor(message: string, options: ClassifiedErrorOptions = {}) {
    super(message, options);
    this.exitCode = options.exitCode ?? ExitCode.unavailable;
  }
}

/** A failure at a connector boundary that retrying cannot fix (auth, 4xx, host key). */
export class TerminalError extends DataprodError {
  override readonly exitCode: number;
  constructor(message: string, options: ClassifiedErrorOptions = {}) {
    super(message, options);
    this.exitCode = options.exitCode ?? ExitCode.unavailable;
  }
}

export function isTransient(error: unknown): error is TransientError {
  return error instanceof TransientError;
}

/** Turns anything thrown into a DataprodError, keeping typed ones as they are. */
export function toDataprodError(error: unknown): DataprodError {
  if (error instanceof DataprodError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOSPC') {
    return new CannotWriteError(message, { cause: error, hint: 'check the permissions and free space of --home' });
  }
  return new InternalError(message, { cause: error, hint: 'this is a bug: rerun with --verbose and report the output' });
}
