import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { blockedDir } from '../lake/layout.js';

/**
 * Packages that must not stay where a connector (or a person) would pick them up: those a
 * quality gate blocked, and the hidden `.<period>.tmp-PID-...` folders a killed build left
 * in the outbox. They go to `<home>/_meta/blocked/<partner>/<report>/`, where an operator
 * can look at them, and are removed there once older than the retention.
 */

/** Days a blocked or stale package is kept under _meta/blocked before it is removed. */
export const BLOCKED_RETENTION_DAYS = 30;

function stamp(now: Date): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/**
 * Moves a package a gate blocked out of the outbox, with a note of why (gate names and
 * details, which name columns and rules, never values). Returns the new directory.
 */
export async function moveBlockedPackage(home: string, packageDir: string, info: { partner: string; report: string; period: string; runId?: string; reasons: string[]; now?: Date }): Promise<string | null> {
  if (!existsSync(packageDir)) return null;
  const now = info.now ?? new Date();
  const target = blockedDir(home, info.partner, info.report, `${info.period}.${stamp(now)}`);
  await mkdir(join(target, '..'), { recursive: true });
  await rename(packageDir, target);
  await writeFile(join(target, 'BLOCKED.json'), `${JSON.stringify({ blocked_at: now.toISOString(), run_id: info.runId ?? null, reasons: info.reasons }, null, 2)}\n`);
  return target;
}

const temporaryName = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+(?:\.old)?$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
}

/**
 * Moves the temporary package folders of dead builds out of `<home>/outbox`. A folder is
 * stale when the process that wrote it is gone, or, whatever its PID says (reused after a
 * reboot), when it was last changed more than `maxAgeMs` ago (default 1 day).
 */
export async function sweepStalePackages(home: string, options: { now?: Date; maxAgeMs?: number } = {}): Promise<string[]> {
  const now = options.now ?? new Date();
  const maxAge = options.maxAgeMs ?? 86_400_000;
  const moved: string[] = [];
  const outbox = join(home, 'outbox');
  for (const partner of await listDirs(outbox)) {
    for (const report of await listDirs(join(outbox, partner))) {
      const dir = join(outbox, partner, report);
      for (const name of await listDirs(dir)) {
        const match = temporaryName.exec(name);
        if (!match) continue;
        const path = join(dir, name);
        const age = now.getTime() - (await stat(path)).mtimeMs;
        if (processAlive(Number(match[2])) && age <= maxAge) continue;
        const target = blockedDir(home, partner, report, `${match[1]}.stale.${stamp(now)}.${match[2]}`);
        await mkdir(join(target, '..'), { recursive: true });
        await rename(path, target);
        // Retention counts from the move, not from the build.
        await utimes(target, now, now);
        moved.push(relative(home, target));
      }
    }
  }
  return moved;
}

/** Removes what _meta/blocked holds for longer than `retentionDays`; returns what it removed. */
export async function pruneBlockedPackages(home: string, options: { now?: Date; retentionDays?: number } = {}): Promise<string[]> {
  const now = options.now ?? new Date();
  const limit = (options.retentionDays ?? BLOCKED_RETENTION_DAYS) * 86_400_000;
  const removed: string[] = [];
  for (const partner of await listDirs(blockedDir(home))) {
    for (const report of await listDirs(blockedDir(home, partner))) {
      for (const name of await listDirs(blockedDir(home, partner, report))) {
        const path = blockedDir(home, partner, report, name);
        if (now.getTime() - (await stat(path)).mtimeMs <= limit) continue;
        await rm(path, { recursive: true, force: true });
        removed.push(relative(home, path));
      }
    }
  }
  return removed;
}

/** Before a build: stale temporary packages out of the outbox, and old blocked ones removed. */
export async function tidyOutbox(home: string, now = new Date()): Promise<{ moved: string[]; removed: string[] }> {
  return { moved: await sweepStalePackages(home, { now }), removed: await pruneBlockedPackages(home, { now }) };
}
