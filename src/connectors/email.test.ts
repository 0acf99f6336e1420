import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectorTestContext, makeTempHome } from '../../test/helpers.js';
import { ConfigError, TerminalError, TransientError } from '../errors.js';
import { sandboxDir } from '../lake/layout.js';
import { buildAlertEmail, buildUpdateEmail } from '../notify/index.js';
import { readPartnerConfig, type PartnerConfig } from '../partners/config.js';
import { startSmtpSandbox, type SmtpSandbox } from '../sandbox/smtp-server.js';
import { writeTestPackage } from '../../test/sandbox/test-package.js';
import { EMAIL_CONNECTOR, createEmailConnector } from './email.js';
import { emailOptions, type EmailOptions } from './options.js';
import type { ConnectorContext } from './types.js';

const USER = 'dataprod';
const PASSWORD = 'smtp-sandbox-pw-8e2d41c7';

function context(home: string, secrets: Record<string, string> = { 'smtp-password': PASSWORD }): ConnectorContext {
  return connectorTestContext(home, secrets);
}

function options(port: number, overrides: Record<string, unknown> = {}): EmailOptions {
  return emailOptions.parse({
    name: 'mail',
    type: 'email',
    host: '127.0.0.1',
    port,
    security: 'none',
    from: 'dataprod@aiqfome.example.com',
    username: USER,
    timeout_ms: 5000,
    retry: { max_attempts: 2, base_delay_ms: 10, max_delay_ms: 50 },
    ...overrides,
  });
}

async function messages(root: string): Promise<string[]> {
  const names = (await readdir(root)).filter((name) => name.endsWith('.eml')).sort();
  return Promise.all(names.map((name) => readFile(join(root, name), 'utf8')));
}

/** The message with quoted-printable soft breaks and escapes undone, for content assertions. */
function decoded(eml: string): string {
  return eml.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function headerOf(eml: string, name: string): string {
  const head = eml.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const raw = new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1] ?? '';
  // RFC 2047 encoded words (a subject with "·" or accents), adjacent ones joined.
  return raw.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_match, kind: string, text: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_hex, code: string) => String.fromCharCode(parseInt(code, 16))), 'latin1').toString('utf8'),
  );
}

