import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { ConfigError } from '../errors.js';
import { redact } from '../log.js';
import { findSecret, loadDotEnv, resolveSecret, secretEnvName } from './index.js';

describe('secret lookup without a keychain', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ home: dir, cleanup } = await makeTempHome('dataprod-secrets-'));
  });
  afterEach(() => cleanup());

  async function protectedFile(name: string, value: string, mode: number): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `${value}\n`);
    await chmod(path, mode);
    return path;
  }

  it('names the variable DATAPROD_<PARTNER>_<NAME>', () => {
    expect(secretEnvName('ouchhungry', 'api-password')).toBe('DATAPROD_OUCHHUNGRY_API_PASSWORD');
    expect(secretEnvName('acme-br', 'sftp.key')).toBe('DATAPROD_ACME_BR_SFTP_KEY');
  });

  it('order: $CREDENTIALS_DIRECTORY, then the _FILE, then the variable', async () => {
    const credentials = join(dir, 'credentials');
    await mkdir(credentials);
    await writeFile(join(credentials, 'acme-api-password'), 'from-systemd-credential\n');
    const file = await protectedFile('api-password', 'from-protected-file', 0o600);
    const env = { CREDENTIALS_DIRECTORY: credentials, DATAPROD_ACME_API_PASSWORD_FILE: file, DATAPROD_ACME_API_PASSWORD: 'from-environment' };
    expect(await findSecret('acme', 'api-password', { env, noKeychain: true })).toMatchObject({ value: 'from-systemd-credential', source: 'systemd-credential' });
    const { CREDENTIALS_DIRECTORY: _, ...withoutCredentials } = env;
    expect(await findSecret('acme', 'api-password', { env: withoutCredentials, noKeychain: true })).toMatchObject({ value: 'from-protected-file', source: 'file', detail: file });
    expect(await findSecret('acme', 'api-password', { env: { DATAPROD_ACME_API_PASSWORD: 'from-environment' }, noKeychain: true })).toMatchObject({ value: 'from-environment', source: 'environment', detail: 'DATAPROD_ACME_API_PASSWORD' });
    // An empty credentials directory falls through.
    expect(await findSecret('acme', 'api-password', { env: { CREDENTIALS_DIRECTORY: join(dir, 'nothing-here'), DATAPROD_ACME_API_PASSWORD: 'from-environment' }, noKeychain: true })).toMatchObject({ source: 'environment' });
    // DATAPROD_NO_KEYCHAIN=1 skips the keychain like noKeychain.
    expect(await findSecret('acme', 'api-password', { env: { DATAPROD_NO_KEYCHAIN: '1', DATAPROD_ACME_API_PASSWORD: 'from-environment' } })).toMatchObject({ source: 'environment' });
  });

  it('a _FILE readable by group or others is refused with exit 78; 0600 is accepted', async () => {
    const open = await protectedFile('open-key', 'value-in-open-file', 0o644);
    const error = await findSecret('acme', 'sftp-private-key', { env: { DATAPROD_ACME_SFTP_PRIVATE_KEY_FILE: open }, noKeychain: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
    expect((error as ConfigError).message).toContain('readable by group or others (mode 644)');
    expect((error as ConfigError).hint).toBe(`run: chmod 600 ${open}`);
    await chmod(open, 0o600);
    expect((await findSecret('acme', 'sftp-private-key', { env: { DATAPROD_ACME_SFTP_PRIVATE_KEY_FILE: open }, noKeychain: true }))?.value).toBe('value-in-open-file');
    const missing = await findSecret('acme', 'x', { env: { DATAPROD_ACME_X_FILE: join(dir, 'absent') }, noKeychain: true }).catch((caught: unknown) => caught);
    expect((missing as ConfigError).exitCode).toBe(78);
  });

  it('not found: one line naming every place looked in and the command that sets it', async () => {
    const error = (await resolveSecret('acme', 'api-password', { env: {}, noKeychain: true }).catch((caught: unknown) => caught)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.exitCode).toBe(78);
    expect(error.message).toBe(
      'secret "api-password" for partner acme not found (looked in: OS keychain dataprod/acme/api-password (skipped), $CREDENTIALS_DIRECTORY/acme-api-password, $DATAPROD_ACME_API_PASSWORD_FILE, $DATAPROD_ACME_API_PASSWORD)',
    );
    expect(error.message).not.toContain('\n');
    expect(error.hint).toBe('set it with: dataprod secrets set --partner acme api-password');
  });

  it('every value found is registered for redaction', async () => {
    await findSecret('acme', 'token', { env: { DATAPROD_ACME_TOKEN: 'tok-3f9a1c2b7d' }, noKeychain: true });
    expect(redact('Authorization: Bearer tok-3f9a1c2b7d')).toBe('Authorization: Bearer ***');
  });

  it('.env: loaded without overriding, and a file others can read gets a warning', async () => {
    const path = join(dir, '.env');
    await writeFile(path, 'DATAPROD_ACME_API_PASSWORD=from-dotenv\nDATAPROD_HOME=/elsewhere\n');
    await chmod(path, 0o644);
    const warnings: string[] = [];
    const env: NodeJS.ProcessEnv = { DATAPROD_HOME: '/kept' };
    const result = loadDotEnv({ path, env, warn: (message) => warnings.push(message) });
    expect(result.loaded).toEqual(['DATAPROD_ACME_API_PASSWORD']);
    expect(env).toEqual({ DATAPROD_HOME: '/kept', DATAPROD_ACME_API_PASSWORD: 'from-dotenv' });
    expect(warnings).toEqual([`${path} is readable by group or others (mode 644) and may hold secrets: run chmod 600 ${path}`]);
    await chmod(path, 0o600);
    warnings.length = 0;
    loadDotEnv({ path, env: {}, warn: (message) => warnings.push(message) });
    expect(warnings).toEqual([]);
    expect(loadDotEnv({ path: join(dir, 'absent.env'), env: {} }).loaded).toEqual([]);
  });
});
