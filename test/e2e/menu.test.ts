import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../helpers.js';
import { binPath, waitFor } from './cli.js';

// The interactive menu as a person sees it: the real binary in a tmux pseudo-terminal,
// driven by key presses, read back from the screen.

const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
const inCi = process.env.CI === 'true';
const session = `dataprod-menu-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-menu-')));
afterEach(async () => {
  spawnSync('tmux', ['kill-session', '-t', session]);
  await cleanup();
});

describe.skipIf(!hasTmux && !inCi)('dataprod with no arguments on a terminal (skipped without tmux)', () => {
  it('opens a menu, runs the chosen command, comes back, and quits', async () => {
    const command = `DATAPROD_NO_KEYCHAIN=1 NO_COLOR=1 ${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} --home ${JSON.stringify(home)}; echo "menu exited $?"; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '50', command);
    await waitFor(() => screen().includes('what would you like to do?'), 30_000, 'the menu');
    expect(screen()).toMatch(/Runs and status/);
    expect(screen()).toMatch(/Quit/);

    // "Runs and status" is the fifth entry.
    tmux('send-keys', '-t', session, 'Down', 'Down', 'Down', 'Down', 'Enter');
    await waitFor(() => screen().includes('no runs recorded yet'), 60_000, 'status and runs to print');
    expect(screen()).toContain('$ dataprod status');
    expect(screen()).toMatch(/daily-analytic\s+never/);
    await waitFor(() => screen().split('what would you like to do?').length > 2, 30_000, 'the menu to come back');

    // Up from the first entry wraps to the last, "Quit".
    tmux('send-keys', '-t', session, 'Up', 'Enter');
    await waitFor(() => screen().includes('menu exited'), 30_000, 'the menu to exit');
    expect(screen()).toContain('menu exited 0');
  }, 180_000);

  it('without a terminal prints help and exits 64, as before', () => {
    const result = spawnSync(process.execPath, [binPath, '--home', home], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(result.status).toBe(64);
    expect(result.stdout + result.stderr).toContain('Usage: dataprod');
  });
});
