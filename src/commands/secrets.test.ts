import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { ConfigError, UsageError } from '../errors.js';
import { readPartnerConfig } from '../partners/config.js';
import { listSecretReferences, secrets } from './secrets.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');

const ACME = `partner: acme
display_name: ACME
products: {brands: [Acme]}
segments: [biscoitos]
reports: {daily-analytic: {formats: [csv]}}
privacy: {pseudonymization_secret: acme-pseudonyms}
notifications:
  channel: {name: mail, type: email, host: smtp.example.com, port: 587, from: d@example.com, username: mailer}
  data_team_recipients: [dados@example.com]
destinations:
  - {name: partner-sftp, type: sftp, host: sftp.example.com, username: u, passphrase_secret: sftp-passphrase, host_fingerprints: []}
  - {name: partner-api, type: api, enabled: false, base_url: https://api.example.com, auth: {type: bearer}}
`;

async function everyFile(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('dataprod secrets', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ home, cleanup } = await makeTempHome());
    await mkdir(join(home, 'partners'));
    await writeFile(join(home, 'partners', 'acme.yaml'), ACME);
  });
  afterEach(() => cleanup());

  it('lists the secrets the configuration refers to, with what uses them', () => {
    const { config } = readPartnerConfig(home, 'acme');
    expect(listSecretReferences(config)).toEqual([
      { name: 'sftp-private-key', usedBy: ['destination partner-sftp: SFTP private key'], needed: true },
      { name: 'sftp-passphrase', usedBy: ['destination partner-sftp: key passphrase'], needed: true },
      { name: 'api-token', usedBy: ['destination partner-api (disabled): API token'], needed: false },
      { name: 'smtp-password', usedBy: ['notifications mail: SMTP password of mailer'], needed: true },
      { name: 'acme-pseudonyms', usedBy: ['privacy: pseudonymization key (created by dataprod secrets rotate-key or init, never by a build)'], needed: true },
    ]);
  });

  it('list says where each is set, never the value', async () => {
    const env = { DATAPROD_ACME_SMTP_PASSWORD: 'smtp-value-7d3e9f', DATAPROD_ACME_API_TOKEN: 'token-value-1c8b2a' };
    const result = await secrets({ action: 'list', partner: 'acme', env, noKeychain: true }, testContext(home));
    const rows = (result.data as { secrets: { name: string; set: boolean; source: string | null }[] }).secrets;
    expect(rows.map((row) => [row.name, row.set, row.source])).toEqual([
      ['sftp-private-key', false, null],
      ['sftp-passphrase', false, null],
      ['api-token', true, 'environment'],
      ['smtp-password', true, 'environment'],
      ['acme-pseudonyms', false, null],
    ]);
    expect(result.text).toContain('the environment variable $DATAPROD_ACME_SMTP_PASSWORD');
    expect(result.text).toContain('not set: dataprod secrets set --partner acme sftp-private-key');
    expect(result.text).toContain('missing for enabled destinations: sftp-private-key, sftp-passphrase');
    expect(JSON.stringify(result)).not.toMatch(/smtp-value-7d3e9f|token-value-1c8b2a/);
  });

  it('get shows where the value was found and hides it unless --reveal', async () => {
    const env = { DATAPROD_ACME_API_TOKEN: 'token-value-1c8b2a' };
    const hidden = await secrets({ action: 'get', partner: 'acme', name: 'api-token', env, noKeychain: true }, testContext(home));
    expect(hidden.text).toBe('api-token (partner acme) is set, in the environment variable $DATAPROD_ACME_API_TOKEN; value hidden (add --reveal to print it)');
    expect(JSON.stringify(hidden)).not.toContain('token-value-1c8b2a');
    const shown = await secrets({ action: 'get', partner: 'acme', name: 'api-token', env, noKeychain: true, reveal: true }, testContext(home));
    expect(shown).toMatchObject({ text: 'token-value-1c8b2a', unredacted: true });
  });

  it('get of a missing secret: exit 78 naming every place and the command', async () => {
    const error = (await secrets({ action: 'get', partner: 'acme', name: 'api-token', env: {}, noKeychain: true }, testContext(home)).catch((caught: unknown) => caught)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('$CREDENTIALS_DIRECTORY/acme-api-token, $DATAPROD_ACME_API_TOKEN_FILE, $DATAPROD_ACME_API_TOKEN');
    expect(error.hint).toBe('set it with: dataprod secrets set --partner acme api-token');
  });

  it('set with nothing piped on stdin and no terminal says how to pipe the value (64)', async () => {
    const error = (await secrets({ action: 'set', partner: 'acme', name: 'api-token', readPiped: async () => '' }, testContext(home)).catch((caught: unknown) => caught)) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.hint).toMatch(/\| dataprod secrets set --partner acme api-token/);
  });

  it('set without a value and without a terminal is a usage error (64)', async () => {
    const error = (await secrets({ action: 'set', partner: 'acme', name: 'api-token' }, testContext(home)).catch((caught: unknown) => caught)) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(64);
    expect(error.hint).toContain('--from-file');
    await expect(secrets({ action: 'set', partner: 'acme', name: 'bad name!' , value: 'x' }, testContext(home))).rejects.toThrow(/not valid/);
    await expect(secrets({ action: 'set', partner: 'acme', name: 'k', value: 'x', fromFile: '/x' }, testContext(home))).rejects.toBeInstanceOf(UsageError);
    await expect(secrets({ action: 'set', partner: 'acme', name: 'k', fromFile: join(home, 'absent') }, testContext(home))).rejects.toThrow(/cannot read --from-file/);
  });

  it('delete says when the value still lives elsewhere', async () => {
    const result = await secrets({ action: 'delete', partner: 'acme', name: 'api-token', env: { DATAPROD_ACME_API_TOKEN: 'token-value-1c8b2a' } }, testContext(home));
    expect(result.text).toContain('still set in the environment variable $DATAPROD_ACME_API_TOKEN');
  });

  it('through the CLI: --reveal prints the value, nothing else and no file in the home holds it', async () => {
    const env = { ...process.env, DATAPROD_NO_KEYCHAIN: '1', DATAPROD_ACME_API_TOKEN: 'token-value-1c8b2a' };
    const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/dev.mjs', '--home', home, ...args], { cwd: repo, env });
    const hidden = await cli('secrets', 'get', '--partner', 'acme', 'api-token');
    expect(hidden.stdout).toContain('value hidden');
    const listed = await cli('--json', 'secrets', 'list', '--partner', 'acme');
    expect(JSON.parse(listed.stdout).secrets).toHaveLength(5);
    const shown = await cli('secrets', 'get', '--partner', 'acme', 'api-token', '--reveal');
    expect(shown.stdout).toBe('token-value-1c8b2a\n');
    for (const file of await everyFile(home)) expect((await readFile(file, 'latin1')).includes('token-value-1c8b2a'), file).toBe(false);
  });

  it('through the CLI, on a host without a Secret Service: set fails with 78 naming the fallbacks', async () => {
    const { DBUS_SESSION_BUS_ADDRESS: _, ...env } = process.env;
    const error = (await run(process.execPath, ['--import', 'tsx', 'scripts/dev.mjs', '--home', home, 'secrets', 'set', '--partner', 'acme', 'api-token', 'token-value-1c8b2a'], { cwd: repo, env: { ...env, DISPLAY: '' } }).catch(
      (caught: unknown) => caught,
    )) as { code: number; stderr: string };
    expect(error.code).toBe(78);
    expect(error.stderr).toMatch(/cannot store secret "api-token" of partner acme in the OS keychain/);
    expect(error.stderr).toContain('$CREDENTIALS_DIRECTORY/acme-api-token');
    expect(error.stderr).toContain('$DATAPROD_ACME_API_TOKEN_FILE');
    expect(error.stderr).not.toContain('token-value-1c8b2a');
    for (const file of await everyFile(home)) expect((await readFile(file, 'latin1')).includes('token-value-1c8b2a'), file).toBe(false);
  });
});
