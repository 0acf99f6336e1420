import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { UsageError } from '../errors.js';
import { parsePartnerConfig, readPartnerConfig } from '../partners/config.js';
import { startApiSandbox } from '../sandbox/api-server.js';
import { startSmtpSandbox } from '../sandbox/smtp-server.js';
import { probeKeychain } from '../secrets/index.js';
import { init, type InitOptions, type Prompter } from './init.js';

const NEW_PARTNER: InitOptions = {
  partner: 'acme',
  displayName: 'ACME Foods',
  brands: 'Acme, Acme Kids',
  segments: 'biscoitos',
  alertRecipients: 'dados@example.com, plantao@example.com',
};

/** Answers questions by the first pattern their message matches; fails on an unexpected one. */
function scripted(answers: [RegExp, string | boolean | string[]][]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const answer = (message: string) => {
    asked.push(message);
    const found = answers.find(([pattern]) => pattern.test(message));
    if (!found) throw new Error(`unexpected question: ${message}`);
    return found[1];
  };
  return {
    asked,
    input: async ({ message, validate }) => {
      const value = answer(message) as string;
      const verdict = validate(value);
      if (verdict !== true) throw new Error(`answer "${value}" to "${message}" refused: ${verdict}`);
      return value;
    },
    password: async ({ message }) => answer(message) as string,
    confirm: async ({ message }) => answer(message) as boolean,
    checkbox: async ({ message }) => answer(message) as string[],
  };
}

