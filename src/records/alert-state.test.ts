import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { decideAlert, failureFingerprint, readAlertState } from './alert-state.js';
import { alertStatePath } from '../lake/layout.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

const at = (hours: number) => new Date(Date.parse('2026-11-21T09:30:00Z') + hours * 3_600_000);

describe('decideAlert', () => {
  it('alerts once, reminds with a count after reminder_hours, and recovers once', async () => {
    const fingerprint = 'deliver|UnavailableError|SFTP timeout after # ms';
    const fail = (hours: number) => decideAlert(home, 'ouchhungry', { failing: true, fingerprint, now: at(hours), reminderHours: 24, summary: 'deliver: SFTP timeout' });
    expect(await fail(0)).toMatchObject({ action: 'alert', count: 1, since: at(0).toISOString() });
    expect(await fail(1)).toMatchObject({ action: 'none', count: 2 });
    expect(await fail(12)).toMatchObject({ action: 'none', count: 3 });
    expect(await fail(24)).toMatchObject({ action: 'reminder', count: 4, since: at(0).toISOString() });
    expect(await fail(25)).toMatchObject({ action: 'none', count: 5 });
    expect(await fail(48)).toMatchObject({ action: 'reminder', count: 6 });
    expect((await readAlertState(home, 'ouchhungry')).failing).toMatchObject({ fingerprint, count: 6, summary: 'deliver: SFTP timeout' });
    expect(await decideAlert(home, 'ouchhungry', { failing: false, now: at(49) })).toMatchObject({ action: 'recovery', count: 6, since: at(0).toISOString() });
    expect(await decideAlert(home, 'ouchhungry', { failing: false, now: at(50) })).toEqual({ action: 'none' });
    const state = await readAlertState(home, 'ouchhungry');
    expect(state.failing).toBeNull();
    expect(state.last_recovery).toMatchObject({ count: 6, recovered_at: at(49).toISOString() });
    expect(alertStatePath(home, 'ouchhungry')).toBe(`${home}/_meta/alerts/ouchhungry.json`);
  });

  it('alerts again at once when a different failure replaces the current one', async () => {
    await decideAlert(home, 'ouchhungry', { failing: true, fingerprint: 'a', now: at(0) });
    expect(await decideAlert(home, 'ouchhungry', { failing: true, fingerprint: 'b', now: at(1) })).toMatchObject({ action: 'alert', count: 1, replaces: 'a' });
    // Partners are independent.
    expect(await decideAlert(home, 'acme', { failing: true, fingerprint: 'b', now: at(1) })).toMatchObject({ action: 'alert' });
  });

  it('says nothing for passing runs with no failure on record', async () => {
    expect(await decideAlert(home, 'ouchhungry', { failing: false, now: at(0) })).toEqual({ action: 'none' });
  });
});

describe('failureFingerprint', () => {
  it('is the same for the same failure with different numbers, dates, paths and run ids', () => {
    const a = failureFingerprint('deliver', { name: 'TransientError', message: 'SFTP timeout after 20013 ms uploading /inbound/daily/2026-11-20/x.csv (run 20261121T093000Z-a1b2c3)' });
    const b = failureFingerprint('deliver', { name: 'TransientError', message: 'SFTP timeout after 20020 ms uploading /inbound/daily/2026-11-21/y.csv (run 20261122T093000Z-ffeedd)' });
    expect(a).toBe(b);
    expect(a.startsWith('deliver|TransientError|')).toBe(true);
    expect(failureFingerprint('gates', { name: 'DataError', message: 'quality gate anomaly failed' })).not.toBe(failureFingerprint('gates', { name: 'DataError', message: 'quality gate pii failed' }));
    expect(failureFingerprint('clean', 'x')).not.toBe(failureFingerprint('build', 'x'));
  });
});
