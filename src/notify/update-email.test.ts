import { describe, expect, it } from 'vitest';
import type { DeliveryReceipt } from '../connectors/types.js';
import type { OutboxPackage } from '../render/package.js';
import { readPartnerConfig } from '../partners/config.js';
import { formatBytes, formatInteger, formatMoney } from './format.js';
import { buildUpdateEmail } from './update-email.js';

const config = readPartnerConfig('/nonexistent-home', 'ouchhungry').config;

function pkg(report: string, period: string, summary: Record<string, number | string | null>): OutboxPackage {
  const stem = `ouchhungry_${report}_${period}`;
  return {
    dir: `/home/x/outbox/ouchhungry/${report}/${period}`,
    manifest: {
      partner: 'ouchhungry',
      report,
      period,
      rows: 1234,
      files: [
        { name: `${stem}.csv`, bytes: 120_345, sha256: 'a'.repeat(64), format: 'csv', rows: 1234 },
        { name: `${stem}.parquet`, bytes: 45_000, sha256: 'b'.repeat(64), format: 'parquet', rows: 1234 },
      ],
      columns: [],
      summary,
      generated_at: '2026-11-21T09:30:00Z',
      tool_version: '0.1.0',
    },
  };
}

describe('buildUpdateEmail', () => {
  const daily = pkg('daily-analytic', '2026-11-20', { units: 2345, revenue: '12345.60' });
  const monthly = pkg('monthly-by-city', '2026-10', { units: 70000, revenue: '1234567.89', cells_merged: 3, cells_suppressed: 1 });
  const receipts: DeliveryReceipt[] = [
    { destination: 'partner-sftp', type: 'sftp', location: 'sftp://sftp.example.com/inbound/daily-analytic/2026-11-20/', files: daily.manifest.files, bytes: 1, retries: 0 },
    { destination: 'partner-sftp', type: 'sftp', location: 'sftp://sftp.example.com/inbound/monthly-by-city/2026-10/', files: monthly.manifest.files, bytes: 1, retries: 0 },
    {
      destination: 'partner-api',
      type: 'api',
      location: 'https://api.example.com/v1/reports/daily-analytic/rows',
      files: [{ name: 'ouchhungry_daily-analytic_2026-11-20.batch-0001-of-0002.json', bytes: 1, sha256: 'c'.repeat(64) }],
      bytes: 1,
      retries: 0,
    },
  ];

  it('one package: subject with partner, report and period; totals, files and destinations', () => {
    const message = buildUpdateEmail({ config, packages: [daily], receipts: receipts.slice(0, 1), runId: 'run-9' });
    expect(message.kind).toBe('update');
    expect(message.to).toEqual(['analytics@ouchhungry.example.com']);
    expect(message.subject).toBe('OuchHungry: daily-analytic 2026-11-20 is ready');
    expect(message.text).toContain('  Period: 2026-11-20\n  Rows: 1.234\n  Units: 2.345\n  Revenue: R$ 12.345,60');
    expect(message.text).toContain(`    ouchhungry_daily-analytic_2026-11-20.csv  120.3 kB (120.345 bytes)  SHA-256 ${'a'.repeat(64)}`);
    expect(message.text).toContain('    partner-sftp (sftp): sftp://sftp.example.com/inbound/daily-analytic/2026-11-20/');
    expect(message.text).toContain('Run run-9');
    expect(message.html).toContain('R$ 12.345,60');
    expect(message.attachments).toBeUndefined();
  });

  it('several packages: each lists only the destinations that carried it', () => {
    const message = buildUpdateEmail({ config, packages: [daily, monthly], receipts, runId: 'run-9' });
    expect(message.subject).toBe('OuchHungry: daily-analytic 2026-11-20, monthly-by-city 2026-10 are ready');
    const [, dailyPart, monthlyPart] = message.text.split(/\n(?=daily-analytic, |monthly-by-city, )/);
    expect(dailyPart).toContain('partner-api (api)');
    expect(dailyPart).toContain('inbound/daily-analytic/2026-11-20/');
    expect(dailyPart).not.toContain('monthly-by-city/2026-10');
    expect(monthlyPart).not.toContain('partner-api');
    expect(monthlyPart).toContain('Cells merged for privacy: 3');
    expect(monthlyPart).not.toContain('withheld');
    expect(monthlyPart).toContain('Revenue: R$ 1.234.567,89');
  });
});

describe('formatting', () => {
  it('money is formatted digit by digit from decimal strings', () => {
    expect(formatMoney('0.5')).toBe('R$ 0,50');
    expect(formatMoney('1234567.89')).toBe('R$ 1.234.567,89');
    expect(formatMoney('-12.30')).toBe('-R$ 12,30');
    expect(formatMoney(12.3)).toBe('R$ 12,30');
    expect(formatMoney(null)).toBe('-');
    expect(formatInteger(1234567)).toBe('1.234.567');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1_500_000)).toBe('1.5 MB (1.500.000 bytes)');
  });
});
