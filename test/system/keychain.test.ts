import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteSecret, findSecret, probeKeychain } from '../../src/secrets/index.js';
import { makeTempHome } from '../helpers.js';

/**
 * The OS keychain for real: a Secret Service (gnome-keyring) on D-Bus, driven through
 * `dataprod secrets` as a subprocess. Locally without one the test says so and skips;
 * in CI (.ci/run starts dbus-run-session and unlocks gnome-keyring) it must run.
 */

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const inCi = process.env.CI === 'true';
const probe = process.env.DBUS_SESSION_BUS_ADDRESS ? await probeKeychain() : { ok: false, detail: 'no D-Bus session ($DBUS_SESSION_BUS_ADDRESS is not set)' };
const why = `no usable Secret Service: ${probe.detail}; run it with: dbus-run-session -- bash -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets; npx vitest run test/system/keychain.test.ts'`;

describe('OS keychain through dataprod secrets', () => {
  if (!probe.ok) {
    if (inCi) {
      it('needs a Secret Service in CI', () => {
        throw new Error(`CI=true but ${why}`);
      });
    } else {
      console.warn(`keychain system test skipped: ${why}`);
      it.skip(`skipped: ${why}`, () => {});
    }
    return;
  }

  const partner = `kc-test-${randomBytes(3).toString('hex')}`;
  const value = `kc-value-${randomBytes(12).toString('hex')}`;
  let home: string;
  let cleanup: () => Promise<void>;
  const env = { ...process.env, DATAPROD_NO_KEYCHAIN: '' };
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/dev.mjs', '--home', home, ...args], { cwd: repo, env });

  beforeAll(async () => {
    ({ home, cleanup } = await makeTempHome('dataprod-keychain-'));
    await mkdir(join(home, 'partners'));
    await writeFile(
      join(home, 'partners', `${partner}.yaml`),
      [
        `partner: ${partner}`,
        'display_name: Keychain test',
        'products: {brands: [X]}',
        'segments: [s]',
        'reports: {daily-analytic: {formats: [csv]}}',
        'privacy: {}',
        'notifications: {data_team_recipients: [dados@example.com]}',
        'destinations:',
        '  - {name: api, type: api, base_url: https://api.example.com, auth: {type: bearer, token_secret: api-token}}',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await deleteSecret(partner, 'api-token');
    await deleteSecret(`${partner}-init`, 'sftp-private-key');
    await cleanup?.();
  });

  it('init --sftp-key-file stores the key in the keychain, not in the partner file', async () => {
    const keyFile = join(home, 'id_ed25519');
    const key = `-----BEGIN OPENSSH PRIVATE KEY-----\n${value}\n-----END OPENSSH PRIVATE KEY-----\n`;
    await writeFile(keyFile, key);
    await chmod(keyFile, 0o600);
    const fingerprint = `SHA256:${'B'.repeat(43)}`;
    const done = await cli('init', '--partner', `${partner}-init`, '--brands', 'X', '--segments', 's', '--alert-recipients', 'dados@example.com', '--sftp-host', 'sftp.example.com', '--sftp-user', 'u', '--sftp-fingerprint', fingerprint, '--sftp-key-file', keyFile, '--yes');
    expect(done.stdout).toContain('stored in the OS keychain: sftp-private-key');
    expect(await findSecret(`${partner}-init`, 'sftp-private-key')).toMatchObject({ source: 'keychain', value: key });
    await writeFile(keyFile, 'gone');
    expect(await readFile(join(home, 'partners', `${partner}-init.yaml`), 'utf8')).not.toContain(value);
  });

  it('set reads a value piped on standard input (one trailing newline is not part of it)', async () => {
    const piped = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dev.mjs', '--home', home, 'secrets', 'set', '--partner', partner, 'api-token'], { cwd: repo, env, input: `${value}-piped\n`, encoding: 'utf8' });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).toContain('read from standard input');
    expect(await findSecret(partner, 'api-token')).toMatchObject({ source: 'keychain', value: `${value}-piped` });
  });

  it('set (from a file), get, list, get --reveal, delete: the value only where asked for', async () => {
    const file = join(home, 'token.txt');
    await writeFile(file, value);
    await chmod(file, 0o600);
    const set = await cli('secrets', 'set', '--partner', partner, 'api-token', '--from-file', file);
    expect(set.stdout).toContain(`in the OS keychain (service dataprod, account ${partner}/api-token)`);
    await writeFile(file, 'gone'); // the file is not where the value lives any more

    const found = await findSecret(partner, 'api-token');
    expect(found).toMatchObject({ source: 'keychain', value });

    const get = await cli('secrets', 'get', '--partner', partner, 'api-token');
    expect(get.stdout).toContain('is set, in the OS keychain');
    expect(get.stdout).not.toContain(value);

    const list = JSON.parse((await cli('--json', 'secrets', 'list', '--partner', partner)).stdout) as { secrets: { name: string; source: string }[] };
    expect(list.secrets.find((secret) => secret.name === 'api-token')).toMatchObject({ source: 'keychain' });

    const reveal = await cli('secrets', 'get', '--partner', partner, 'api-token', '--reveal');
    expect(reveal.stdout).toBe(`${value}\n`);

    const removed = await cli('secrets', 'delete', '--partner', partner, 'api-token');
    expect(removed.stdout).toContain('removed secret api-token');
    const missing = (await cli('secrets', 'get', '--partner', partner, 'api-token').catch((caught: unknown) => caught)) as { code: number; stderr: string };
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain(`dataprod secrets set --partner ${partner} api-token`);

    // Logs and anything else the tool wrote in the home: never the value.
    const entries = await readdir(home, { recursive: true, withFileTypes: true });
    const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
    expect(files.some((path) => path.includes(join('_meta', 'logs')))).toBe(true);
    for (const path of files) expect((await readFile(path, 'latin1')).includes(value), path).toBe(false);
  });
});