describe('email connector against the sandbox SMTP server', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  let smtp: SmtpSandbox;
  let root: string;
  let config: PartnerConfig;

  beforeEach(async () => {
    ({ home, cleanup } = await makeTempHome());
    root = sandboxDir(home, 'mail');
    smtp = await startSmtpSandbox({ root, username: USER, password: PASSWORD });
    config = readPartnerConfig(home, 'ouchhungry').config;
  });
  afterEach(async () => {
    await smtp.close();
    await cleanup();
  });

  it('sends the partner update: right subject and recipients, file facts, no personal data', async () => {
    const pkg = await writeTestPackage(home, { rows: 25 });
    const receipts = [
      { destination: 'partner-sftp', type: 'sftp', location: 'sftp://127.0.0.1:2222/inbound/daily-analytic/2026-11-20/', files: pkg.manifest.files, bytes: 1, retries: 0 },
      { destination: 'partner-api', type: 'api', location: 'http://127.0.0.1:8080/v1/reports/daily-analytic/rows', files: [], bytes: 1, retries: 0 },
    ];
    const message = buildUpdateEmail({ config, packages: [pkg], receipts, runId: 'run-1' });
    const connector = createEmailConnector(options(smtp.port), context(home));
    expect(connector.type).toBe(EMAIL_CONNECTOR);
    const receipt = await connector.notify!(message);
    expect(receipt.location).toContain('analytics@ouchhungry.example.com');
    await connector.close();

    const [eml] = await messages(root);
    expect(eml).toBeDefined();
    expect(headerOf(eml!, 'Subject')).toBe('OuchHungry · dados de 20/11/2026 atualizados');
    expect(headerOf(eml!, 'To')).toBe('analytics@ouchhungry.example.com');
    expect(headerOf(eml!, 'From')).toBe('dataprod@aiqfome.example.com');
    expect(eml).toContain('multipart/alternative');
    const body = decoded(eml!);
    expect(body).toContain(pkg.manifest.files[0]!.sha256);
    expect(body).toContain('sftp://127.0.0.1:2222/inbound/daily-analytic/2026-11-20/');
    expect(body).toContain(`Receita: R$ ${String(pkg.manifest.summary.revenue).replace('.', ',')}`);
    // Aggregates only: no order or customer key, no row of data.
    expect(body).not.toMatch(/o0000\d\d|c0000\d\d|Maring/);
    expect(eml).not.toContain(PASSWORD);
  });

  it('sends the data-team alert to every data-team address', async () => {
    const message = buildAlertEmail({ config, runId: 'run-2', stage: 'deliver', kind: 'alert', error: { message: 'partner-sftp: connection refused', hint: 'check the host', exitCode: 69 } });
    await createEmailConnector(options(smtp.port), context(home)).notify!(message);
    const [eml] = await messages(root);
    expect(headerOf(eml!, 'Subject')).toBe('[dataprod] FAILED ouchhungry: deliver (exit 69): partner-sftp: connection refused');
    expect(headerOf(eml!, 'To').split(/,\s*/)).toEqual(['correa.igor@aiqfome.com', 'diego.pastrello@aiqfome.com', 'leonardo.artur@aiqfome.com']);
    expect(eml).toContain('run-2');
  });

  it('SMTP down: a transient error after the capped retries, recorded, no crash', async () => {
    const connector = createEmailConnector(options(smtp.port), context(home));
    await smtp.close();
    const message = buildAlertEmail({ config, runId: 'run-3', stage: 'quality', kind: 'alert', error: { message: 'gate failed', exitCode: 65 } });
    const error = await connector.notify!(message).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/^mail: SMTP 127\.0\.0\.1:\d+ .*failed/);
    expect((error as Error).message).not.toContain(PASSWORD);
    await connector.close();
    smtp = await startSmtpSandbox({ root, username: USER, password: PASSWORD });
  });

  it('a wrong password is terminal with exit 77 and names the secret', async () => {
    const connector = createEmailConnector(options(smtp.port), context(home, { 'smtp-password': 'wrong-password-0000' }));
    const message = buildAlertEmail({ config, runId: 'run-4', stage: 'clean', kind: 'alert', error: { message: 'x' } });
    const error = (await connector.notify!(message).catch((caught: unknown) => caught)) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.exitCode).toBe(77);
    expect(error.hint).toContain('dataprod secrets set --partner ouchhungry smtp-password');
    expect(await messages(root)).toHaveLength(0);
  });

  it('STARTTLS required but not offered: refused, nothing sent in the clear', async () => {
    const connector = createEmailConnector(options(smtp.port, { security: 'starttls', host: 'localhost' }), context(home));
    const message = buildAlertEmail({ config, runId: 'run-5', stage: 'clean', kind: 'alert', error: { message: 'x' } });
    const error = (await connector.notify!(message).catch((caught: unknown) => caught)) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.exitCode).toBe(77);
    expect(await messages(root)).toHaveLength(0);
  });

  it('check(): dns, tcp, tls and auth rows; a wrong password fails the auth row with 77', async () => {
    const good = await createEmailConnector(options(smtp.port), context(home)).check();
    expect(good.map((row) => [row.check, row.ok])).toEqual([
      ['dns', true],
      ['tcp', true],
      ['tls', true],
      ['auth', true],
    ]);
    const bad = await createEmailConnector(options(smtp.port), context(home, { 'smtp-password': 'wrong-password-0000' })).check();
    expect(bad.at(-1)).toMatchObject({ check: 'auth', ok: false, exitCode: 77 });
  });

  it('attachments: off by default; when on, only within the size cap', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const withAttachments = { ...config, notifications: { ...config.notifications, channel: options(smtp.port, { attachments: true, attachment_max_bytes: pkg.manifest.files[0]!.bytes }) } };
    const message = buildUpdateEmail({ config: withAttachments, packages: [pkg], receipts: [], runId: 'run-6' });
    expect(message.attachments?.map((attachment) => attachment.filename)).toEqual([pkg.manifest.files[0]!.name]);
    expect(message.text).toContain(`Não anexados (acima do limite de tamanho): ${pkg.manifest.files[1]!.name}`);
    const receipt = await createEmailConnector(options(smtp.port, { attachments: true }), context(home)).notify!(message);
    expect(receipt.files.map((file) => file.sha256)).toEqual([pkg.manifest.files[0]!.sha256]);
    // The same message through a channel with attachments off goes without them.
    await createEmailConnector(options(smtp.port), context(home)).notify!(message);
    const [first, second] = await messages(root);
    expect(first).toContain(`filename=${pkg.manifest.files[0]!.name}`);
    expect(second).not.toContain('filename=');
    expect(buildUpdateEmail({ config, packages: [pkg], receipts: [], runId: 'run-6' }).attachments).toBeUndefined();
  });

  it('deliver() is not for e-mail: a terminal configuration error', async () => {
    const pkg = await writeTestPackage(home, { rows: 1 });
    const error = (await createEmailConnector(options(smtp.port), context(home)).deliver(pkg).catch((caught: unknown) => caught)) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.exitCode).toBe(78);
  });

  it('no secret value appears in any file written', async () => {
    await createEmailConnector(options(smtp.port), context(home)).notify!(buildAlertEmail({ config, runId: 'run-7', stage: 'deliver', kind: 'reminder', count: 3, since: '2026-11-18', error: { message: 'down' } }));
    const entries = await readdir(home, { recursive: true, withFileTypes: true });
    const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect((await readFile(file, 'latin1')).includes(PASSWORD), file).toBe(false);
  });
});

describe('email connector configuration', () => {
  const ctx = context('/nonexistent');
  it('plain SMTP only to loopback; port and security must agree (exit 78)', () => {
    const refuse = (overrides: Record<string, unknown>) => {
      try {
        createEmailConnector(options(25, overrides), ctx);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).exitCode).toBe(78);
        return;
      }
      throw new Error(`accepted ${JSON.stringify(overrides)}`);
    };
    refuse({ host: 'smtp.example.com', security: 'none' });
    refuse({ host: 'smtp.example.com', port: 465, security: 'starttls' });
    refuse({ host: 'smtp.example.com', port: 587, security: 'tls' });
    expect(() => createEmailConnector(options(465, { host: 'smtp.example.com', security: 'tls' }), ctx)).not.toThrow();
    expect(() => createEmailConnector(options(587, { host: 'smtp.example.com', security: 'starttls' }), ctx)).not.toThrow();
    expect(() => createEmailConnector(options(2525, { host: 'localhost', security: 'none' }), ctx)).not.toThrow();
  });
});
