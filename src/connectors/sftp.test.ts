import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateSshKey } from '../secrets/ssh-key.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorTestContext, makeTempHome } from '../../test/helpers.js';
import { ConfigError, DataError, TerminalError, TransientError } from '../errors.js';
import { sandboxDir } from '../lake/layout.js';
import { silentLogger } from '../log.js';
import { loadSandboxCredentials, type SandboxCredentials } from '../sandbox/keys.js';
import { startSftpSandbox, type SftpSandbox, type SftpSandboxOptions } from '../sandbox/sftp-server.js';
import { describeConnectorContract, expectedNames, writeContractPackage } from '../../test/connectors/contract.js';
import { classifySftpError, createSftpConnector, sshAlgorithms } from './sftp.js';
import { sftpOptions, type SftpOptions } from './options.js';
import type { CheckResult, ConnectorContext } from './types.js';
import type { OutboxPackage, PackageManifest } from '../render/package.js';

const fastRetry = { max_attempts: 4, base_delay_ms: 5, max_delay_ms: 20 };

interface World {
  home: string;
  credentials: SandboxCredentials;
  sandbox: SftpSandbox;
  root: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startWorld(serverOptions: Partial<SftpSandboxOptions> = {}, home?: string): Promise<World> {
  if (!home) {
    const temp = await makeTempHome('dataprod-sftp-');
    cleanups.push(temp.cleanup);
    home = temp.home;
  }
  const credentials = await loadSandboxCredentials(home);
  const root = sandboxDir(home, 'sftp');
  const sandbox = await startSftpSandbox({ root, hostKey: credentials.host.privateKey, authorizedKey: credentials.client.publicKey, username: 'dataprod', ...serverOptions });
  cleanups.push(() => sandbox.close());
  return { home, credentials, sandbox, root };
}

function optionsFor(world: World, extra: Record<string, unknown> = {}): SftpOptions {
  return sftpOptions.parse({
    name: 'partner-sftp',
    type: 'sftp',
    host: world.sandbox.host,
    port: world.sandbox.port,
    username: 'dataprod',
    directory: '/inbound/{report}/{period}/',
    host_fingerprints: [world.sandbox.fingerprint],
    retry: fastRetry,
    connect_timeout_ms: 5_000,
    operation_timeout_ms: 10_000,
    ...extra,
  });
}

function contextFor(world: World, secrets: Record<string, string> = {}): ConnectorContext {
  return connectorTestContext(world.home, { 'sftp-private-key': world.credentials.client.privateKey, ...secrets }, 'acme');
}

function remoteDir(world: World, pkg: OutboxPackage): string {
  return join(world.root, 'inbound', pkg.manifest.report, pkg.manifest.period);
}

function row(results: CheckResult[], check: string): CheckResult | undefined {
  return results.find((result) => result.check === check);
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: Error) => error,
  );
}

describeConnectorContract('sftp (sandbox server)', async ({ home, fault }) => {
  const world = await startWorld({}, home);
  if (fault?.kind === 'transient') world.sandbox.faults.dropAfterBytes(20_000, fault.times);
  if (fault?.kind === 'terminal') world.sandbox.faults.denyWrite('/inbound');
  const connector = createSftpConnector(optionsFor(world), contextFor(world));
  return {
    connector,
    listDelivered: (pkg) => readdir(remoteDir(world, pkg)).catch(() => []),
    readDelivered: (pkg, name) => readFile(join(remoteDir(world, pkg), name)),
    faultsFired: () => world.sandbox.faults.dropped + world.sandbox.faults.denied,
    close: () => connector.close(),
  };
});

