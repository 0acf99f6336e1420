import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext } from '../src/commands/context.js';
import type { ConnectorContext } from '../src/connectors/types.js';
import { ConfigError } from '../src/errors.js';
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

/**
 * A connector context whose secrets come from a plain map; a missing name fails as the
 * real lookup does (ConfigError, exit 78, naming the command that sets it).
 */
export function connectorTestContext(home: string, secrets: Record<string, string> = {}, partner = 'ouchhungry'): ConnectorContext {
  return {
    partner,
    home,
    logger: silentLogger(),
    secret: async (name) => {
      const value = secrets[name];
      if (value === undefined) throw new ConfigError(`secret "${name}" for partner ${partner} not found`, { hint: `set it with: dataprod secrets set --partner ${partner} ${name}` });
      return value;
    },
  };
}
