import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateSshKey } from '../secrets/ssh-key.js';
import { sha256Fingerprint } from '../connectors/host-keys.js';
import { writeFileAtomic } from '../lake/atomic.js';
import { sandboxDir } from '../lake/layout.js';
import { registerSecretValue } from '../log.js';

/** A key pair as OpenSSH files hold it. */
export interface SshKeyPair {
  /** OpenSSH private key (PEM-like text). */
  privateKey: string;
  /** "ssh-ed25519 AAAA... comment" */
  publicKey: string;
  /** SHA256:... of the public key, as ssh-keygen -l prints it. */
  fingerprint: string;
  /** File holding the private key (mode 600). */
  path: string;
}

/** The sandbox's stable keys and passwords, kept under <home>/sandbox/keys/. */
export interface SandboxCredentials {
  dir: string;
  /** The SFTP server's host key. */
  host: SshKeyPair;
  /** The key the SFTP server accepts (the `sftp-private-key` secret in sandbox mode). */
  client: SshKeyPair;
  /** Password of the sandbox partner API user. */
  apiPassword: string;
  /** A fixed bearer token the sandbox API also accepts (for `auth: bearer` destinations). */
  apiToken: string;
  /** Password of the sandbox SMTP user. */
  smtpPassword: string;
}

/** Writes `content` to `path` only if no file is there yet (two processes starting at once keep one key). */
async function createOnce(path: string, content: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, content, { mode: 0o600 });
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

async function readOrCreate(path: string, create: () => string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await createOnce(path, create());
  return readFile(path, 'utf8');
}

/** Loads an ed25519 key pair from `path`, generating it on first use; the public half is derived from the private one. */
async function loadKeyPair(path: string, comment: string): Promise<SshKeyPair> {
  const privateKey = await readOrCreate(path, () => generateSshKey(comment).privateKey);
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`${path} is not a valid private key (${parsed.message}): delete it to generate a new one`);
  const raw = parsed.getPublicSSH();
  const publicKey = `${parsed.type} ${raw.toString('base64')} ${comment}`;
  // The .pub file is for people (ssh-keygen -l -f ...); it is rewritten from the private key.
  await writeFileAtomic(`${path}.pub`, `${publicKey}\n`, 0o600);
  await chmod(path, 0o600);
  return { privateKey, publicKey, fingerprint: sha256Fingerprint(raw), path };
}

/**
 * The sandbox's keys and passwords: generated once, then reused so the pinned host
 * fingerprint and the client key stay the same across runs of `dataprod sandbox`.
 */
export async function loadSandboxCredentials(home: string): Promise<SandboxCredentials> {
  const dir = sandboxDir(home, 'keys');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const host = await loadKeyPair(join(dir, 'host_ed25519'), 'dataprod-sandbox-host');
  const client = await loadKeyPair(join(dir, 'client_ed25519'), 'dataprod-sandbox-client');
  const password = () => randomBytes(18).toString('base64url');
  const apiPassword = (await readOrCreate(join(dir, 'api-password'), password)).trim();
  const apiToken = (await readOrCreate(join(dir, 'api-token'), password)).trim();
  const smtpPassword = (await readOrCreate(join(dir, 'smtp-password'), password)).trim();
  for (const value of [host.privateKey, client.privateKey, apiPassword, apiToken, smtpPassword]) registerSecretValue(value);
  return { dir, host, client, apiPassword, apiToken, smtpPassword };
}
