/**
 * The SFTP connector and `dataprod test-connection` against a REAL OpenSSH sshd on a
 * loopback port: key auth, a chrooted directory (ForceCommand internal-sftp), and the
 * three failures people meet in practice: a wrong key, a wrong host key, an unwritable
 * directory. Needs /usr/sbin/sshd, ssh-keygen and root (ChrootDirectory and a
 * dedicated user); skipped with a message otherwise, except in CI, where it must run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConnection } from '../../src/commands/test-connection.js';
import { expectedNames, writeContractPackage } from '../connectors/contract.js';
import { fingerprintOfPublicKeyLine } from '../../src/connectors/host-keys.js';
import { sftpOptions } from '../../src/connectors/options.js';
import { createSftpConnector } from '../../src/connectors/sftp.js';
import type { ConnectorContext } from '../../src/connectors/types.js';
import { TerminalError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { testContext } from '../helpers.js';

const SSHD = '/usr/sbin/sshd';
const SFTP_USER = 'dataprod-sftp';

function which(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function userExists(name: string): boolean {
  try {
    execFileSync('getent', ['passwd', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the real-sshd tests cannot run here, or undefined when they can. */
function missingPrerequisite(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} not found (install openssh-server)`;
  if (!which('ssh-keygen')) return 'ssh-keygen not found (install openssh-client)';
  if (process.getuid?.() !== 0) return 'not root: sshd with ChrootDirectory and a dedicated user needs root';
  if (!userExists(SFTP_USER) && !which('useradd')) return `user ${SFTP_USER} absent and useradd not available`;
  return undefined;
}

/**
 * sshd refuses a ChrootDirectory unless every component of its path is root-owned and
 * not writable by group or others, which rules out /tmp: find a parent that qualifies.
 */
function chrootParent(): string {
  const qualifies = (path: string): boolean => {
    for (let current = path; ; current = dirname(current)) {
      const stats = statSync(current);
      if (stats.uid !== 0 || (stats.mode & 0o022) !== 0) return false;
      if (dirname(current) === current) return true;
    }
  };
  for (const candidate of ['/run', '/var/lib', '/srv', '/opt']) {
    try {
      accessSync(candidate, constants.W_OK);
      if (qualifies(candidate)) return candidate;
    } catch {
      // Next candidate.
    }
  }
  throw new Error('no root-owned, non-world-writable directory to hold the sshd chroot (tried /run, /var/lib, /srv, /opt)');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const missing = missingPrerequisite();
const inCI = process.env.CI === 'true';

if (missing && inCI) {
  describe('SFTP against a real OpenSSH sshd', () => {
    it('must run in CI', () => {
      throw new Error(`in CI the OpenSSH system tests must run, but ${missing}`);
    });
  });
} else if (missing) {
  describe('SFTP against a real OpenSSH sshd', () => {
    it.skip(`skipped locally: ${missing}`, () => undefined);
  });
} else {
  describe('SFTP against a real OpenSSH sshd (chrooted internal-sftp, key auth)', () => {
    let work: string;
    let chroot: string;
    let home: string;
    let port: number;
    let sshd: ChildProcess | undefined;
    let sshdLog = '';
    let hostFingerprint: string;
    let otherFingerprint: string;
    let clientKey: string;
    let strangerKey: string;
    const savedEnv = { ...process.env };

    const keygen = (path: string, comment: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });

    async function writePartner(directory: string, fingerprints: string[]): Promise<void> {
      await mkdir(join(home, 'partners'), { recursive: true });
      await writeFile(
        join(home, 'partners', 'acme.yaml'),
        [
          'partner: acme',
          'display_name: ACME',
          'products: { brands: [Acme] }',
          'segments: [biscoitos]',
          'reports: { daily-analytic: { enabled: true } }',
          'privacy: { k: 11 }',
          'notifications: { data_team_recipients: [dados@example.com] }',
          'destinations:',
          `  - name: partner-sftp`,
          `    type: sftp`,
          `    host: 127.0.0.1`,
          `    port: ${port}`,
          `    username: ${SFTP_USER}`,
          `    directory: '${directory}'`,
          `    host_fingerprints: [${fingerprints.map((fingerprint) => `'${fingerprint}'`).join(', ')}]`,
          `    retry: { max_attempts: 2, base_delay_ms: 10, max_delay_ms: 50 }`,
          '',
        ].join('\n'),
      );
    }

    function connectorFor(directory: string, key = clientKey, fingerprints = [hostFingerprint]) {
      const options = sftpOptions.parse({
        name: 'partner-sftp',
        type: 'sftp',
        host: '127.0.0.1',
        port,
        username: SFTP_USER,
        directory,
        host_fingerprints: fingerprints,
        retry: { max_attempts: 2, base_delay_ms: 10, max_delay_ms: 50 },
      });
      const context: ConnectorContext = { partner: 'acme', home, logger: silentLogger(), secret: async () => key };
      return createSftpConnector(options, context);
    }

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'dataprod-openssh-'));
      // sshd reads authorized_keys as the user, after dropping root.
      await chmod(work, 0o755);
      home = join(work, 'home');
      await mkdir(home);
      keygen(join(work, 'host_ed25519'), 'test-host');
      keygen(join(work, 'other_host_ed25519'), 'other-host');
      keygen(join(work, 'client_ed25519'), 'test-client');
      keygen(join(work, 'stranger_ed25519'), 'stranger');
      await writeFile(join(work, 'authorized_keys'), await readFile(join(work, 'client_ed25519.pub')), { mode: 0o644 });
      clientKey = await readFile(join(work, 'client_ed25519'), 'utf8');
      strangerKey = await readFile(join(work, 'stranger_ed25519'), 'utf8');
      hostFingerprint = fingerprintOfPublicKeyLine(await readFile(join(work, 'host_ed25519.pub'), 'utf8'));
      otherFingerprint = fingerprintOfPublicKeyLine(await readFile(join(work, 'other_host_ed25519.pub'), 'utf8'));

      if (!userExists(SFTP_USER)) {
        // '*' (not '!'): a locked account is refused by sshd even with a valid key.
        execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/', '--shell', '/usr/sbin/nologin', '--password', '*', SFTP_USER], { stdio: 'ignore' });
      }
      const uid = Number(execFileSync('id', ['-u', SFTP_USER], { encoding: 'utf8' }).trim());
      chroot = await mkdtemp(join(chrootParent(), 'dataprod-sshd-'));
      await chmod(chroot, 0o755);
      await mkdir(join(chroot, 'upload'));
      await chown(join(chroot, 'upload'), uid, 0);
      await mkdir(join(chroot, 'readonly'), { mode: 0o755 });
      await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

      port = await freePort();
      const config = join(work, 'sshd_config');
      await writeFile(
        config,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${join(work, 'host_ed25519')}`,
          `PidFile ${join(work, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(work, 'authorized_keys')}`,
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          'StrictModes no',
          'UsePAM no',
          `AllowUsers ${SFTP_USER}`,
          'Subsystem sftp internal-sftp',
          `ChrootDirectory ${chroot}`,
          'ForceCommand internal-sftp',
          'AllowTcpForwarding no',
          'X11Forwarding no',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
      const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      sshd = child;
      child.stderr!.on('data', (chunk: Buffer) => (sshdLog += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sshd did not start in 10 s:\n${sshdLog}`)), 10_000);
        const poll = setInterval(() => {
          if (sshdLog.includes('Server listening')) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          }
        }, 20);
        child.once('exit', (code) => {
          clearInterval(poll);
          clearTimeout(timer);
          reject(new Error(`sshd exited with ${code}:\n${sshdLog}`));
        });
      });

      process.env.DATAPROD_NO_KEYCHAIN = '1';
      process.env.DATAPROD_ACME_SFTP_PRIVATE_KEY = clientKey;
    });

    afterAll(async () => {
      process.env = { ...savedEnv };
      if (sshd && sshd.exitCode === null) {
        const exited = new Promise((resolve) => sshd!.once('exit', resolve));
        sshd.kill('SIGTERM');
        await exited;
      }
      if (chroot) await rm(chroot, { recursive: true, force: true });
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('computes host fingerprints exactly as ssh-keygen -l prints them', () => {
      const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(work, 'host_ed25519.pub')], { encoding: 'utf8' });
      expect(printed.split(' ')[1]).toBe(hostFingerprint);
    });

    it('test-connection sftp passes: DNS, TCP, host key, key auth and write permission in the chroot', async () => {
      await writePartner('/upload/{report}/{period}/', [hostFingerprint]);
      const result = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
      expect(result.data.filter((row) => row.status !== 'pass'), `${result.text}\n${sshdLog}`).toEqual([]);
      expect(result.data.map((row) => row.check)).toEqual(['dns', 'tcp', 'host-key', 'auth', 'permission']);
      expect(result.data.find((row) => row.check === 'tcp')!.detail).toContain('OpenSSH');
      expect(result.exitCode).toBeUndefined();
      expect(await readdir(join(chroot, 'upload'))).toEqual([]);
    });

    it('delivers a package atomically, idempotently, and replaces it when it changes', async () => {
      const connector = connectorFor('/upload/{report}/{period}/');
      const pkg = await writeContractPackage(home, { csvBytes: 300 * 1024 });
      const receipt = await connector.deliver(pkg);
      expect(receipt.location).toBe(`sftp://${SFTP_USER}@127.0.0.1:${port}/upload/daily-analytic/2026-11-20`);
      // Data files go up side by side (OpenSSH allows it), each size-checked, with its rate.
      for (const file of receipt.files) expect(file, file.name).toMatchObject({ verified: 'size', mb_per_s: expect.any(Number) });
      const landed = join(chroot, 'upload', 'daily-analytic', '2026-11-20');
      expect((await readdir(landed)).sort()).toEqual([...expectedNames(pkg)].sort());
      for (const name of expectedNames(pkg)) expect((await readFile(join(landed, name))).equals(await readFile(join(pkg.dir, name)))).toBe(true);
      // Files are not left world-writable on the partner's server.
      expect(statSync(join(landed, 'manifest.json')).mode & 0o002).toBe(0);

      await connector.deliver(pkg);
      expect((await readdir(landed)).sort()).toEqual([...expectedNames(pkg)].sort());

      const changed = await writeContractPackage(home, { seed: 'changed' });
      await connector.deliver(changed);
      expect((await readdir(landed)).sort()).toEqual([...expectedNames(changed)].sort());
      expect(await readFile(join(landed, 'SHA256SUMS'), 'utf8')).toBe(await readFile(join(changed.dir, 'SHA256SUMS'), 'utf8'));
    });

    it('a wrong client key fails with 77 at the auth check', async () => {
      await writePartner('/upload/{report}/{period}/', [hostFingerprint]);
      process.env.DATAPROD_ACME_SFTP_PRIVATE_KEY = strangerKey;
      try {
        const result = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
        expect(result.exitCode).toBe(77);
        expect(result.data.find((row) => row.check === 'host-key')).toMatchObject({ status: 'pass' });
        expect(result.data.find((row) => row.check === 'auth')).toMatchObject({ status: 'fail', exit_code: 77 });
      } finally {
        process.env.DATAPROD_ACME_SFTP_PRIVATE_KEY = clientKey;
      }
      const error = await connectorFor('/upload/{report}/', strangerKey)
        .deliver(await writeContractPackage(home))
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TerminalError);
      expect((error as TerminalError).exitCode).toBe(77);
    });

    it('a wrong host key is refused with 77, printing the fingerprint sshd presented', async () => {
      await writePartner('/upload/{report}/{period}/', [otherFingerprint]);
      const result = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
      expect(result.exitCode).toBe(77);
      const row = result.data.find((entry) => entry.check === 'host-key')!;
      expect(row).toMatchObject({ status: 'fail', exit_code: 77 });
      expect(row.detail).toContain(hostFingerprint);
      expect(row.hint).toContain(`--sftp-fingerprint ${hostFingerprint}`);
      expect(result.data.find((entry) => entry.check === 'auth')).toBeUndefined();
    });

    it('an unwritable directory fails with 77 and says where', async () => {
      await writePartner('/readonly/{report}/{period}/', [hostFingerprint]);
      const result = await testConnection({ target: 'sftp', partner: 'acme' }, testContext(home));
      expect(result.exitCode).toBe(77);
      const row = result.data.find((entry) => entry.check === 'permission')!;
      expect(row).toMatchObject({ status: 'fail', exit_code: 77, detail: 'cannot write in /readonly on 127.0.0.1: permission denied' });

      const error = await connectorFor('/readonly/{report}/{period}/')
        .deliver(await writeContractPackage(home))
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TerminalError);
      expect((error as TerminalError).exitCode).toBe(77);
      expect((error as TerminalError).message).toMatch(/permission denied while creating \/readonly\/daily-analytic/);
      expect(await readdir(join(chroot, 'readonly'))).toEqual([]);
    });
  });
}
