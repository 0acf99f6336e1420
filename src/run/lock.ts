import { randomBytes } from 'node:crypto';
import { unlinkSync, readFileSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CannotWriteError, TryLaterError } from '../errors.js';
import { partnerLockPath } from '../lake/layout.js';

/** What a lock file holds: enough to tell who has it and whether they are still alive. */
export interface LockHolder {
  pid: number;
  host: string;
  run_id: string;
  started_at: string;
}

export interface PartnerLock {
  /** The lock file. */
  path: string;
  holder: LockHolder;
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** Run id written into the lock, shown to a second run that finds it held. */
  runId: string;
  /** A lock taken on another host (a shared home) is stale after this long. Default 6 h. */
  staleAfterMs?: number;
  /** The clock (tests). */
  now?: Date;
}

const DEFAULT_STALE_MS = 6 * 60 * 60 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof holder?.pid === 'number' && typeof holder.run_id === 'string' ? holder : null;
  } catch {
    return null;
  }
}

/** Why a held lock may be taken over, or null when its holder is alive. */
function staleReason(holder: LockHolder | null, fileAgeMs: number, now: Date, staleAfterMs: number): string | null {
  if (!holder) {
    // Unreadable: a crash between create and write. Give a writer a moment before taking it.
    return fileAgeMs > 10_000 ? 'unreadable lock file' : null;
  }
  // On this host the process table is the truth (a long backfill is not stale); from
  // another host sharing the home, only age can tell.
  if (holder.host === hostname()) return processAlive(holder.pid) ? null : `process ${holder.pid} is gone`;
  const age = now.getTime() - Date.parse(holder.started_at);
  if (Number.isFinite(age) && age > staleAfterMs) return `held for more than ${Math.round(staleAfterMs / 60_000)} min`;
  return null;
}

/**
 * Reads who holds a partner's lock (for `status`); null when free or stale.
 */
export async function readPartnerLock(home: string, partner: string, now = new Date(), staleAfterMs = DEFAULT_STALE_MS): Promise<LockHolder | null> {
  const path = partnerLockPath(home, partner);
  let age: number;
  try {
    age = now.getTime() - (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
  const holder = await readHolder(path);
  return staleReason(holder, age, now, staleAfterMs) ? null : holder;
}

const heldLocks = new Map<string, string>();
let exitHookInstalled = false;

/** The CLI exits with process.exit: drop our locks on the way out so the next run is not delayed. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [path, runId] of heldLocks) {
      try {
        if ((JSON.parse(readFileSync(path, 'utf8')) as LockHolder).run_id === runId) unlinkSync(path);
      } catch {
        // Already gone, or not ours any more.
      }
    }
  });
}

/**
 * One run per partner at a time: creates `<home>/_meta/locks/<partner>.lock` with O_EXCL,
 * holding pid, host, run id and start time. A lock whose process is gone (same host), or
 * taken on another host more than `staleAfterMs` ago, is taken over. Held by a live run: TryLaterError (75)
 * naming that run.
 */
export async function acquirePartnerLock(home: string, partner: string, options: AcquireLockOptions): Promise<PartnerLock> {
  const path = partnerLockPath(home, partner);
  const now = options.now ?? new Date();
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_MS;
  const holder: LockHolder = { pid: process.pid, host: hostname(), run_id: options.runId, started_at: now.toISOString() };
  try {
    await mkdir(join(path, '..'), { recursive: true });
  } catch (error) {
    throw new CannotWriteError(`cannot create the lock directory for ${partner}: ${(error as Error).message}`, { cause: error, hint: 'check the permissions of --home' });
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(holder)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      heldLocks.set(path, holder.run_id);
      installExitHook();
      let released = false;
      return {
        path,
        holder,
        async release() {
          if (released) return;
          released = true;
          heldLocks.delete(path);
          const current = await readHolder(path);
          if (current?.run_id === holder.run_id) await unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CannotWriteError(`cannot create the lock ${path}: ${(error as Error).message}`, { cause: error, hint: 'check the permissions of --home' });
      }
    }
    let age = 0;
    try {
      age = now.getTime() - (await stat(path)).mtimeMs;
    } catch {
      continue; // Released between our attempt and the stat: try again.
    }
    const current = await readHolder(path);
    const reason = staleReason(current, age, now, staleAfterMs);
    if (!reason) {
      const who = current ? `run ${current.run_id} (pid ${current.pid} on ${current.host}) since ${current.started_at}` : 'another run that is starting';
      throw new TryLaterError(`partner ${partner} is locked by ${who}`, {
        hint: `wait for that run to finish; if its process is gone, remove ${path}`,
      });
    }
    await takeOverStaleLock(path, current);
  }
  throw new TryLaterError(`could not take the lock for partner ${partner} after 3 attempts`, { hint: 'another run is starting at the same moment; try again' });
}

/**
 * Moves a stale lock aside. Two runs may both see it stale: only one rename wins, and if
 * what we moved aside turns out to be a fresh lock (the other run's), it is put back.
 */
async function takeOverStaleLock(path: string, stale: LockHolder | null): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // Someone else moved it first.
  }
  const moved = await readHolder(aside);
  if (stale && moved && moved.run_id !== stale.run_id) {
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
