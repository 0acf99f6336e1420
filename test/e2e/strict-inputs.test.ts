import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../helpers.js';
import { runCli } from './cli.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-strict-')));
afterEach(async () => cleanup());

describe('filesystem and configuration mistakes exit 73/78 with one clear line, not 70 (issue 8, observation 6)', () => {
  it('a file as --home is 73', async () => {
    const file = join(home, 'not-a-dir');
    writeFileSync(file, 'x');
    const result = await runCli(home, ['--home', file, 'clean', '--date', '2026-11-20']);
    expect(result.code, result.stderr).toBe(73);
    expect(result.stderr).toMatch(/a path component is a file, not a directory/);
    expect(result.stderr).not.toMatch(/this is a bug/);
  });

  it('a directory as --config is 78', async () => {
    const result = await runCli(home, ['build', '--partner', 'ouchhungry', '--config', home, '--date', '2026-11-20']);
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toMatch(/it is a directory/);
  });

  it('a range ending 9999-12-31 is refused at once (64)', async () => {
    const result = await runCli(home, ['clean', '--from', '2026-11-01', '--to', '9999-12-31']);
    expect(result.code, result.stderr).toBe(64);
    expect(result.stderr).toMatch(/outside the years 2000-2100/);
  });
});