describe('sftp connector against the sandbox server', () => {
  it('a connection dropped mid-upload is retried and no partial file is ever visible under its final name', async () => {
    const world = await startWorld();
    const pkg = await writeContractPackage(world.home, { csvBytes: 400 * 1024 });
    const dir = remoteDir(world, pkg);
    const expected = new Map<string, number>([
      ...pkg.manifest.files.map((file) => [file.name, file.bytes] as [string, number]),
      ['manifest.json', statSync(join(pkg.dir, 'manifest.json')).size],
      ['SHA256SUMS', statSync(join(pkg.dir, 'SHA256SUMS')).size],
    ]);
    const violations: string[] = [];
    const seen = new Set<string>();
    const look = () => {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        seen.add(name);
        if (!expected.has(name)) continue;
        try {
          const size = statSync(join(dir, name)).size;
          if (size !== expected.get(name)) violations.push(`${name} visible with ${size} of ${expected.get(name)} bytes`);
        } catch {
          // Renamed away between readdir and stat.
        }
      }
    };
    const watcher = setInterval(look, 1);
    world.sandbox.faults.dropAfterBytes(150_000, 2);
    const receipt = await createSftpConnector(optionsFor(world), contextFor(world)).deliver(pkg);
    clearInterval(watcher);
    look();

    expect(violations).toEqual([]);
    expect(world.sandbox.faults.dropped).toBe(2);
    expect(receipt.retries).toBe(2);
    // The cut really left a partial temporary file, which the next attempt removed.
    expect([...seen].some((name) => /^\..+\.part-[0-9a-f]{12}$/.test(name))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([...expectedNames(pkg)].sort());
    for (const file of pkg.manifest.files) expect((await readFile(join(dir, file.name))).equals(await readFile(join(pkg.dir, file.name)))).toBe(true);
  });

  it('a changed host key is refused (77) naming the fingerprint the server presented and how to pin it', async () => {
    const world = await startWorld();
    const pkg = await writeContractPackage(world.home);
    const options = optionsFor(world, { host_fingerprints: [world.credentials.client.fingerprint] });
    const error = (await failureOf(createSftpConnector(options, contextFor(world)).deliver(pkg))) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.exitCode).toBe(77);
    expect(error.message).toContain('CHANGED');
    expect(error.message).toContain(world.sandbox.fingerprint);
    expect(error.hint).toContain(`host_fingerprints: ["${world.sandbox.fingerprint}"]`);
    expect(error.hint).toContain(`dataprod init --partner acme --sftp-fingerprint ${world.sandbox.fingerprint}`);
    expect(await readdir(world.root)).toEqual([]);

    const rows = await createSftpConnector(options, contextFor(world)).check();
    expect(rows.map((result) => [result.check, result.ok])).toEqual([
      ['dns', true],
      ['tcp', true],
      ['host-key', false],
    ]);
    expect(row(rows, 'host-key')).toMatchObject({ exitCode: 77 });
    expect(row(rows, 'host-key')!.detail).toContain(world.sandbox.fingerprint);
  });

  it('an unpinned host key is refused too: host key verification is mandatory', async () => {
    const world = await startWorld();
    const error = (await failureOf(createSftpConnector(optionsFor(world, { host_fingerprints: [] }), contextFor(world)).deliver(await writeContractPackage(world.home)))) as TerminalError;
    expect(error.exitCode).toBe(77);
    expect(error.message).toMatch(/not pinned/);
    expect(error.message).toContain(`ssh-ed25519 ${world.sandbox.fingerprint}`);
  });

  it('accepts a host key listed in a known_hosts file, plain or hashed', async () => {
    const world = await startWorld();
    const name = `[127.0.0.1]:${world.sandbox.port}`;
    const blob = world.credentials.host.publicKey.split(' ').slice(0, 2).join(' ');
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    for (const line of [`${name} ${blob}`, `${hashed} ${blob}`]) {
      await writeFile(join(world.home, 'known_hosts'), `# partner\nother.example.com ${world.credentials.client.publicKey}\n${line}\n`);
      const rows = await createSftpConnector(optionsFor(world, { host_fingerprints: [], known_hosts: 'known_hosts' }), contextFor(world)).check();
      for (const result of rows) expect(result, `${result.check}: ${result.detail}`).toMatchObject({ ok: true });
    }
    await writeFile(join(world.home, 'known_hosts'), `@revoked ${name} ${blob}\n`);
    const revoked = await createSftpConnector(optionsFor(world, { known_hosts: 'known_hosts' }), contextFor(world)).check();
    expect(row(revoked, 'host-key')).toMatchObject({ ok: false, exitCode: 77 });
  });

  it('a wrong client key is refused (77) after the host key passed', async () => {
    const world = await startWorld();
    const stranger = generateSshKey().privateKey;
    const connector = createSftpConnector(optionsFor(world), contextFor(world, { 'sftp-private-key': stranger }));
    const error = (await failureOf(connector.deliver(await writeContractPackage(world.home)))) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.exitCode).toBe(77);
    expect(error.message).toMatch(/authentication refused/);
    const rows = await connector.check();
    expect(row(rows, 'host-key')).toMatchObject({ ok: true });
    expect(row(rows, 'auth')).toMatchObject({ ok: false, exitCode: 77 });
    expect(row(rows, 'permission')).toBeUndefined();
  });

  it('an unwritable directory fails with 77 and a clear cause, in check() and deliver()', async () => {
    const world = await startWorld();
    await mkdir(join(world.root, 'inbound'));
    world.sandbox.faults.denyWrite('/inbound');
    const connector = createSftpConnector(optionsFor(world), contextFor(world));
    const rows = await connector.check();
    expect(row(rows, 'auth')).toMatchObject({ ok: true });
    const permission = row(rows, 'permission')!;
    expect(permission).toMatchObject({ ok: false, exitCode: 77 });
    expect(permission.detail).toBe(`cannot write in /inbound on 127.0.0.1: permission denied`);
    expect(permission.hint).toMatch(/write access to \/inbound/);

    const error = (await failureOf(connector.deliver(await writeContractPackage(world.home)))) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.exitCode).toBe(77);
    expect(error.message).toMatch(/permission denied while creating \/inbound\/daily-analytic/);
  });

  it('check() leaves no probe file behind and reports each stage', async () => {
    const world = await startWorld();
    await mkdir(join(world.root, 'inbound'));
    const rows = await createSftpConnector(optionsFor(world), contextFor(world)).check();
    expect(rows.map((result) => result.check)).toEqual(['dns', 'tcp', 'host-key', 'auth', 'permission']);
    expect(row(rows, 'tcp')!.detail).toContain('SSH-2.0-');
    expect(row(rows, 'permission')!.detail).toBe('wrote and removed a probe file in /inbound');
    expect(await readdir(join(world.root, 'inbound'))).toEqual([]);
  });

  it('a missing or unusable key is a configuration error (78) that never shows the secret', async () => {
    const world = await startWorld();
    const missing = createSftpConnector(optionsFor(world), { ...contextFor(world), secret: async (name) => Promise.reject(new ConfigError(`secret "${name}" not found`)) });
    const rows = await missing.check();
    expect(row(rows, 'host-key')).toMatchObject({ ok: true });
    expect(row(rows, 'auth')).toMatchObject({ ok: false, exitCode: 78 });
    await expect(missing.deliver(await writeContractPackage(world.home))).rejects.toBeInstanceOf(ConfigError);

    const garbage = 'not-a-key-0123456789abcdef';
    const error = (await failureOf(createSftpConnector(optionsFor(world), contextFor(world, { 'sftp-private-key': garbage })).deliver(await writeContractPackage(world.home)))) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.exitCode).toBe(78);
    expect(error.message).toMatch(/not a usable private key/);
    expect(`${error.message} ${error.hint}`).not.toContain(garbage);
  });

  it('a refused connection is transient: retried, then reported as unavailable (69)', async () => {
    const world = await startWorld();
    const options = optionsFor(world);
    await world.sandbox.close();
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = ((message: string) => {
      warnings.push(message);
      return logger;
    }) as typeof logger.warn;
    const error = (await failureOf(createSftpConnector(options, { ...contextFor(world), logger }).deliver(await writeContractPackage(world.home)))) as TransientError;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.exitCode).toBe(69);
    expect(warnings).toHaveLength(fastRetry.max_attempts - 1);
    const rows = await createSftpConnector(options, contextFor(world)).check();
    expect(row(rows, 'tcp')).toMatchObject({ ok: false, exitCode: 69 });
  });

  it.each([
    ['key exchange', { kex: ['diffie-hellman-group14-sha1'] }],
    ['cipher', { cipher: ['aes128-cbc'] }],
    ['MAC', { cipher: ['aes128-ctr'], hmac: ['hmac-sha1'] }],
  ])('refuses a server offering only a weak %s unless allow_weak_algorithms', async (_, algorithms) => {
    const world = await startWorld({ algorithms: algorithms as never });
    const refused = await createSftpConnector(optionsFor(world), contextFor(world)).check();
    const failure = refused.find((result) => !result.ok)!;
    expect(failure.hint).toMatch(/allow_weak_algorithms/);
    const allowed = await createSftpConnector(optionsFor(world, { allow_weak_algorithms: true }), contextFor(world)).check();
    for (const result of allowed) expect(result, `${result.check}: ${result.detail}`).toMatchObject({ ok: true });
  });

  it('falls back to remove-then-rename on a server without posix-rename, and removes leftovers of a killed attempt', async () => {
    const world = await startWorld({ posixRename: false });
    const pkg = await writeContractPackage(world.home);
    const dir = remoteDir(world, pkg);
    await mkdir(dir, { recursive: true });
    const leftover = `.${pkg.manifest.files[0]!.name}.part-0123456789ab`;
    await writeFile(join(dir, leftover), 'half');
    const connector = createSftpConnector(optionsFor(world, { fast_put: true }), contextFor(world));
    await connector.deliver(pkg);
    const changed = await writeContractPackage(world.home, { seed: 'other' });
    await connector.deliver(changed);
    expect((await readdir(dir)).sort()).toEqual([...expectedNames(changed)].sort());
    expect((await readFile(join(dir, 'SHA256SUMS'), 'utf8'))).toBe(await readFile(join(changed.dir, 'SHA256SUMS'), 'utf8'));
  });
});

