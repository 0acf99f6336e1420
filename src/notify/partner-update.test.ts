import { describe, expect, it } from 'vitest';
import type { Connector, Notification } from '../connectors/types.js';
import { parsePartnerConfig } from '../partners/config.js';
import type { DeliveryRecord } from '../records/run-store.js';
import type { OutboxPackage } from '../render/package.js';
import { silentLogger } from '../log.js';
import { GOLDEN_PARTNER_YAML } from '../../test/reports/golden-silver.js';
import { sendPartnerUpdate } from './partner-update.js';

const config = parsePartnerConfig(`${GOLDEN_PARTNER_YAML}  partner_recipients: [analytics@ouchhungry.example.com]\n`, 'test');

function pkg(report: string, period: string): OutboxPackage {
  return { dir: `/nonexistent/${report}/${period}`, manifest: { partner: 'ouchhungry', report, period, rows: 1, files: [{ name: `ouchhungry_${report}_${period}.csv`, bytes: 10, sha256: 'a'.repeat(64), format: 'csv', rows: 1 }], columns: [], summary: { units: 3, revenue: '9.00' }, generated_at: '', tool_version: '' } };
}

function channel(fail = false): Connector & { sent: Notification[] } {
  const sent: Notification[] = [];
  return {
    name: 'mail',
    type: 'email',
    sent,
    check: async () => [],
    deliver: async () => {
      throw new Error('not used');
    },
    notify: async (message) => {
      if (fail) throw new Error('SMTP 554 refused');
      sent.push(message);
      return { destination: 'mail', type: 'email', location: 'smtp://x', files: [], bytes: 1, retries: 0 };
    },
    close: async () => undefined,
  };
}

const packages = [pkg('daily-analytic', '2026-12-01'), pkg('monthly-by-city', '2026-11')];
const deliveries: DeliveryRecord[] = [
  { destination: 'partner-sftp', type: 'sftp', report: 'daily-analytic', period: '2026-12-01', status: 'delivered', files: 1, bytes: 1, retries: 0, location: 'sftp://h/in/' },
  { destination: 'partner-api', type: 'api', report: 'daily-analytic', period: '2026-12-01', status: 'failed', files: 0, bytes: 0, retries: 0, detail: 'HTTP 503 after 4 attempts (run again)' },
];

describe('sendPartnerUpdate', () => {
  it('one e-mail for every package of the run, naming the destination that did not receive it', async () => {
    const mail = channel();
    const result = await sendPartnerUpdate({ config, packages, receipts: [], deliveries, channel: mail, runId: 'r1', sandbox: true, logger: silentLogger() });
    expect(mail.sent).toHaveLength(1);
    expect(mail.sent[0]!.subject).toBe('[sandbox] OuchHungry · dados de 01/12/2026 e novembro de 2026 atualizados');
    expect(mail.sent[0]!.text).toContain('partner-api (api): NÃO recebeu os arquivos — HTTP 503 after 4 attempts.');
    expect(result.records.map((record) => [record.report, record.status])).toEqual([
      ['daily-analytic', 'delivered'],
      ['monthly-by-city', 'delivered'],
    ]);
  });

  it('a failed e-mail is recorded as a warning, never thrown', async () => {
    const result = await sendPartnerUpdate({ config, packages, receipts: [], deliveries, channel: channel(true), runId: 'r1', sandbox: false, logger: silentLogger() });
    expect(result.records.every((record) => record.status === 'failed')).toBe(true);
    expect(result.warnings[0]).toContain('SMTP 554 refused');
  });

  it('nothing delivered, or no channel: no e-mail', async () => {
    expect(await sendPartnerUpdate({ config, packages: [], receipts: [], deliveries, channel: channel(), runId: 'r1', sandbox: false, logger: silentLogger() })).toEqual({ records: [], warnings: [] });
    expect((await sendPartnerUpdate({ config, packages, receipts: [], deliveries, channel: undefined, runId: 'r1', sandbox: false, logger: silentLogger() })).warnings).toHaveLength(1);
  });
});
