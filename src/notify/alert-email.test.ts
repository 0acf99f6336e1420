import { describe, expect, it } from 'vitest';
import { registerSecretValue } from '../log.js';
import { parsePartnerConfig, readPartnerConfig } from '../partners/config.js';
import { buildAlertEmail } from './alert-email.js';

const config = readPartnerConfig('/nonexistent-home', 'ouchhungry').config;

describe('buildAlertEmail', () => {
  it('alert: stage, error, exit code, run id and hint, to the data team', () => {
    const message = buildAlertEmail({
      config,
      runId: '20261121T093000Z-abc123',
      stage: 'quality',
      kind: 'alert',
      error: { message: 'quality gate failed: 2 checks', hint: 'see the failed checks', exitCode: 65 },
      failedChecks: [
        { name: 'quarantine-rate', detail: 'transactions quarantined 7.2%', value: 0.072, threshold: 0.05 },
        { name: 'anomaly', severity: 'warning', message: 'revenue 60% below the median' },
      ],
    });
    expect(message.kind).toBe('alert');
    expect(message.to).toEqual(config.notifications.data_team_recipients);
    expect(message.subject).toBe('[dataprod] FAILED ouchhungry: quality (exit 65): quality gate failed: 2 checks');
    expect(message.text).toContain('Run id: 20261121T093000Z-abc123');
    expect(message.text).toContain('Exit code: exit 65, data error or failed quality gate');
    expect(message.text).toContain('What to do: see the failed checks');
    expect(message.text).toContain('  - quarantine-rate [error]: transactions quarantined 7.2% (value 0.072, limit 0.05)');
    expect(message.text).toContain('  - anomaly [warning]: revenue 60% below the median');
    expect(message.html).toContain('<td style="border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top;">quarantine-rate</td>');
  });

  it('reminder and recovery say how many runs and since when', () => {
    const error = { message: 'partner-sftp: connection refused', exitCode: 69 };
    const reminder = buildAlertEmail({ config, runId: 'r2', stage: 'deliver', kind: 'reminder', count: 4, since: '2026-11-18', error });
    expect(reminder.subject).toBe('[dataprod] STILL FAILING ouchhungry: deliver, 4 consecutive failed runs since 2026-11-18');
    expect(reminder.text).toContain('Consecutive failures: 4');
    const recovery = buildAlertEmail({ config, runId: 'r3', stage: 'deliver', kind: 'recovery', count: 4, since: '2026-11-18', error });
    expect(recovery.kind).toBe('recovery');
    expect(recovery.subject).toBe('[dataprod] RECOVERED ouchhungry: deliver works again');
    expect(recovery.text).toContain('succeeded again after 4 consecutive failed runs (failing since 2026-11-18)');
    expect(recovery.text).toContain('Last error: partner-sftp: connection refused');
  });

  it('escapes HTML everywhere and masks secret values', () => {
    registerSecretValue('s3cr3t-value-for-alert');
    const hostile = parsePartnerConfig(
      ['partner: evil', 'display_name: "<script>alert(1)</script>"', 'products: {brands: [X]}', 'segments: [s]', 'reports: {daily-analytic: {}}', 'privacy: {}', 'notifications: {data_team_recipients: [a@b.co]}'].join('\n'),
      'evil.yaml',
    );
    const message = buildAlertEmail({
      config: hostile,
      runId: '<img src=x>',
      stage: 'deliver"><b>',
      kind: 'alert',
      error: { message: 'bad <b>thing</b> & "quotes" with s3cr3t-value-for-alert', hint: "it's <i>fine</i>" },
      failedChecks: [{ name: '<u>check</u>', detail: '<a href="x">' }],
    });
    expect(message.html).not.toMatch(/<script|<img|<b>|<i>|<u>|<a href/);
    expect(message.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(message.html).toContain('bad &lt;b&gt;thing&lt;/b&gt; &amp; &quot;quotes&quot;');
    for (const part of [message.subject, message.text, message.html]) expect(part).not.toContain('s3cr3t-value-for-alert');
    expect(message.text).toContain('with ***');
  });
});
