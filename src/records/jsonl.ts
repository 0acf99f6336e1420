import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { writeFileAtomic } from '../lake/atomic.js';
import { redactValue } from '../log.js';

/**
 * Append-only JSON-lines stores (ledger, run records, lineage events, metric history).
 * One `write` per record on a file opened with O_APPEND, then fsync: a reader sees whole
 * lines. A failed write (a full disk) is cut back to the size before it; only a crash
 * mid-write can leave a torn last line, which readers skip and the next append starts
 * after on a fresh line instead of gluing onto it.
 */
export async function appendJsonLine(path: string, value: unknown): Promise<void> {
  await appendJsonLines(path, [value]);
}

/** Appends several records in one write and one fsync (see appendJsonLine). */
export async function appendJsonLines(path: string, values: readonly unknown[]): Promise<void> {
  if (values.length === 0) return;
  await mkdir(dirname(path), { recursive: true });
  const text = values.map((value) => `${JSON.stringify(redactValue(value), jsonReplacer)}\n`).join('');
  const handle = await open(path, 'a+');
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    const data = Buffer.from(prefix + text, 'utf8');
    try {
      const { bytesWritten } = await handle.write(data);
      if (bytesWritten !== data.length) throw Object.assign(new Error(`ENOSPC: no space left on device, write (${bytesWritten} of ${data.length} bytes)`), { code: 'ENOSPC', path });
      await handle.sync();
    } catch (error) {
      // Whole records or none: cut off what a full disk (ENOSPC) let through, so no torn
      // line stays behind; the error still ends the command (73).
      await handle.truncate(size).catch(() => undefined);
      throw error;
    }
  } finally {
    await handle.close();
  }
}

/** Every well-formed line of a JSON-lines file, in file order; a missing file is empty. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A torn line from a crash mid-append: skip it, the record was never complete.
    }
  }
  return out;
}

/** Reads a JSON file; `fallback` when it does not exist or does not parse. */
export async function readJsonFile<T>(path: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || error instanceof SyntaxError) return fallback;
    throw error;
  }
}

/** Rewrites a JSON file atomically (temporary file, then rename), redacting secrets. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(redactValue(value), jsonReplacer, 2)}\n`);
}

/**
 * Runs `body` holding an advisory lock on `path` (proper-lockfile: a `<path>.lock`
 * directory, refreshed while held, taken over when stale). Serialises read-modify-write
 * of files that runs of different partners share, such as the catalog.
 */
export async function withFileLock<T>(path: string, body: () => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const release = await lockfile.lock(path, { realpath: false, stale: 30_000, retries: { retries: 60, minTimeout: 50, maxTimeout: 1000 } });
  try {
    return await body();
  } finally {
    await release().catch(() => undefined);
  }
}

/** BigInt values (DuckDB counts) as numbers in JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
