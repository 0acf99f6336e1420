import { describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../errors.js';
import { backoffDelay, retryOptionsFrom, withRetry, type RetryInfo } from './retry.js';

const quick = { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 20 };

describe('withRetry', () => {
  it('retries a TransientError until the operation succeeds, reporting each retry', async () => {
    const retries: RetryInfo[] = [];
    let calls = 0;
    const value = await withRetry(
      async (attempt) => {
        calls += 1;
        expect(attempt).toBe(calls);
        if (calls < 3) throw new TransientError(`reset ${calls}`);
        return 'done';
      },
      { ...quick, onRetry: (info) => retries.push(info) },
    );
    expect(value).toBe('done');
    expect(retries.map((info) => [info.attempt, info.error.message])).toEqual([
      [1, 'reset 1'],
      [2, 'reset 2'],
    ]);
  });

  it('throws a TerminalError (or any other error) at once', async () => {
    for (const error of [new TerminalError('auth refused', { exitCode: 77 }), new Error('bug')]) {
      let calls = 0;
      await expect(
        withRetry(async () => {
          calls += 1;
          throw error;
        }, quick),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('stops after maxAttempts and throws the last TransientError', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls += 1;
        throw new TransientError(`down ${calls}`);
      }, { ...quick, maxAttempts: 3 }),
    ).rejects.toThrow('down 3');
    expect(calls).toBe(3);
  });

  it('honours a Retry-After hint carried on the error', async () => {
    const delays: number[] = [];
    let calls = 0;
    const started = Date.now();
    await withRetry(
      async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new TransientError('429'), { retryAfterMs: 150 });
        return 'ok';
      },
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1_000, random: () => 0, onRetry: (info) => delays.push(info.delayMs) },
    );
    expect(delays).toEqual([150]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('gives up at once when the hint is longer than maxDelayMs', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls += 1;
        throw Object.assign(new TransientError('503'), { retryAfterMs: 3_600_000 });
      }, quick),
    ).rejects.toThrow('503');
    expect(calls).toBe(1);
  });

  it('reads the hint with retryAfterMs() when given', async () => {
    const delays: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw new TransientError('busy');
      },
      { ...quick, random: () => 0, retryAfterMs: () => 7, onRetry: (info) => delays.push(info.delayMs) },
    );
    expect(delays).toEqual([7]);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = withRetry(
      async () => {
        throw new TransientError('down');
      },
      { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1, signal: controller.signal, onRetry: () => controller.abort(new Error('SIGTERM')) },
    );
    await expect(pending).rejects.toThrow('SIGTERM');
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const top = { baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, top))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(4, { ...top, random: () => 0 })).toBe(0);
    expect(backoffDelay(2, { ...top, random: () => 0.5 })).toBe(100);
  });

  it('maps the partner file retry block', () => {
    expect(retryOptionsFrom({ max_attempts: 5, base_delay_ms: 500, max_delay_ms: 30_000 })).toEqual({ maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 });
  });
});
