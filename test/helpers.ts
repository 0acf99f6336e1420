import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext } from '../src/commands/context.js';
import { silentLogger } from '../src/log.js';

/** A fresh lake home in the system temp directory; remove it with `cleanup`. */
export async function makeTempHome(prefix = 'dataprod-test-'): Promise<{ home: string; cleanup: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  return { home, cleanup: () => rm(home, { recursive: true, force: true }) };
}

/** A command context on `home` at a fixed clock, logging nothing. */
export function testContext(home: string, now = new Date('2026-11-21T12:00:00Z')): CommandContext {
  return { home, now, logger: silentLogger(), runId: 'test-run', interactive: false };
}
