import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import winston from 'winston';
import { logsDir } from './lake/layout.js';

/**
 * Every secret value the process has read. The log format, error printing and run
 * records pass text through `redact`, so a value never reaches a file or a terminal.
 */
const knownSecretValues = new Set<string>();
const REDACTED = '***';

/** Remembers a secret value so that it is masked wherever it would be written. */
export function registerSecretValue(value: string): void {
  // Very short values would mask ordinary words; secrets are never that short in practice.
  if (value.length >= 4) knownSecretValues.add(value);
  // PEM keys are written line by line in some errors: mask each long line as well.
  if (value.includes('\n')) for (const line of value.split(/\r?\n/)) if (line.length >= 16) knownSecretValues.add(line);
}

/** Masks every known secret value in a text. */
export function redact(text: string): string {
  let out = text;
  for (const value of knownSecretValues) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/** Deep-redacts strings inside a JSON-like value. */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactValue(item)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactValue(item);
    return out as T;
  }
  return value;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = (info as Record<string, unknown>)[key];
    (info as Record<string, unknown>)[key] = redactValue(value);
  }
  return info;
});

export interface LoggerOptions {
  /** Lake home; JSON lines go to <home>/_meta/logs/<run id>.jsonl when set. */
  home?: string;
  /** Identifies this invocation in the JSON log and in run records. */
  runId: string;
  verbose?: boolean;
  quiet?: boolean;
  /** Colour in human lines; the CLI passes true only on a TTY without --no-color. */
  color?: boolean;
}

/** A new run id: sortable by time, unique enough for concurrent runs. */
export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/**
 * Human lines on stderr (stdout is kept for --json results) and, for every run, JSON
 * lines under <home>/_meta/logs/.
 */
export function createLogger(options: LoggerOptions): winston.Logger {
  const level = options.verbose ? 'debug' : options.quiet ? 'warn' : 'info';
  const human = winston.format.printf((info) => {
    const prefix = info.level.includes('error') || info.level.includes('warn') ? `${info.level}: ` : '';
    return `${prefix}${String(info.message)}`;
  });
  const transports: winston.transport[] = [
    new winston.transports.Console({
      level,
      stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
      format: winston.format.combine(redactFormat(), ...(options.color ? [winston.format.colorize()] : []), human),
    }),
  ];
  if (options.home) {
    const dir = logsDir(options.home);
    mkdirSync(dir, { recursive: true });
    transports.push(
      new winston.transports.File({
        level: 'debug',
        filename: join(dir, `${options.runId}.jsonl`),
        format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
      }),
    );
  }
  return winston.createLogger({ defaultMeta: { run_id: options.runId }, transports });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** Waits until file transports have flushed, so nothing is lost on exit. */
export async function closeLogger(logger: winston.Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    logger.on('finish', () => {
      clearTimeout(timer);
      resolve();
    });
    logger.end();
  });
}
