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

/** Node error codes of a file system that cannot take what we write there. */
const cannotWriteCodes: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is a file, not a directory',
  EISDIR: 'a directory where a file was expected',
  EEXIST: 'a file is in the way',
  EMFILE: 'too many open files',
};

// The same conditions as DuckDB words them ("IO Error: Could not write file ...: No space left on device").
const duckdbIoMessages: [RegExp, string][] = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/Read-only file system/i, 'EROFS'],
  [/Permission denied/i, 'EACCES'],
  [/Not a directory/i, 'ENOTDIR'],
  [/Is a directory/i, 'EISDIR'],
];

/** The errno-style code of a file-system failure from Node or DuckDB, else undefined. */
export function fileSystemCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code in cannotWriteCodes) return code;
  const message = error instanceof Error ? error.message : String(error);
  if (!/IO Error|Could not|Cannot open|Failed to/i.test(message) && !/^E[A-Z]+:/.test(message)) return undefined;
  return duckdbIoMessages.find(([pattern]) => pattern.test(message))?.[1];
}

/** Turns anything thrown into a DataprodError, keeping typed ones as they are. */
export function toDataprodError(error: unknown): DataprodError {
  if (error instanceof DataprodError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = fileSystemCode(error);
  if (code) {
    const path = (error as NodeJS.ErrnoException).path;
    const line = message.split('\n')[0]!;
    return new CannotWriteError(`cannot write${path ? ` ${path}` : ''}: ${cannotWriteCodes[code]} (${line})`, {
      cause: error,
      hint: code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR' ? '--home must be a directory (or not exist yet); check the paths given' : 'check the permissions and free space of --home',
    });
  }
  if (error instanceof RangeError && /alias/i.test(message)) {
    return new ConfigError(`invalid YAML: ${message.split('\n')[0]}`, { cause: error, hint: 'write the values out instead of nesting anchors and aliases' });
  }
  return new InternalError(message, { cause: error, hint: 'this is a bug: rerun with --verbose and report the output' });
}