/** A package of `count` data files of random bytes, as `build` lays it out (manifest.json, SHA256SUMS). */
async function writeWidePackage(home: string, count: number, bytesEach: number): Promise<OutboxPackage> {
  const dir = join(home, 'outbox', 'acme', 'wide', '2026-11-20');
  await mkdir(dir, { recursive: true });
  const files: PackageManifest['files'] = [];
  for (let index = 0; index < count; index++) {
    const name = `acme_wide_2026-11-20.part${index}.bin`;
    const content = randomBytes(bytesEach);
    await writeFile(join(dir, name), content);
    files.push({ name, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex'), format: 'bin', rows: 0 });
  }
  const manifest: PackageManifest = { partner: 'acme', report: 'wide', period: '2026-11-20', rows: 0, files, columns: [], summary: {}, generated_at: '2026-11-21T09:00:00.000Z', tool_version: 'test' };
  const manifestText = JSON.stringify(manifest);
  await writeFile(join(dir, 'manifest.json'), manifestText);
  const sums = [...files, { name: 'manifest.json', sha256: createHash('sha256').update(manifestText).digest('hex') }];
  await writeFile(join(dir, 'SHA256SUMS'), sums.map((file) => `${file.sha256}  ${file.name}\n`).join(''));
  return { dir, manifest };
}

describe('sftp connector: files side by side, hashed while sent', () => {
  /** Delivers while watching the remote directory; returns the most temporaries seen at once and whether manifest.json showed up before every data file was in place. */
  async function watchDelivery(world: World, pkg: OutboxPackage, extra: Record<string, unknown>) {
    const dir = remoteDir(world, pkg);
    const dataNames = pkg.manifest.files.map((file) => file.name);
    let most = 0;
    let manifestEarly = false;
    const look = () => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      most = Math.max(most, names.filter((name) => name.includes('.part-')).length);
      const manifestSeen = names.some((name) => name === 'manifest.json' || name.startsWith('.manifest.json.part-'));
      if (manifestSeen && !dataNames.every((name) => names.includes(name))) manifestEarly = true;
    };
    const watcher = setInterval(look, 1);
    try {
      const receipt = await createSftpConnector(optionsFor(world, extra), contextFor(world)).deliver(pkg);
      return { receipt, most, manifestEarly };
    } finally {
      clearInterval(watcher);
    }
  }

  it('uploads up to `concurrency` data files at once, manifest.json and SHA256SUMS only after all of them, with MB/s per file', async () => {
    const world = await startWorld();
    const pkg = await writeWidePackage(world.home, 4, 3 * 1024 * 1024);
    const side = await watchDelivery(world, pkg, { concurrency: 3 });
    expect(side.most).toBeGreaterThanOrEqual(2);
    expect(side.most).toBeLessThanOrEqual(3);
    expect(side.manifestEarly).toBe(false);
    expect(side.receipt.files.map((file) => file.name)).toEqual(expectedNames(pkg));
    for (const file of side.receipt.files) {
      expect(file, file.name).toMatchObject({ verified: 'size' });
      expect(file.mb_per_s, file.name).toBeGreaterThan(0);
      expect(file.ms, file.name).toBeGreaterThanOrEqual(0);
    }
    for (const file of pkg.manifest.files) expect((await readFile(join(remoteDir(world, pkg), file.name))).equals(await readFile(join(pkg.dir, file.name)))).toBe(true);

    const again = await createSftpConnector(optionsFor(world), contextFor(world)).deliver(pkg);
    expect(again.files.map((file) => file.verified)).toEqual(expectedNames(pkg).map(() => 'already-delivered'));
    expect(again.files[0]!.mb_per_s).toBeUndefined();
  });

  it('concurrency: 1 sends one file at a time', async () => {
    const world = await startWorld();
    const pkg = await writeWidePackage(world.home, 3, 1024 * 1024);
    const serial = await watchDelivery(world, pkg, { concurrency: 1 });
    expect(serial.most).toBe(1);
    expect(serial.manifestEarly).toBe(false);
  });

  it('a data file changed after build (same size) is caught by the hash taken while sending: exit 65, nothing put in place', async () => {
    const world = await startWorld();
    const pkg = await writeWidePackage(world.home, 2, 256 * 1024);
    const victim = join(pkg.dir, pkg.manifest.files[1]!.name);
    const content = await readFile(victim);
    content[1000] = content[1000]! ^ 0xff;
    await writeFile(victim, content);
    const error = (await failureOf(createSftpConnector(optionsFor(world), contextFor(world)).deliver(pkg))) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.exitCode).toBe(65);
    expect(error.message).toContain(`${pkg.manifest.files[1]!.name} changed since it was built`);
    const left = await readdir(remoteDir(world, pkg));
    expect(left.filter((name) => name.includes('.part-') || name === pkg.manifest.files[1]!.name || name === 'manifest.json' || name === 'SHA256SUMS')).toEqual([]);
  });
});

