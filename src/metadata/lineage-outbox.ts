import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lake/atomic.js';

/**
 * Lineage events whose POST failed wait here, one file per event, named so that sorting
 * the names gives the order they were emitted in; the next emission to the endpoint (the
 * next run) sends them first, oldest first, and deletes each one the endpoint accepted.
 */
let sequence = 0;

/** Queues an event: `<outbox>/<ms since epoch>-<pid>-<sequence>.json`, written atomically. */
export async function queueLineageEvent(outbox: string, event: unknown, now = new Date()): Promise<string> {
  const name = `${String(now.getTime()).padStart(15, '0')}-${String(process.pid).padStart(7, '0')}-${String(sequence++).padStart(6, '0')}.json`;
  const path = join(outbox, name);
  await writeFileAtomic(path, `${JSON.stringify(event)}\n`);
  return path;
}

/** Queued event files, oldest first. */
export async function queuedLineageEvents(outbox: string): Promise<string[]> {
  try {
    return (await readdir(outbox)).filter((name) => /^\d{15}-\d{7}-\d{6}\.json$/.test(name)).sort().map((name) => join(outbox, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** An endpoint's refusal of the event itself (4xx but 408 and 429): sending it again cannot help. */
export function isRejection(error: unknown): boolean {
  const status = (error as { response?: { statusCode?: number } })?.response?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export interface FlushResult {
  /** Events the endpoint accepted (their files are deleted). */
  sent: number;
  /** Events it refused as invalid, moved to `<outbox>/rejected/` so they do not block the rest. */
  rejected: number;
  /** Events still queued. */
  left: number;
  /** Why sending stopped early (the endpoint is down); the rest stay for the next run. */
  error?: Error;
}

/** Sends the queued events in order; stops at the first one the endpoint could not take. */
export async function flushLineageOutbox(outbox: string, post: (event: unknown) => Promise<void>): Promise<FlushResult> {
  const files = await queuedLineageEvents(outbox);
  const result: FlushResult = { sent: 0, rejected: 0, left: files.length };
  for (const file of files) {
    let event: unknown;
    try {
      event = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      // A torn file (a crash mid-write cannot leave one: writes are atomic) or a hand edit.
      await moveToRejected(outbox, file);
      result.rejected++;
      result.left--;
      continue;
    }
    try {
      await post(event);
    } catch (error) {
      if (!isRejection(error)) return { ...result, error: error as Error };
      await moveToRejected(outbox, file);
      result.rejected++;
      result.left--;
      continue;
    }
    await rm(file, { force: true });
    result.sent++;
    result.left--;
  }
  return result;
}

async function moveToRejected(outbox: string, file: string): Promise<void> {
  const rejected = join(outbox, 'rejected');
  await mkdir(rejected, { recursive: true });
  await rename(file, join(rejected, file.slice(outbox.length + 1)));
}