describe('dataprod init', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ home, cleanup } = await makeTempHome());
  });
  afterEach(() => cleanup());

  it('creates a new partner from flags with --yes: valid, atomic, defaults filled in', async () => {
    const result = await init({ ...NEW_PARTNER, yes: true }, testContext(home));
    const file = join(home, 'partners', 'acme.yaml');
    expect(result.data).toMatchObject({ partner: 'acme', file, started_from: 'new', configured: [] });
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^# Partner acme: written by `dataprod init`/);
    expect(text).toContain('brands: [Acme, Acme Kids]');
    const { config } = readPartnerConfig(home, 'acme');
    expect(config).toMatchObject({
      display_name: 'ACME Foods',
      products: { brands: ['Acme', 'Acme Kids'] },
      segments: ['biscoitos'],
      privacy: { k: 11 },
      notifications: { partner_recipients: [], data_team_recipients: ['dados@example.com', 'plantao@example.com'] },
      destinations: [],
    });
    expect(result.text).toContain('next: dataprod test-connection all --partner acme');
  });

  it('without a terminal, a missing required answer is a usage error naming its flag', async () => {
    const error = (await init({ partner: 'acme', displayName: 'ACME', yes: true }, testContext(home)).catch((caught: unknown) => caught)) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(64);
    expect(error.message).toContain('pass --brands');
  });

  it('without a terminal and without --yes, even a question with a default needs its flag', async () => {
    const error = (await init({ ...NEW_PARTNER }, testContext(home)).catch((caught: unknown) => caught)) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('pass --k');
    expect(error.hint).toBe('or add --yes to keep "11"');
  });

  it('a flag with a bad value is refused with the schema message', async () => {
    await expect(init({ ...NEW_PARTNER, k: 3, yes: true }, testContext(home))).rejects.toThrow('--k 3: k below 5 is not a safe suppression threshold');
    await expect(init({ ...NEW_PARTNER, alertRecipients: 'not-an-email', yes: true }, testContext(home))).rejects.toThrow(/--alert-recipients not-an-email: an e-mail address/);
    await expect(init({ ...NEW_PARTNER, apiUrl: 'http://api.example.com', apiUser: 'u', yes: true }, testContext(home))).rejects.toThrow(/https is required/);
    await expect(init({ ...NEW_PARTNER, sftpHost: 'h', sftpUser: 'u', sftpFingerprint: 'MD5:aa', yes: true }, testContext(home))).rejects.toThrow(/--sftp-fingerprint/);
    await expect(init({ ...NEW_PARTNER, partner: 'Not Valid', yes: true }, testContext(home))).rejects.toThrow(/not a valid identifier/);
  });

  it('edits the bundled partner into <home>/partners, keeping its comments, and names the secrets still to set', async () => {
    const result = await init({ partner: 'ouchhungry', apiUrl: 'https://api.ouchhungry.example.com/', apiUser: 'aiqfome', smtpHost: 'smtp.example.com', smtpPort: 465, smtpFrom: 'dataprod@aiqfome.com', smtpUser: 'dataprod', yes: true }, testContext(home));
    const file = join(home, 'partners', 'ouchhungry.yaml');
    const text = await readFile(file, 'utf8');
    expect(text).toContain("# OuchHungry: soda 'Hungry' (refrigerantes) and snack 'Ouch' (salgados).");
    expect(text).toContain('# Brazilian Excel opens');
    const config = parsePartnerConfig(text, file);
    const api = config.destinations.find((destination) => destination.type === 'api');
    expect(api).toMatchObject({ enabled: true, base_url: 'https://api.ouchhungry.example.com', auth: { type: 'password', username: 'aiqfome', password_secret: 'api-password' } });
    expect(config.notifications.channel).toMatchObject({ type: 'email', enabled: true, host: 'smtp.example.com', port: 465, security: 'tls', username: 'dataprod' });
    expect(config.destinations.find((destination) => destination.type === 'sftp')).toMatchObject({ enabled: false });
    const data = result.data;
    expect(data.started_from).toMatch(/partners[/\\]ouchhungry\.yaml$/);
    expect(data.secrets_missing.map((secret) => secret.name).sort()).toEqual(['api-password', 'smtp-password']);
    expect(result.text).toContain('secret api-password is not set yet: dataprod secrets set --partner ouchhungry api-password');
  });

  it('the SFTP section: enabled once the host key is pinned; the key file goes to the keychain or the fallbacks are named', async () => {
    const keyFile = join(home, 'id_ed25519');
    await writeFile(keyFile, '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-material-4b1d9e\n-----END OPENSSH PRIVATE KEY-----\n');
    await chmod(keyFile, 0o600);
    const fingerprint = `SHA256:${'A'.repeat(43)}`;
    const keychain = await probeKeychain();
    const result = await init({ ...NEW_PARTNER, partner: `acme-${process.pid}`, sftpHost: 'sftp.acme.example.com', sftpUser: 'aiqfome', sftpFingerprint: fingerprint, sftpKeyFile: keyFile, yes: true }, testContext(home));
    const config = parsePartnerConfig(await readFile(result.data.file, 'utf8'), result.data.file);
    expect(config.destinations[0]).toMatchObject({ type: 'sftp', enabled: true, host: 'sftp.acme.example.com', port: 22, username: 'aiqfome', host_fingerprints: [fingerprint], private_key_secret: 'sftp-private-key' });
    if (keychain.ok) {
      expect(result.data.secrets_stored).toEqual(['sftp-private-key']);
      const { deleteSecret } = await import('../secrets/index.js');
      await deleteSecret(`acme-${process.pid}`, 'sftp-private-key');
    } else {
      expect(result.exitCode).toBe(78);
      expect(result.text).toContain('not stored: cannot store secret "sftp-private-key"');
      expect(result.text).toContain(`$DATAPROD_ACME_${process.pid}_SFTP_PRIVATE_KEY_FILE`);
    }
    expect(await readFile(result.data.file, 'utf8')).not.toContain('key-material-4b1d9e');
  });

  it('a public key is refused as --sftp-key-file', async () => {
    const keyFile = join(home, 'id_ed25519.pub');
    await writeFile(keyFile, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA test\n');
    await expect(init({ ...NEW_PARTNER, sftpHost: 'h', sftpUser: 'u', sftpKeyFile: keyFile, yes: true }, testContext(home))).rejects.toThrow(/is not a private key/);
  });

  it('the wizard asks, validates each answer, and keeps the answers a user wrote by hand on a second run', async () => {
    const prompter = scripted([
      [/^Name shown/, 'Beta Bebidas'],
      [/^Brands/, 'Beta'],
      [/^Segments/, 'refrigerantes, sucos'],
      [/^Minimum customers/, '12'],
      [/^Partner e-mails/, 'bi@beta.example.com'],
      [/^Data team/, 'dados@example.com'],
      [/^Set up or change/, ['smtp']],
      [/^SMTP server/, 'smtp.beta.example.com'],
      [/^SMTP port/, '587'],
      [/^From address/, 'dataprod@example.com'],
      [/^SMTP user/, ''],
      [/^Run test-connection/, false],
    ]);
    const first = await init({ partner: 'beta', prompter }, testContext(home));
    expect(prompter.asked).toHaveLength(12);
    const file = first.data.file;
    const config = parsePartnerConfig(await readFile(file, 'utf8'), file);
    expect(config).toMatchObject({ display_name: 'Beta Bebidas', segments: ['refrigerantes', 'sucos'], privacy: { k: 12 }, notifications: { channel: { host: 'smtp.beta.example.com', port: 587, security: 'starttls' } } });
    expect(config.notifications.channel).not.toHaveProperty('username');

    // A comment written by hand survives; the answers become the defaults of the next run.
    await writeFile(file, (await readFile(file, 'utf8')).replace('segments:', '# competitors live here\nsegments:'));
    const again = scripted([
      [/^Name shown/, ''],
      [/^Brands/, ''],
      [/^Segments/, ''],
      [/^Minimum customers/, ''],
      [/^Partner e-mails/, ''],
      [/^Data team/, ''],
      [/^Set up or change/, []],
      [/^Run test-connection/, false],
    ]);
    const second = await init({ partner: 'beta', prompter: again }, testContext(home));
    expect(second.data.started_from).toBe(file);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# competitors live here');
    expect(parsePartnerConfig(text, file)).toMatchObject({ display_name: 'Beta Bebidas', privacy: { k: 12 } });
  });

  it('a wizard answer that breaks a rule is refused at the question', async () => {
    const prompter = scripted([
      [/^Name shown/, 'Gamma'],
      [/^Brands/, 'G'],
      [/^Segments/, 's'],
      [/^Minimum customers/, '4'],
    ]);
    await expect(init({ partner: 'gamma', prompter }, testContext(home))).rejects.toThrow(/answer "4" to "Minimum customers.*refused: k below 5/);
  });

  it('--test runs test-connection against what was configured (sandbox API and SMTP)', async () => {
    const api = await startApiSandbox({ root: join(home, 'sandbox', 'api'), username: 'aiqfome', password: 'api-pw-0b7e1f33' });
    const smtp = await startSmtpSandbox({ root: join(home, 'sandbox', 'mail') });
    const saved = process.env.DATAPROD_DELTA_API_PASSWORD;
    process.env.DATAPROD_DELTA_API_PASSWORD = 'api-pw-0b7e1f33';
    try {
      await mkdir(join(home, 'partners'), { recursive: true });
      const result = await init(
        { ...NEW_PARTNER, partner: 'delta', apiUrl: api.url, apiUser: 'aiqfome', smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpFrom: 'dataprod@example.com', test: true, yes: true },
        testContext(home),
      );
      expect(result.exitCode ?? 0).toBe(0);
      expect(JSON.stringify(result.data.test)).toContain('"status":"pass"');
      expect(JSON.stringify(result.data.test)).not.toContain('"status":"fail"');
      expect(api.faults.requests.map((request) => request.path)).toContain('/health');
    } finally {
      if (saved === undefined) delete process.env.DATAPROD_DELTA_API_PASSWORD;
      else process.env.DATAPROD_DELTA_API_PASSWORD = saved;
      await api.close();
      await smtp.close();
    }
  });
});
