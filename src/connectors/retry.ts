import { TransientError, TryLaterError } from '../errors.js';

/** How a connector retries transient failures (the camelCase form of a destination's `retry:`). */
export interface RetryOptions {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  /** Backoff before the first retry; doubles each attempt (before jitter). */
  baseDelayMs: number;
  /** Cap on one backoff delay, and on a Retry-After hint that is honoured. */
  maxDelayMs: number;
  /** Aborted on SIGINT/SIGTERM: no further attempt starts and a pending wait ends at once. */
  signal?: AbortSignal;
  /** Told about every retry before its wait (for logs and the receipt's retry count). */
  onRetry?: (info: RetryInfo) => void;
  /** A server's own "try again in N ms" (429/503 Retry-After); defaults to `error.retryAfterMs`. */
  retryAfterMs?: (error: TransientError) => number | undefined;
  /** Source of randomness for the jitter (tests pin it). */
  random?: () => number;
}

/** What `onRetry` is told. */
export interface RetryInfo {
  /** The attempt that just failed (1 = the first). */
  attempt: number;
  /** How long we wait before the next attempt. */
  delayMs: number;
  error: TransientError;
}

/** The destination's `retry:` block as the partner file spells it. */
export interface RetryConfig {
  max_attempts: number;
  base_delay_ms: number;
  max_delay_ms: number;
}

/** Maps a destination's `retry:` block to RetryOptions. */
export function retryOptionsFrom(config: RetryConfig, extra: Partial<RetryOptions> = {}): RetryOptions {
  return { maxAttempts: config.max_attempts, baseDelayMs: config.base_delay_ms, maxDelayMs: config.max_delay_ms, ...extra };
}

/**
 * Full-jitter backoff (AWS architecture blog): a uniform delay between 0 and
 * min(cap, base * 2^(attempt-1)), so clients that failed together do not retry together.
 */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round((options.random ?? Math.random)() * ceiling);
}

function defaultRetryAfter(error: TransientError): number | undefined {
  const hint = (error as TransientError & { retryAfterMs?: unknown }).retryAfterMs;
  return typeof hint === 'number' && Number.isFinite(hint) && hint >= 0 ? hint : undefined;
}

function interrupted(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new TryLaterError('interrupted before the next attempt', { hint: 'run it again: delivery resumes where it stopped' });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interrupted(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `operation` until it succeeds, retrying ONLY TransientError, with capped
 * exponential backoff and full jitter. A Retry-After hint carried on the error (or read
 * by `retryAfterMs`) is honoured when it is within `maxDelayMs`; a longer one ends the
 * retries at once (waiting an hour inside a cron job helps no one: the next run will).
 * Anything else (TerminalError, ConfigError, a bug) is thrown at once.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal?.aborted) throw interrupted(options.signal);
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= maxAttempts) throw error;
      const hint = (options.retryAfterMs ?? defaultRetryAfter)(error);
      if (hint !== undefined && hint > options.maxDelayMs) throw error;
      const delayMs = Math.max(hint ?? 0, backoffDelay(attempt, options));
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}
