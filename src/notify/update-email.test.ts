import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import type { DeliveryReceipt } from '../connectors/types.js';
import type { OutboxPackage } from '../render/package.js';
import { buildReports } from '../reports/build-reports.js';
import { GOLDEN_SECRET, goldenPartnerConfig, writeGoldenSilver } from '../../test/reports/golden-silver.js';
import { buildUpdateEmail } from './update-email.js';

let home: string;
let cleanup: () => Promise<void>;
let daily: OutboxPackage;
let monthly: OutboxPackage;
const config = { ...goldenPartnerConfig(), notifications: { ...goldenPartnerConfig().notifications, partner_recipients: ['analytics@ouchhungry.example.com'] } };

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-update-email-'));
  await writeGoldenSilver(home);
  const built = await buildReports({ home, config, date: '2026-11-20', month: '2026-11', secret: GOLDEN_SECRET, now: new Date('2026-12-01T12:00:00Z') });
  [daily, monthly] = built.reports.map((report) => report.outbox) as [OutboxPackage, OutboxPackage];
});
afterAll(async () => cleanup());

function receipt(pkg: OutboxPackage, destination: string, type: string, location: string): DeliveryReceipt {
  return { destination, type, location, files: pkg.manifest.files, bytes: 1, retries: 0 };
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('buildUpdateEmail', () => {
  it('one package: pt-BR subject, headline figures with change, inline PNG charts, where it went, checksums', () => {
    const message = buildUpdateEmail({ config, packages: [daily], receipts: [receipt(daily, 'partner-sftp', 'sftp', 'sftp://sftp.example.com/inbound/daily-analytic/2026-11-20/')], runId: 'run-9' });
    expect(message.kind).toBe('update');
    expect(message.to).toEqual(['analytics@ouchhungry.example.com']);
    expect(message.subject).toBe('OuchHungry · dados de 20/11/2026 atualizados');
    expect(message.text).toContain('Olá, equipe OuchHungry');
    expect(message.text).toContain('RELATÓRIO DIÁRIO ANALÍTICO — 20/11/2026');
    expect(message.text).toMatch(/Receita: R\$ \d{1,3}(\.\d{3})*,\d{2}/);
    expect(message.text).toContain('O que mudou');
    expect(message.text).toContain('partner-sftp (sftp): entregue em sftp://sftp.example.com/inbound/daily-analytic/2026-11-20/');
    expect(message.text).toMatch(/insights\.html {2}\d+(,\d)? kB {2}[0-9a-f]{64}/);
    expect(message.text).not.toMatch(/\d\.\d kB/);
    expect(message.inline!.length).toBeGreaterThanOrEqual(2);
    expect(message.inline!.length).toBeLessThanOrEqual(3);
    for (const image of message.inline!) {
      expect(image.contentType).toBe('image/png');
      expect(image.content.subarray(0, 4)).toEqual(PNG);
      expect(message.html).toContain(`src="cid:${image.cid}"`);
    }
    for (const file of daily.manifest.files) expect(message.html).toContain(file.sha256);
    expect(message.html).toContain('<html lang="pt-BR">');
  });

  it('two packages, one e-mail: both periods in the subject, the privacy merge in one sentence, a failed destination named', () => {
    const message = buildUpdateEmail({
      config,
      packages: [daily, monthly],
      receipts: [receipt(daily, 'partner-sftp', 'sftp', 'sftp://h/inbound/daily-analytic/2026-11-20/'), receipt(monthly, 'partner-sftp', 'sftp', 'sftp://h/inbound/monthly-by-city/2026-11/')],
      failures: [{ destination: 'partner-api', type: 'api', report: 'daily-analytic', period: '2026-11-20', reason: 'connection refused' }],
      runId: 'run-9',
    });
    expect(message.subject).toBe('OuchHungry · dados de 20/11/2026 e novembro de 2026 atualizados');
    expect(message.text).toContain('RELATÓRIO MENSAL POR CIDADE — NOVEMBRO DE 2026');
    expect(message.text).toContain('partner-api (api): NÃO recebeu os arquivos — connection refused');
    const merged = monthly.manifest.summary.cells_merged;
    expect(message.text).toContain(`pelo menos 5 clientes: ${merged} combinações de cidade e produto`);
    expect(message.html).toContain('NÃO recebeu');
    expect(message.inline!.length).toBe(3);
    // Aggregates only: no customer or order of the golden data.
    expect(`${message.text}${message.html}`).not.toMatch(/CU-0\d\d|TX-\d{4}|@example\.org/);
  });

  it('sandbox messages say so; an English partner reads English', () => {
    const sandbox = buildUpdateEmail({ config, packages: [daily], receipts: [], runId: 'run-1', sandbox: true });
    expect(sandbox.subject).toBe('[sandbox] OuchHungry · dados de 20/11/2026 atualizados');
    expect(sandbox.text.startsWith('[sandbox]')).toBe(true);
    expect(sandbox.text).toContain('Nenhum destino confirmou');
    const english = buildUpdateEmail({ config: { ...config, locale: 'en' }, packages: [monthly], receipts: [], runId: 'run-1' });
    expect(english.subject).toBe('OuchHungry · data for November 2026 updated');
    expect(english.text).toContain('What changed');
    expect(english.text).toMatch(/Revenue: R\$\d{1,3}(,\d{3})*\.\d{2}/);
  });
});
