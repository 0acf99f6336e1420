import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real entry point, as `npx dataprod` runs it (npm test builds dist/ first). */
export const binPath = fileURLToPath(new URL('../../bin/dataprod.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Kill the process after this long (a hung run fails the test instead of hanging it). */
  timeoutMs?: number;
  /** Working directory of the child (default: this process's). */
  cwd?: string;
}

function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // No keychain lookups and no colour: the end-to-end tests must not depend on the host's desktop session.
  return { ...process.env, DATAPROD_HOME: home, DATAPROD_NO_KEYCHAIN: '1', NO_COLOR: '1', CI: process.env.CI ?? '', ...extra };
}

/** Starts `dataprod <args>` on `home` and returns the child with its collected output. */
export function startCli(home: string, args: string[], options: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult>; output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [binPath, ...args], { env: cliEnv(home, options.env), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Runs `dataprod <args>` on `home` to the end. */
export function runCli(home: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(home, args, options).done;
}

/** Every regular file below a directory (relative paths). */
export function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...listFiles(path, join(prefix, name)));
    else files.push(join(prefix, name));
  }
  return files.sort();
}

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Polls until `condition` holds (or fails the test after `timeoutMs`). */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
