import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { ConfigError } from '../errors.js';
import { sandboxDir } from '../lake/layout.js';
import { loadSandboxCredentials } from '../sandbox/keys.js';
import { startSftpSandbox } from '../sandbox/sftp-server.js';
import { testConnection } from './test-connection.js';

const cleanups: (() => Promise<void>)[] = [];
const savedEnv = { ...process.env };
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  process.env = { ...savedEnv };
});

async function tempHome(): Promise<string> {
  const { home, cleanup } = await makeTempHome('dataprod-testconn-');
  cleanups.push(cleanup);
  return home;
}

async function writePartner(home: string, destinations: string): Promise<void> {
  await mkdir(join(home, 'partners'), { recursive: true });
  await writeFile(
    join(home, 'partners', 'acme.yaml'),
    `partner: acme
display_name: ACME
products: { brands: [Acme] }
segments: [biscoitos]
reports: { daily-analytic: { enabled: true } }
privacy: { k: 11 }
notifications: { data_team_recipients: [dados@example.com] }
destinations:
${destinations}
`,
  );
}

describe('dataprod test-connection', () => {
  it('says a disabled destination is disabled instead of checking it, and exits 78 when nothing was checked', async () => {
    const home = await tempHome();
    const result = await testConnection({ target: 'sftp', partner: 'ouchhungry' }, testContext(home));
    expect(result.data).toEqual([
      expect.objectContaining({ destination: 'partner-sftp', check: 'enabled', status: 'skipped', detail: 'disabled: run dataprod init --partner ouchhungry' }),
    ]);
    expect(result.exitCode).toBe(78);
    expect(result.text).toContain('nothing was checked');
  });

  it('--sandbox checks SFTP, API and the e-mail channel against loopback servers and passes', async () => {
    const home = await tempHome();
    const result = await testConnection({ target: 'all', partner: 'ouchhungry', sandbox: true }, testContext(home));
    const failed = result.data.filter((row) => row.status !== 'pass');
    expect(failed).toEqual([]);
    expect(result.exitCode).toBeUndefined();
    expect(new Set(result.data.map((row) => row.destination))).toEqual(new Set(['partner-sftp', 'partner-api', 'mail']));
    expect(result.data.filter((row) => row.destination === 'partner-sftp').map((row) => row.check)).toEqual(['dns', 'tcp', 'host-key', 'auth', 'permission']);
    expect(result.text).toMatch(/all \d+ checks passed/);
  });

  it('fails with 77 and the presented fingerprint for a wrong host key, with a table row per check', async () => {
    const home = await tempHome();
    const credentials = await loadSandboxCredentials(home);
    const server = await startSftpSandbox({ root: sandboxDir(home, 'sftp'), hostKey: credentials.host.privateKey, authorizedKey: credentials.client.publicKey, username: 'dataprod' });
    cleanups.push(() => server.close());
    await writePartner(
      home,
      `  - { name: partner-sftp, type: sftp, host: 127.0.0.1, port: ${server.port}, username: dataprod, directory: '/inbound/{report}/', host_fingerprints: ['${credentials.client.fingerprint}'] }`,
    );
    process.env.DATAPROD_NO_KEYCHAIN = '1';
    process.env.DATAPROD_ACME_SFTP_PRIVATE_KEY = credentials.client.privateKey;
    const result = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
    expect(result.exitCode).toBe(77);
    const hostKey = result.data.find((row) => row.check === 'host-key')!;
    expect(hostKey).toMatchObject({ status: 'fail', exit_code: 77 });
    expect(hostKey.detail).toContain(server.fingerprint);
    expect(result.text).toContain('FAIL 77');
    expect(result.text).toContain('host-key');

    await writePartner(
      home,
      `  - { name: partner-sftp, type: sftp, host: 127.0.0.1, port: ${server.port}, username: dataprod, directory: '/inbound/{report}/', host_fingerprints: ['${server.fingerprint}'] }`,
    );
    const passing = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
    expect(passing.data.every((row) => row.status === 'pass')).toBe(true);
    expect(passing.exitCode).toBeUndefined();
    expect(JSON.stringify(passing.data)).not.toContain(credentials.client.privateKey.split('\n')[1]!);
  });

  it('a missing secret is a configuration failure (78) at the auth check', async () => {
    const home = await tempHome();
    const credentials = await loadSandboxCredentials(home);
    const server = await startSftpSandbox({ root: sandboxDir(home, 'sftp'), hostKey: credentials.host.privateKey, authorizedKey: credentials.client.publicKey, username: 'dataprod' });
    cleanups.push(() => server.close());
    await writePartner(home, `  - { name: partner-sftp, type: sftp, host: 127.0.0.1, port: ${server.port}, username: dataprod, host_fingerprints: ['${server.fingerprint}'] }`);
    process.env.DATAPROD_NO_KEYCHAIN = '1';
    delete process.env.DATAPROD_ACME_SFTP_PRIVATE_KEY;
    const result = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
    expect(result.exitCode).toBe(78);
    expect(result.data.find((row) => row.check === 'auth')).toMatchObject({ status: 'fail', exit_code: 78, hint: 'set it with: dataprod secrets set --partner acme sftp-private-key' });
  });

  it('an unreachable server fails with 69', async () => {
    const home = await tempHome();
    await writePartner(home, `  - { name: partner-sftp, type: sftp, host: 127.0.0.1, port: 1, username: dataprod, connect_timeout_ms: 2000 }`);
    const result = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
    expect(result.exitCode).toBe(69);
    expect(result.data.find((row) => row.check === 'tcp')).toMatchObject({ status: 'fail', exit_code: 69 });
  });

  it('a partner without a destination of that type is a configuration error', async () => {
    const home = await tempHome();
    await writePartner(home, `  - { name: copy, type: local }`);
    await expect(testConnection({ target: 'api', partner: 'acme' }, testContext(home))).rejects.toBeInstanceOf(ConfigError);
    const local = await testConnection({ target: 'all', partner: 'acme' }, testContext(home));
    expect(local.data.map((row) => [row.destination, row.check, row.status])).toEqual([
      ['copy', 'directory', 'pass'],
      ['copy', 'permission', 'pass'],
    ]);
  });
});