describe('classifySftpError', () => {
  const scope = { destination: 'partner-sftp', host: 'sftp.example.com', port: 22, action: 'uploading x.csv' };
  it.each([
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), TransientError, 69],
    [Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), TransientError, 69],
    [Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH' }), TransientError, 69],
    [new Error('_put: No response from server'), TransientError, 69],
    [new Error('_put: Unexpected close event'), TransientError, 69],
    [Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }), TerminalError, 77],
    [Object.assign(new Error('_put: Write stream error: Permission denied /x'), { code: 3 }), TerminalError, 77],
    [Object.assign(new Error('getaddrinfo ENOTFOUND sftp.example.com'), { code: 'ENOTFOUND' }), TerminalError, 69],
  ] as const)('%s', (error, type, exitCode) => {
    const classified = classifySftpError(error, scope);
    expect(classified).toBeInstanceOf(type);
    expect(classified.exitCode).toBe(exitCode);
  });

  it('gives a DNS hint for an unknown host', () => {
    expect(classifySftpError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }), scope).hint).toMatch(/DNS/);
  });
});

describe('sshAlgorithms', () => {
  it('removes SHA-1 key exchange, ssh-rsa, CBC and SHA-1 MACs unless weak ones are allowed', () => {
    const strict = sshAlgorithms(false) as unknown as Record<string, { remove: (string | RegExp)[] }>;
    expect(strict.serverHostKey!.remove).toContain('ssh-rsa');
    expect(strict.kex!.remove.some((entry) => entry instanceof RegExp && entry.test('diffie-hellman-group14-sha1'))).toBe(true);
    expect(strict.kex!.remove.some((entry) => entry instanceof RegExp && entry.test('curve25519-sha256'))).toBe(false);
    expect(strict.cipher!.remove.some((entry) => entry instanceof RegExp && entry.test('aes256-cbc'))).toBe(true);
    expect(strict.hmac!.remove.some((entry) => entry instanceof RegExp && entry.test('hmac-sha1'))).toBe(true);
    expect(strict.hmac!.remove.some((entry) => entry instanceof RegExp && entry.test('hmac-sha2-256'))).toBe(false);
    expect(Object.keys(sshAlgorithms(true) as object).every((kind) => 'append' in (sshAlgorithms(true) as unknown as Record<string, object>)[kind]!)).toBe(true);
  });
});
