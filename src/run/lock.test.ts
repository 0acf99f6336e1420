import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { TryLaterError } from '../errors.js';
import { acquirePartnerLock, readPartnerLock } from './lock.js';
import { partnerLockPath } from '../lake/layout.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

/** A pid that is certainly not running: a child that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('acquirePartnerLock', () => {
  it('writes pid, host, run id and start time, and removes the file on release', async () => {
    const lock = await acquirePartnerLock(home, 'ouchhungry', { runId: 'run-1', now: new Date('2026-11-21T09:30:00Z') });
    const path = partnerLockPath(home, 'ouchhungry');
    expect(path).toBe(`${home}/_meta/locks/ouchhungry.lock`);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ pid: process.pid, host: hostname(), run_id: 'run-1', started_at: '2026-11-21T09:30:00.000Z' });
    expect(await readPartnerLock(home, 'ouchhungry')).toMatchObject({ run_id: 'run-1' });
    await lock.release();
    expect(existsSync(path)).toBe(false);
    await lock.release();
  });

  it('refuses a second run with exit 75, naming the run, pid and start time that hold it', async () => {
    const lock = await acquirePartnerLock(home, 'ouchhungry', { runId: 'first-run', now: new Date('2026-11-21T09:30:00Z') });
    const error = await acquirePartnerLock(home, 'ouchhungry', { runId: 'second-run', now: new Date('2026-11-21T09:31:00Z') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TryLaterError);
    expect((error as TryLaterError).exitCode).toBe(75);
    expect((error as Error).message).toContain('first-run');
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    expect((error as Error).message).toContain('2026-11-21T09:30:00.000Z');
    // Another partner is independent.
    const other = await acquirePartnerLock(home, 'acme', { runId: 'second-run' });
    await other.release();
    await lock.release();
    const again = await acquirePartnerLock(home, 'ouchhungry', { runId: 'third-run' });
    await again.release();
  });

  it('takes over a lock whose process is gone from this host', async () => {
    const path = partnerLockPath(home, 'ouchhungry');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify({ pid: await deadPid(), host: hostname(), run_id: 'crashed', started_at: new Date().toISOString() }));
    expect(await readPartnerLock(home, 'ouchhungry')).toBeNull();
    const lock = await acquirePartnerLock(home, 'ouchhungry', { runId: 'after-crash' });
    expect(JSON.parse(readFileSync(path, 'utf8')).run_id).toBe('after-crash');
    await lock.release();
  });

  it('takes over a lock from another host only once it is older than the limit', async () => {
    const path = partnerLockPath(home, 'ouchhungry');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify({ pid: 1, host: 'elsewhere.example', run_id: 'remote', started_at: '2026-11-21T00:00:00.000Z' }));
    await expect(acquirePartnerLock(home, 'ouchhungry', { runId: 'mine', now: new Date('2026-11-21T01:00:00Z') })).rejects.toThrow(/remote/);
    const lock = await acquirePartnerLock(home, 'ouchhungry', { runId: 'mine', now: new Date('2026-11-21T07:00:00Z') });
    expect(lock.holder.run_id).toBe('mine');
    await lock.release();
  });

  it('lets exactly one of several concurrent processes in', async () => {
    const release = join(home, 'release');
    // The winner holds the lock until the test has seen the others give up, however slowly they start.
    const script = `
      const { existsSync } = await import('node:fs');
      const { acquirePartnerLock } = await import(${JSON.stringify(new URL('./lock.ts', import.meta.url).pathname)});
      try {
        await acquirePartnerLock(process.argv[1], 'ouchhungry', { runId: 'p' + process.pid });
        console.log('got');
        const deadline = Date.now() + 30000;
        while (!existsSync(process.argv[2]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      } catch (error) { console.log('exit', error.exitCode); }
    `;
    let exited = 0;
    const runs = Array.from({ length: 4 }, () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, home, release], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.on('exit', () => {
          exited++;
          resolve(out.trim());
        });
      }),
    );
    const deadline = Date.now() + 30_000;
    while (exited < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(release, '');
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((outcome) => outcome === 'got')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'exit 75')).toHaveLength(3);
    // The winner exited without calling release: its exit hook removed the lock.
    expect(existsSync(partnerLockPath(home, 'ouchhungry'))).toBe(false);
  });
});
