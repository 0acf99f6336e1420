// A throwaway OpenSSH sshd on a loopback port for the delivery benchmark: a chrooted
// internal-sftp user with key auth, configured as in test/system/openssh.test.ts.
// Needs /usr/sbin/sshd, ssh-keygen and root; `missingOpenSsh()` says why not otherwise.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fingerprintOfPublicKeyLine } from '../connectors/host-keys.js';

const SSHD = '/usr/sbin/sshd';
export const SFTP_USER = 'dataprod-sftp';

function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why a local sshd cannot be started here, or undefined when it can. */
export function missingOpenSsh(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} not found (install openssh-server)`;
  if (!succeeds('sh', ['-c', 'command -v ssh-keygen && command -v sftp'])) return 'ssh-keygen or sftp not found (install openssh-client)';
  if (process.getuid?.() !== 0) return 'not root: sshd with ChrootDirectory and a dedicated user needs root';
  if (!succeeds('getent', ['passwd', SFTP_USER]) && !succeeds('sh', ['-c', 'command -v useradd'])) return `user ${SFTP_USER} absent and useradd not available`;
  return undefined;
}

/** sshd wants every component of a chroot path root-owned and not group/other-writable: /tmp does not qualify. */
function chrootParent(): string {
  const qualifies = (path: string): boolean => {
    for (let current = path; ; current = dirname(current)) {
      const stats = statSync(current);
      if (stats.uid !== 0 || (stats.mode & 0o022) !== 0) return false;
      if (dirname(current) === current) return true;
    }
  };
  for (const candidate of ['/var/lib', '/srv', '/opt', '/run']) {
    try {
      accessSync(candidate, constants.W_OK);
      if (qualifies(candidate)) return candidate;
    } catch {
      // Next candidate.
    }
  }
  throw new Error('no root-owned, non-world-writable directory to hold the sshd chroot');
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A running sshd and what a client needs to reach it. */
export interface OpenSshServer {
  port: number;
  /** SHA256:... of the host key. */
  hostFingerprint: string;
  /** OpenSSH private key text of the authorised client. */
  clientKey: string;
  /** Path of that key, for `sftp -i`. */
  clientKeyPath: string;
  /** A known_hosts file pinning the host key, for `sftp -o UserKnownHostsFile`. */
  knownHostsPath: string;
  /** Local directory seen as /upload by the SFTP user. */
  uploadDir: string;
  stop(): Promise<void>;
}

/** Starts sshd on 127.0.0.1 at a free port; resolves once it listens. */
export async function startOpenSsh(): Promise<OpenSshServer> {
  const work = await mkdtemp(join(tmpdir(), 'dataprod-bench-sshd-'));
  await chmod(work, 0o755);
  const keygen = (path: string, comment: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
  keygen(join(work, 'host_ed25519'), 'bench-host');
  keygen(join(work, 'client_ed25519'), 'bench-client');
  await writeFile(join(work, 'authorized_keys'), await readFile(join(work, 'client_ed25519.pub')), { mode: 0o644 });
  const hostLine = await readFile(join(work, 'host_ed25519.pub'), 'utf8');
  if (!succeeds('getent', ['passwd', SFTP_USER])) {
    // '*' (not '!'): sshd refuses a locked account even with a valid key.
    execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/', '--shell', '/usr/sbin/nologin', '--password', '*', SFTP_USER], { stdio: 'ignore' });
  }
  const uid = Number(execFileSync('id', ['-u', SFTP_USER], { encoding: 'utf8' }).trim());
  const chroot = await mkdtemp(join(chrootParent(), 'dataprod-bench-sshd-'));
  await chmod(chroot, 0o755);
  const uploadDir = join(chroot, 'upload');
  await mkdir(uploadDir);
  await chown(uploadDir, uid, 0);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const port = await freePort();
  const knownHostsPath = join(work, 'known_hosts');
  await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostLine.split(' ').slice(0, 2).join(' ')}\n`);
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
      'StrictModes no',
      'UsePAM no',
      `AllowUsers ${SFTP_USER}`,
      'Subsystem sftp internal-sftp',
      `ChrootDirectory ${chroot}`,
      'ForceCommand internal-sftp',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await new Promise<void>((resolveStarted, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start in 10 s:\n${log}`)), 10_000);
    const poll = setInterval(() => {
      if (log.includes('Server listening')) {
        clearInterval(poll);
        clearTimeout(timer);
        resolveStarted();
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}:\n${log}`));
    });
  });
  return {
    port,
    hostFingerprint: fingerprintOfPublicKeyLine(hostLine),
    clientKey: await readFile(join(work, 'client_ed25519'), 'utf8'),
    clientKeyPath: join(work, 'client_ed25519'),
    knownHostsPath,
    uploadDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(chroot, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    },
  };
}
