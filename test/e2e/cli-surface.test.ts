import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../helpers.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles, runCli } from './cli.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-surface-')));
afterEach(async () => cleanup());

describe('the command surface', () => {
  it('-v and --version print the version and exit 0; with --json, an object', async () => {
    for (const flag of ['-v', '--version']) {
      const result = await runCli(home, [flag]);
      expect(result.code, flag).toBe(0);
      expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    }
    const json = await runCli(home, ['--version', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'dataprod', version: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.versions.node });
  });

  it("every subcommand's help lists the global options", async () => {
    for (const command of ['run', 'runs', 'status', 'secrets', 'completion']) {
      const help = await runCli(home, [command, '--help']);
      expect(help.code, command).toBe(0);
      for (const flag of ['--home', '--json', '--verbose', '--quiet']) expect(help.stdout, `${command} --help`).toContain(flag);
    }
  });

  it('read-only commands write nothing, not even a log file', async () => {
    const fresh = join(home, 'never-used');
    for (const args of [['runs'], ['status'], ['catalog'], ['schedule', '--partner', 'ouchhungry']]) {
      const result = await runCli(fresh, args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(existsSync(fresh) ? listFiles(fresh) : [], args.join(' ')).toEqual([]);
    }
  });
});
