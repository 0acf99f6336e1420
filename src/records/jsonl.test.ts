import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { ExitCode, toDataprodError } from '../errors.js';
import { appendJsonLine, readJsonLines } from './jsonl.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

describe('appendJsonLine (issue 8, observation 6)', () => {
  it('appends whole records or none: a write cut off by ENOSPC leaves the file as it was', async () => {
    const path = join(home, 'runs.jsonl');
    await appendJsonLine(path, { run: 1 });
    const before = await readFile(path, 'utf8');
    const probe = await open(path, 'r');
    const prototype = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<{ bytesWritten: number }> };
    await probe.close();
    const write = prototype.write;
    vi.spyOn(prototype, 'write').mockImplementationOnce(async function (this: unknown, data: unknown) {
      await write.call(this, (data as Buffer).subarray(0, 7));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    const error = await appendJsonLine(path, { run: 2, detail: 'x'.repeat(100) }).catch((caught: unknown) => caught);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(toDataprodError(error).exitCode).toBe(ExitCode.cannotWrite);
    expect(await readFile(path, 'utf8')).toBe(before);
    await appendJsonLine(path, { run: 3 });
    expect(await readJsonLines(path)).toEqual([{ run: 1 }, { run: 3 }]);
  });

  it('still starts after a torn line a crash left', async () => {
    const path = join(home, 'ledger.jsonl');
    await writeFile(path, '{"a":1}\n{"b":');
    await appendJsonLine(path, { c: 3 });
    expect(await readJsonLines(path)).toEqual([{ a: 1 }, { c: 3 }]);
  });
});

describe('toDataprodError: file-system failures are 73 with a clear line, not 70', () => {
  it('maps Node and DuckDB wording', () => {
    for (const code of ['ENOSPC', 'ENOTDIR', 'EISDIR', 'EACCES']) {
      expect(toDataprodError(Object.assign(new Error(`${code}: failed, mkdir '/x'`), { code, path: '/x' })).exitCode).toBe(73);
    }
    const duck = toDataprodError(new Error('IO Error: Could not write file "/h/silver/x.parquet": No space left on device'));
    expect(duck.exitCode).toBe(73);
    expect(duck.message).toMatch(/^cannot write: no space left on the device/);
    expect(toDataprodError(new Error('IO Error: Cannot open file "/h/_meta/x": Not a directory')).exitCode).toBe(73);
    expect(toDataprodError(new TypeError('x is undefined')).exitCode).toBe(70);
  });
});
