import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { ConfigError } from '../errors.js';
import { decideAlert } from '../records/alert-state.js';
import { recordBuilt, recordDelivery } from '../records/ledger.js';
import { acquirePartnerLock } from '../run/lock.js';
import { appendRunRecord } from '../records/run-store.js';
import { status } from './status.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

const manifest = { rows: 1, files: [{ name: 'a.csv', bytes: 1, sha256: 'a'.repeat(64), format: 'csv', rows: 1 }] };
// 2026-11-21 12:00 UTC = 09:00 in São Paulo.
const now = new Date('2026-11-21T12:00:00Z');

describe('dataprod status', () => {
  it('shows per report the last success, its age and the next due run in São Paulo time', async () => {
    await recordDelivery(home, { partner: 'ouchhungry', report: 'daily-analytic', period: '2026-11-20', destination: 'partner-sftp' }, manifest, { runId: 'r-daily', now: new Date('2026-11-21T09:31:00Z') });
    await recordDelivery(home, { partner: 'ouchhungry', report: 'monthly-by-city', period: '2026-10', destination: 'partner-sftp' }, manifest, { runId: 'r-monthly', now: new Date('2026-11-01T10:05:00Z') });
    const result = await status({ partner: 'ouchhungry' }, testContext(home, now));
    const [partner] = result.data.partners;
    expect(partner).toMatchObject({ partner: 'ouchhungry', failing: null, running: null });
    const [daily, monthly] = partner!.reports;
    expect(daily).toMatchObject({ report: 'daily-analytic', schedule: '30 6 * * *', last_success: { period: '2026-11-20', run_id: 'r-daily', kind: 'delivered' }, age_hours: 2.48, next_due: '2026-11-22T09:30:00.000Z', overdue: false });
    expect(monthly).toMatchObject({ report: 'monthly-by-city', last_success: { period: '2026-10' }, next_due: '2026-12-01T10:00:00.000Z', overdue: false });
    expect(result.text).toContain('2026-11-21 06:31');
    expect(result.text).toContain('2026-11-22 06:30');
    expect(result.text).toContain('2 h 29 min');
  });

  it('says what is failing now, which run holds the lock, and what is overdue', async () => {
    await recordDelivery(home, { partner: 'ouchhungry', report: 'daily-analytic', period: '2026-11-18', destination: 'partner-sftp' }, manifest, { runId: 'old', now: new Date('2026-11-19T09:31:00Z') });
    await decideAlert(home, 'ouchhungry', { failing: true, fingerprint: 'deliver|x', now: new Date('2026-11-20T09:31:00Z'), summary: 'deliver: SFTP host key changed' });
    await decideAlert(home, 'ouchhungry', { failing: true, fingerprint: 'deliver|x', now: new Date('2026-11-21T09:31:00Z') });
    await appendRunRecord(home, { run_id: 'r2', partner: 'ouchhungry', status: 'failed', started_at: '2026-11-21T09:30:00.000Z', finished_at: '2026-11-21T09:31:00.000Z', stages: [] });
    const lock = await acquirePartnerLock(home, 'ouchhungry', { runId: 'live-run', now: new Date('2026-11-21T11:59:00Z') });
    try {
      const result = await status({}, testContext(home, now));
      const partner = result.data.partners.find((item) => item.partner === 'ouchhungry')!;
      expect(partner.failing).toMatchObject({ count: 2, summary: 'deliver: SFTP host key changed' });
      expect(partner.running).toMatchObject({ run_id: 'live-run' });
      expect(partner.last_run).toMatchObject({ run_id: 'r2', status: 'failed' });
      expect(partner.reports[0]).toMatchObject({ report: 'daily-analytic', overdue: true });
      expect(result.text).toContain('ouchhungry: FAILING since 2026-11-20 06:31 (2 runs): deliver: SFTP host key changed');
      expect(result.text).toContain('running now: run live-run');
      expect(result.text).toContain('OVERDUE');
    } finally {
      await lock.release();
    }
  });

  it('lists partners seen in runs even without a configuration, and refuses an unknown --partner', async () => {
    await appendRunRecord(home, { run_id: 'r', partner: 'ghost', status: 'succeeded', started_at: '2026-11-21T09:30:00.000Z', finished_at: '2026-11-21T09:31:00.000Z', stages: [] });
    const result = await status({}, testContext(home, now));
    const ghost = result.data.partners.find((item) => item.partner === 'ghost')!;
    expect(ghost.error).toMatch(/no configuration for partner "ghost"/);
    expect(result.data.partners.map((item) => item.partner)).toContain('ouchhungry');
    await expect(status({ partner: 'ghost' }, testContext(home, now))).rejects.toBeInstanceOf(ConfigError);
  });

  it('counts only deliveries as success when the report has a destination, builds otherwise', async () => {
    await mkdir(join(home, 'partners'), { recursive: true });
    await writeFile(
      join(home, 'partners', 'acme.yaml'),
      [
        'partner: acme',
        'display_name: ACME',
        'products: { brands: [Acme] }',
        'segments: [biscoitos]',
        'reports: { daily-analytic: { enabled: true, formats: [csv] } }',
        'privacy: { k: 11 }',
        'notifications: { data_team_recipients: [dados@example.com] }',
        'destinations: [{ name: drop, type: local }]',
        '',
      ].join('\n'),
    );
    const key = { partner: 'acme', report: 'daily-analytic', period: '2026-11-19' };
    await recordDelivery(home, { ...key, destination: 'drop' }, manifest, { runId: 'delivered-run', now: new Date('2026-11-20T09:31:00Z') });
    // The next day was built but its delivery failed: not a success.
    await recordBuilt(home, { ...key, period: '2026-11-20' }, manifest, { runId: 'built-run', now: new Date('2026-11-21T09:31:00Z') });
    const [acme] = (await status({ partner: 'acme' }, testContext(home, now))).data.partners;
    expect(acme!.reports[0]!.last_success).toMatchObject({ run_id: 'delivered-run', kind: 'delivered', period: '2026-11-19' });
  });
});
