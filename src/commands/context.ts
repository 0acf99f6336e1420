import type { Logger } from 'winston';

/** What every command receives besides its own options; tests build it directly. */
export interface CommandContext {
  /** Lake home directory (absolute). */
  home: string;
  /** The clock: tests pass a fixed date. */
  now: Date;
  logger: Logger;
  /** Identifies this invocation in logs, run records and lineage. */
  runId: string;
  /** True when stdin and stderr are TTYs: prompts and live progress are allowed. */
  interactive: boolean;
}

/**
 * What a command hands back to cli.ts: `data` is printed as JSON with --json; `text` is
 * the human rendering (tables, summaries) printed on stdout otherwise.
 */
export interface CommandResult<T = unknown> {
  data: T;
  text?: string;
  /** Non-zero when the command finished but must signal failure (e.g. a failed check). */
  exitCode?: number;
  /** Print without masking secret values: only for `secrets get --reveal`, where showing one is the point. */
  unredacted?: boolean;
}
