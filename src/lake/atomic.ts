import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary name beside the target, so the final rename stays on one file system. */
export function temporaryPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes a file so that readers see either the old content or the new, never a part. */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array, mode?: number): Promise<void> {
  await withAtomicFile(finalPath, (tmp) => writeFile(tmp, data, mode === undefined ? undefined : { mode }));
}

/**
 * Lets `produce` write to a temporary path (DuckDB COPY, a renderer...), then renames it
 * into place; on failure the temporary file is removed and the old file stays.
 */
export async function withAtomicFile<T>(finalPath: string, produce: (temporaryPath: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(finalPath), { recursive: true });
  const tmp = temporaryPathFor(finalPath);
  try {
    const result = await produce(tmp);
    await rename(tmp, finalPath);
    return result;
  } catch (error) {
    await rm(tmp, { force: true, recursive: true });
    throw error;
  }
}

/**
 * Replaces a whole directory (a partition, an outbox package): `produce` fills a
 * temporary sibling, which then takes the final name. The old directory is moved aside
 * first and removed after, so a re-run replaces the partition and nothing accumulates.
 */
export async function replaceDirAtomic<T>(finalDir: string, produce: (temporaryDir: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(finalDir), { recursive: true });
  const tmp = temporaryPathFor(finalDir);
  await mkdir(tmp, { recursive: true });
  let result: T;
  try {
    result = await produce(tmp);
  } catch (error) {
    await rm(tmp, { force: true, recursive: true });
    throw error;
  }
  const old = `${tmp}.old`;
  try {
    await rename(finalDir, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(tmp, finalDir);
  await rm(old, { force: true, recursive: true });
  return result;
}
