import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { blockedDir } from '../lake/layout.js';
import { moveBlockedPackage, pruneBlockedPackages, sweepStalePackages } from './blocked-packages.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ home, cleanup } = await makeTempHome());
});
afterEach(async () => cleanup());

async function makeDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'data.csv'), 'x\n');
  return path;
}

describe('blocked and stale packages (issue 8, observation 6)', () => {
  it('moves a blocked package out of the outbox with its reasons', async () => {
    const dir = await makeDir(join(home, 'outbox', 'ouchhungry', 'daily-analytic', '2026-11-20'));
    const target = await moveBlockedPackage(home, dir, { partner: 'ouchhungry', report: 'daily-analytic', period: '2026-11-20', runId: 'r1', reasons: ['pii: city (cpf 1)'], now: new Date('2026-11-21T09:00:00Z') });
    expect(existsSync(dir)).toBe(false);
    expect(target).toBe(blockedDir(home, 'ouchhungry', 'daily-analytic', '2026-11-20.2026-11-21T09-00-00-000Z'));
    expect(JSON.parse(await readFile(join(target!, 'BLOCKED.json'), 'utf8'))).toMatchObject({ run_id: 'r1', reasons: ['pii: city (cpf 1)'] });
  });

  it('sweeps temporary folders of dead or old builds, keeps live ones, and prunes by age', async () => {
    const reportDir = join(home, 'outbox', 'ouchhungry', 'daily-analytic');
    const dead = await makeDir(join(reportDir, '.2026-11-19.tmp-999999999-abcd1234'));
    const live = await makeDir(join(reportDir, `.2026-11-20.tmp-${process.pid}-abcd1234`));
    const done = await makeDir(join(reportDir, '2026-11-18'));
    const now = new Date();
    const moved = await sweepStalePackages(home, { now });
    expect(moved).toHaveLength(1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live) && existsSync(done)).toBe(true);
    // Even a live PID does not keep a folder untouched for more than a day (PIDs are reused).
    const old = new Date(now.getTime() - 2 * 86_400_000);
    await utimes(live, old, old);
    expect(await sweepStalePackages(home, { now })).toHaveLength(1);
    const kept = await readdir(blockedDir(home, 'ouchhungry', 'daily-analytic'));
    expect(kept).toHaveLength(2);
    await utimes(blockedDir(home, 'ouchhungry', 'daily-analytic', kept[0]!), old, old);
    expect(await pruneBlockedPackages(home, { now, retentionDays: 1 })).toHaveLength(1);
    expect(await readdir(blockedDir(home, 'ouchhungry', 'daily-analytic'))).toHaveLength(1);
  });
});
