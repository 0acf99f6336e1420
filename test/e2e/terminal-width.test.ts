import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { yesterday } from '../../src/dates.js';
import { makeTempHome } from '../helpers.js';
import { listFiles, runCli } from './cli.js';

// What people read at an 80-column terminal: the tables of runs, status, catalog and
// test-connection fit, so no line is wrapped by the terminal into a broken grid.

const day = yesterday(new Date());
let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-width-')));
afterEach(async () => cleanup());

describe('tables at 80 columns', { timeout: 240_000 }, () => {
  it('runs, status, catalog and test-connection print no line wider than the terminal', async () => {
    const env = { COLUMNS: '80' };
    expect((await runCli(home, ['generate', '--from', day, '--customers', '500', '--transactions-per-day', '200'])).code).toBe(0);
    const run = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day]);
    expect(run.code, run.stderr).toBe(0);
    const before = listFiles(home);
    for (const args of [['runs'], ['status'], ['catalog'], ['test-connection', 'all', '--partner', 'ouchhungry', '--sandbox']]) {
      // Looking changes nothing: runs, status and catalog write no file, not even a log.
      if (args[0] === 'test-connection') expect(listFiles(home)).toEqual(before);
      const result = await runCli(home, args, { env });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines.length, args.join(' ')).toBeGreaterThan(1);
      for (const line of lines) expect([...line].length, `${args.join(' ')}: ${line}`).toBeLessThanOrEqual(80);
    }
  });
});
