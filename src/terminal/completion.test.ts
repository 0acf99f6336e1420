import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../cli.js';
import { completionScript } from './completion.js';

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'dataprod-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scriptFile(shell: 'bash' | 'zsh' | 'fish'): string {
  const path = join(dir, `dataprod.${shell}`);
  writeFileSync(path, completionScript(buildProgram(), shell));
  return path;
}

/** What bash offers after `dataprod <words>`, with the real completion function. */
function bashComplete(words: string[]): string[] {
  const script = `source ${JSON.stringify(scriptFile('bash'))}
COMP_WORDS=(dataprod ${words.map((word) => JSON.stringify(word)).join(' ')}); COMP_CWORD=${words.length}
_dataprod; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('shell completion', () => {
  it('bash completes commands, their arguments and their flags', () => {
    expect(bashComplete(['te'])).toEqual(['test-connection']);
    expect(bashComplete(['test-connection', ''])).toEqual(expect.arrayContaining(['sftp', 'api', 'smtp', 'all', '--partner', '--sandbox']));
    expect(bashComplete(['run', '--sa'])).toEqual(['--sandbox']);
    expect(bashComplete(['--json', 'run', '--dr'])).toEqual(['--dry-run']);
  });

  it('bash and zsh scripts parse (zsh -n skipped without zsh)', () => {
    execFileSync('bash', ['-n', scriptFile('bash')]);
    if (has('zsh')) execFileSync('zsh', ['-n', scriptFile('zsh')]);
  });

  it.skipIf(!has('fish'))('the fish script parses (skipped without fish)', () => {
    execFileSync('fish', ['--no-execute', scriptFile('fish')]);
  });

  it('names every command of the program in every shell', () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const text = completionScript(buildProgram(), shell);
      for (const command of buildProgram().commands) expect(text, `${shell}: ${command.name()}`).toContain(command.name());
    }
  });
});
