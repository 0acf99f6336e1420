import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { ConfigError } from '../errors.js';
import { binPath, schedule } from './schedule.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

describe('dataprod schedule', () => {
  it('prints crontab lines in São Paulo time with absolute paths and a log file', async () => {
    const result = await schedule({ partner: 'ouchhungry' }, testContext(home, new Date('2026-11-21T12:00:00Z')));
    const { crontab, jobs } = result.data;
    expect(existsSync(binPath())).toBe(true);
    expect(crontab).toContain('CRON_TZ=America/Sao_Paulo\n');
    const lines = crontab.split('\n').filter((line) => /^\d/.test(line));
    expect(lines).toHaveLength(2);
    const command = `${process.execPath} ${binPath()} --home ${home} run --partner ouchhungry >> ${home}/_meta/logs/cron-ouchhungry.log 2>&1`;
    expect(lines[0]).toBe(`30 6 * * * ${command}`);
    expect(lines[1]).toBe(`0 7 1 * * ${command}`);
    expect(lines.join('\n')).not.toMatch(/flock/);
    expect(jobs.map((job) => [job.job, job.next_run])).toEqual([['daily', '2026-11-22T09:30:00.000Z'], ['monthly', '2026-12-01T10:00:00.000Z']]);
    expect(result.text).toContain('# next daily run: 2026-11-22 06:30 (São Paulo)');
  });

  it('prints a systemd service and timer with OnCalendar in America/Sao_Paulo', async () => {
    const { data } = await schedule({ partner: 'ouchhungry' }, testContext(home));
    expect(data.systemd.service.name).toBe('dataprod-ouchhungry.service');
    expect(data.systemd.service.content).toContain(`ExecStart=${process.execPath} ${binPath()} --home ${home} run --partner ouchhungry\n`);
    expect(data.systemd.service.content).toContain('Type=oneshot');
    expect(data.systemd.service.content).toContain('SuccessExitStatus=75');
    expect(data.systemd.service.content).toContain(`StandardOutput=append:${home}/_meta/logs/systemd-ouchhungry.log`);
    expect(data.systemd.timer.content).toContain('OnCalendar=*-*-* 06:30:00 America/Sao_Paulo\nOnCalendar=*-*-01 07:00:00 America/Sao_Paulo\n');
    expect(data.systemd.timer.content).toContain('Persistent=true');
    expect(data.systemd.timer.content).toContain('Unit=dataprod-ouchhungry.service');
    expect(data.systemd.timer.content).toContain('WantedBy=timers.target');
  });

  const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it.skipIf(!hasSystemdAnalyze)('writes units and calendar events systemd-analyze accepts (skipped without systemd-analyze)', async () => {
    const { data } = await schedule({ partner: 'ouchhungry' }, testContext(home));
    for (const job of data.jobs) for (const calendar of job.on_calendar) execFileSync('systemd-analyze', ['calendar', calendar], { stdio: 'pipe' });
    const service = join(home, data.systemd.service.name);
    const timer = join(home, data.systemd.timer.name);
    await writeFile(service, data.systemd.service.content);
    await writeFile(timer, data.systemd.timer.content);
    const verify = spawnSync('systemd-analyze', ['verify', timer, service], { encoding: 'utf8', cwd: home });
    expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
    expect(verify.status).toBe(0);
  });

  it('quotes paths with spaces and % for the shell, cron and systemd', async () => {
    const { home: odd, cleanup: done } = await makeTempHome('dataprod test 100% ');
    try {
      const { data } = await schedule({ partner: 'ouchhungry' }, testContext(odd));
      expect(data.crontab).toContain(`--home '${odd.replace('%', '\\%')}' run`);
      expect(data.systemd.service.content).toContain(`--home "${odd.replace('%', '%%')}" run`);
    } finally {
      await done();
    }
  });

  it('needs a configured partner', async () => {
    await expect(schedule({ partner: 'nobody' }, testContext(home))).rejects.toBeInstanceOf(ConfigError);
  });
});
