import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../helpers.js';
import { binPath } from './cli.js';

const tracer = fileURLToPath(new URL('./load-trace.mjs', import.meta.url));

let home: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ home, cleanup } = await makeTempHome('dataprod-startup-')));
afterAll(async () => cleanup());

/** The modules `dataprod <args>` loads, as package names and our own dist/ paths. */
function loadedBy(args: string[]): { status: number | null; stdout: string; modules: string[] } {
  const trace = join(home, `trace-${args.join('_')}.txt`);
  const run = spawnSync(process.execPath, ['--import', tracer, binPath, ...args], { encoding: 'utf8', env: { ...process.env, DATAPROD_LOAD_TRACE: trace, DATAPROD_HOME: home } });
  const urls = readFileSync(trace, 'utf8').trim().split('\n');
  const modules = urls
    .filter((url) => url.startsWith('file:'))
    .map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? url.replace(/^.*\/(dist|bin)\//, '$1/'));
  return { status: run.status, stdout: run.stdout, modules: [...new Set(modules)] };
}

describe('start-up', () => {
  // --help and --version are what a person types first; they load the command surface only.
  it.each([['--help'], ['--version'], ['build', '--help']])('%s loads no command, no DuckDB, no connector, no logger', (...args) => {
    const { status, stdout, modules } = loadedBy(args);
    expect(status).toBe(0);
    expect(stdout.length).toBeGreaterThan(0);
    expect(modules.filter((name) => /^dist\/(commands|connectors|reports|cleaning|sources|run|render)\//.test(name))).toEqual([]);
    expect(modules.filter((name) => ['@duckdb/node-api', 'winston', 'ssh2', 'ssh2-sftp-client', 'nodemailer', 'got', 'listr2', '@faker-js/faker'].includes(name))).toEqual([]);
    expect(modules).toContain('commander');
  });
});
