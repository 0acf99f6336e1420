import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listPartners } from '../partners/config.js';

/** Options of the interactive menu (`dataprod` with no arguments on a terminal). */
export interface MenuOptions {
  /** Lake home the chosen commands run on (absolute). */
  home: string;
}

/** The bin entry, so each choice runs exactly as the same command typed at the prompt would. */
const binPath = fileURLToPath(new URL('../../bin/dataprod.js', import.meta.url));

function runChoice(home: string, args: string[]): Promise<number> {
  process.stderr.write(`\n$ dataprod ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, '--home', home, ...args], { stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/**
 * `dataprod` on a terminal with no arguments: a menu of the everyday tasks. Each entry
 * runs the ordinary command (shown before it runs, so people learn the command line), then
 * the menu comes back until "Sair / quit".
 */
export async function menu(options: MenuOptions): Promise<void> {
  const { select } = await import('@inquirer/prompts');
  const promptOptions = { output: process.stderr };
  for (;;) {
    const partners = listPartners(options.home);
    const action = await select(
      {
        message: `dataprod — what would you like to do? (home ${options.home})`,
        choices: [
          { name: 'Run a partner against the sandbox (loopback servers)', value: 'sandbox-run', description: 'dataprod run --partner P --sandbox' },
          { name: 'Run a partner for real', value: 'run', description: 'dataprod run --partner P: delivers to its destinations' },
          { name: 'Test connections', value: 'test-connection', description: 'dataprod test-connection all --partner P' },
          { name: 'Set up or edit a partner', value: 'init', description: 'dataprod init: asks its questions, then checks the set-up' },
          { name: 'Runs and status', value: 'status', description: 'dataprod status, then dataprod runs' },
          ...(existsSync(fileURLToPath(new URL('./doctor.js', import.meta.url))) ? [{ name: 'Check everything a run needs (doctor)', value: 'doctor', description: 'dataprod doctor' }] : []),
          { name: 'Quit', value: 'quit', description: 'leave the menu' },
        ],
      },
      promptOptions,
    );
    if (action === 'quit') return;
    const partner = ['sandbox-run', 'run', 'test-connection'].includes(action)
      ? partners.length === 1
        ? partners[0]!
        : await select({ message: 'Which partner?', choices: partners.map((name) => ({ name, value: name })) }, promptOptions)
      : undefined;
    const commands: Record<string, string[][]> = {
      'sandbox-run': [['run', '--partner', partner!, '--sandbox']],
      run: [['run', '--partner', partner!]],
      'test-connection': [['test-connection', 'all', '--partner', partner!]],
      init: [['init']],
      status: [['status'], ['runs', '--limit', '10']],
      doctor: [['doctor']],
    };
    for (const args of commands[action]!) {
      const code = await runChoice(options.home, args);
      if (code !== 0) process.stderr.write(`(exit ${code})\n`);
    }
  }
}
