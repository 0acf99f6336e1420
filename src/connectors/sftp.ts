import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP, Socket } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, posix, resolve } from 'node:path';
import ssh2, { type Algorithms, type ConnectConfig } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { ConfigError, DataError, DataprodError, TerminalError, TransientError, TryLaterError } from '../errors.js';
import { registerSecretValue } from '../log.js';
import {
  baseDirectory,
  elapsed,
  fillDirectoryTemplate,
  forEachLimited,
  hasUnsafeSegment,
  isTemporaryUploadName,
  listPackageUploads,
  parseSha256Sums,
  probeFileName,
  SUMS_FILE,
  temporaryUploadName,
  type PackageUpload,
} from './delivery.js';
import { knownHostKeys, verifyHostKey, type HostKeyVerdict } from './host-keys.js';
import type { SftpOptions } from './options.js';
import { retryOptionsFrom, withRetry } from './retry.js';
import type { CheckResult, Connector, ConnectorContext, DeliveredFile, DeliveryReceipt } from './types.js';
import type { OutboxPackage } from '../render/package.js';

/** Type name in the partner file (`type: sftp`). */
export const SFTP_CONNECTOR = 'sftp';

/** How long `end()` may take before the socket is destroyed. */
const END_TIMEOUT_MS = 5_000;
/** Mode of delivered files (ssh2 would ask for 0666: world-writable on the partner's server). */
const FILE_MODE = 0o644;
/** A remote SHA256SUMS larger than this is not ours: never read it. */
const MAX_SUMS_BYTES = 1024 * 1024;
/** Slowest upload rate we wait for before calling a transfer stalled (bytes per second). */
const MIN_UPLOAD_RATE = 32 * 1024;
/**
 * Stream buffers of `put`, chosen by measurement against OpenSSH on loopback (1 GiB file,
 * TCP no-delay set): 64 KiB reads into ssh2's 16 KiB write buffer gave 130-155 MB/s,
 * 256 KiB / 1 MiB 180-250 MB/s, 1 MiB / 4 MiB 190-275 MB/s. The write buffer holding
 * several read chunks is what keeps more than one WRITE request in flight.
 */
const READ_CHUNK_BYTES = 1024 * 1024;
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
// highWaterMark reaches fs.createReadStream and ssh2's write stream; the type declarations omit it.
const PUT_OPTIONS = {
  readStreamOptions: { highWaterMark: READ_CHUNK_BYTES },
  writeStreamOptions: { mode: FILE_MODE, highWaterMark: WRITE_BUFFER_BYTES },
} as SftpClient.TransferOptions;

/**
 * Algorithms removed unless `allow_weak_algorithms`: SHA-1 key exchange, ssh-rsa (RSA
 * with SHA-1) and DSA host keys, CBC and RC4 ciphers, SHA-1/MD5/truncated MACs. RSA host
 * keys still work through rsa-sha2-256/512.
 */
const WEAK_ALGORITHMS = {
  kex: [/-sha1$/],
  serverHostKey: ['ssh-rsa', 'ssh-dss'],
  cipher: [/-cbc$/, /^arcfour/],
  hmac: [/sha1/, /md5/, /-96$/],
};

/** ssh2 `algorithms` for a connection: weak ones removed, or appended back when allowed. */
export function sshAlgorithms(allowWeak: boolean): Algorithms {
  const operation = allowWeak ? 'append' : 'remove';
  const algorithms = Object.fromEntries(Object.entries(WEAK_ALGORITHMS).map(([kind, list]) => [kind, { [operation]: list }]));
  // ssh2 accepts RegExp entries in append/remove; its type declarations do not say so.
  return algorithms as unknown as Algorithms;
}

/** Where a failure happened, for the one-line message. */
interface FailureScope {
  destination: string;
  host: string;
  port: number;
  /** What we were doing: "connecting", "uploading daily.csv", ... */
  action: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Turns what ssh2 / ssh2-sftp-client throw into our classes, where they enter our code:
 * network trouble is transient (69), refused authentication or permission terminal (77),
 * an unknown host name terminal (69, with a DNS hint).
 */
export function classifySftpError(error: unknown, scope: FailureScope): DataprodError {
  if (error instanceof DataprodError) return error;
  const message = messageOf(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  const level = (error as { level?: unknown } | undefined)?.level;
  const where = `sftp ${scope.destination} (${scope.host}:${scope.port})`;
  const text = `${where}: ${scope.action}: ${message.replace(/^([\w-]+: )+/, '')}`;

  if (code === 'ENOTFOUND' || level === 'client-dns') {
    return new TerminalError(`${where}: host name not found`, { exitCode: 69, cause: error, hint: `check host: in the partner file and this machine's DNS (try: getent hosts ${scope.host})` });
  }
  if (/All configured authentication methods failed/i.test(message) || level === 'client-authentication') {
    return new TerminalError(`${where}: authentication refused`, {
      exitCode: 77,
      cause: error,
      hint: 'check username: and that the partner installed the public half of the sftp-private-key secret in authorized_keys',
    });
  }
  if (code === 3 || /permission denied/i.test(message)) {
    return new TerminalError(`${where}: permission denied while ${scope.action}`, {
      exitCode: 77,
      cause: error,
      hint: 'ask the partner to give this user write access there, or change directory: in the partner file',
    });
  }
  if (/no matching .* (algorithm|cipher|key)|Handshake failed/i.test(message)) {
    return new TerminalError(`${text}`, {
      exitCode: 69,
      cause: error,
      hint: 'the server offers only algorithms we refuse (SHA-1, CBC...): ask the partner to upgrade it, or set allow_weak_algorithms: true for this destination',
    });
  }
  const transientCodes = ['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_NOT_CONNECTED'];
  if (
    (typeof code === 'string' && transientCodes.includes(code)) ||
    code === 6 /* NO_CONNECTION */ ||
    code === 7 /* CONNECTION_LOST */ ||
    level === 'client-timeout' ||
    level === 'client-socket' ||
    /No response from server|Unexpected (end|close) event|No SFTP connection|channel (closed|open failure)|not connected|connection (lost|closed|reset)|socket hang up|Timed out|keepalive/i.test(message)
  ) {
    return new TransientError(text, { exitCode: 69, cause: error, hint: 'the connection failed; it is retried, and a later run resumes where this one stopped' });
  }
  if (code === 2 || /No such file/i.test(message)) {
    return new TerminalError(text, { exitCode: 69, cause: error, hint: 'check directory: in the partner file' });
  }
  return new TerminalError(text, { exitCode: 69, cause: error, hint: 'see the cause above; rerun with --verbose for details' });
}

/** The refusal of an unknown, changed or revoked host key: prints what the server presented and how to pin it. */
function hostKeyError(verdict: HostKeyVerdict, options: SftpOptions, partner: string): TerminalError {
  const where = `sftp ${options.name} (${options.host}:${options.port})`;
  const pin = `host_fingerprints: ["${verdict.presented}"] under destination ${options.name} in the partner file, or run dataprod init --partner ${partner} --sftp-fingerprint ${verdict.presented}`;
  if (verdict.reason === 'unknown') {
    return new TerminalError(`${where}: host key not pinned, refused; the server presented ${verdict.keyType} ${verdict.presented}`, {
      exitCode: 77,
      hint: `confirm this fingerprint with the partner out of band, then pin it: ${pin}`,
    });
  }
  const expected = verdict.expected.join(', ');
  return new TerminalError(
    verdict.reason === 'revoked'
      ? `${where}: host key is revoked in known_hosts, refused; the server presented ${verdict.keyType} ${verdict.presented}`
      : `${where}: host key CHANGED, refused; the server presented ${verdict.keyType} ${verdict.presented}, the configuration pins ${expected}`,
    { exitCode: 77, hint: `this may be an attack or a reinstalled server: confirm the new key with the partner before replacing the pin: ${pin}` },
  );
}

/** What a connection attempt saw, so check() can report each stage separately. */
interface ConnectObservation {
  /** performance.now() when the host key was verified. */
  hostKeyAt?: number;
  verdict?: HostKeyVerdict;
  /** The credentials could not be resolved (the ConfigError to report at the auth stage). */
  credentialsError?: DataprodError;
}

function remotePath(path: string): string {
  const normalised = posix.normalize(path);
  return normalised.length > 1 ? normalised.replace(/\/+$/, '') : normalised;
}

function interruption(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new TryLaterError('interrupted during delivery', { hint: 'run it again: delivery resumes where it stopped' });
}

/** How one file went: its transfer figures, or that it was already at the destination. */
type UploadOutcome = Pick<DeliveredFile, 'ms' | 'mb_per_s' | 'verified'>;

/**
 * The partner's SFTP server (ssh2-sftp-client): key auth, a pinned host key, weak
 * algorithms off, and atomic delivery (temporary name, size check, posix-rename).
 * A new connection per attempt with TCP no-delay (without it, each 64 KiB write waits
 * for a delayed ACK: 1.8 MB/s); the data files of a package go up a few at a time over
 * that connection, then manifest.json, then SHA256SUMS. Every operation is timed out.
 */
export function createSftpConnector(options: SftpOptions, context: ConnectorContext): Connector {
  if (hasUnsafeSegment(options.directory.replace(/\{(partner|report|period)\}/g, 'x'))) {
    throw new ConfigError(`destination ${options.name}: directory "${options.directory}" may only use {partner}, {report} and {period} and no ".."`, {
      hint: 'e.g. directory: /inbound/{report}/{period}/',
    });
  }
  if (options.auth === 'password' && !options.password_secret) {
    throw new ConfigError(`destination ${options.name}: auth: password needs password_secret`, { hint: 'name the secret holding the password, e.g. password_secret: sftp-password' });
  }
  const scope = (action: string): FailureScope => ({ destination: options.name, host: options.host, port: options.port, action });
  let credentialsPromise: Promise<Partial<ConnectConfig>> | undefined;

  /** Resolves and validates the key (or password) once per connector. */
  function credentials(): Promise<Partial<ConnectConfig>> {
    credentialsPromise ??= (async () => {
      if (options.auth === 'password') {
        const password = await context.secret(options.password_secret!);
        registerSecretValue(password);
        return { password, authHandler: ['password'] };
      }
      const privateKey = await context.secret(options.private_key_secret);
      registerSecretValue(privateKey);
      const passphrase = options.passphrase_secret ? await context.secret(options.passphrase_secret) : undefined;
      if (passphrase) registerSecretValue(passphrase);
      const parsed = ssh2.utils.parseKey(privateKey, passphrase);
      if (parsed instanceof Error) {
        const encrypted = /encrypted|passphrase/i.test(parsed.message);
        throw new ConfigError(`secret ${options.private_key_secret} of partner ${context.partner} is not a usable private key: ${parsed.message}`, {
          hint: encrypted
            ? `the key is encrypted: store its passphrase (dataprod secrets set --partner ${context.partner} sftp-key-passphrase) and set passphrase_secret: sftp-key-passphrase`
            : `store an OpenSSH private key: dataprod secrets set --partner ${context.partner} ${options.private_key_secret} --from-file ~/.ssh/id_ed25519`,
        });
      }
      return { privateKey, passphrase, authHandler: ['publickey'] };
    })();
    // A failed lookup is retried next time (the person may have just set the secret).
    credentialsPromise.catch(() => (credentialsPromise = undefined));
    return credentialsPromise;
  }

  async function pinnedKeys(): Promise<{ pinned: string[]; revoked: string[] }> {
    const pinned = [...options.host_fingerprints];
    const revoked: string[] = [];
    if (options.known_hosts) {
      const path = options.known_hosts.startsWith('~/') ? resolve(homedir(), options.known_hosts.slice(2)) : isAbsolute(options.known_hosts) ? options.known_hosts : resolve(context.home, options.known_hosts);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new ConfigError(`destination ${options.name}: known_hosts file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`, {
          hint: 'fix known_hosts: in the partner file, or pin host_fingerprints: instead',
        });
      }
      const keys = knownHostKeys(text, options.host, options.port);
      pinned.push(...keys.fingerprints);
      revoked.push(...keys.revoked);
    }
    return { pinned, revoked };
  }

  /** Runs one SFTP operation with a time limit; on timeout the connection is destroyed. */
  async function timed<T>(client: SftpClient, action: string, operation: () => Promise<T>, ms = options.operation_timeout_ms): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        destroy(client);
        reject(new TransientError(`sftp ${options.name} (${options.host}:${options.port}): no response from server after ${ms} ms while ${action}`, { exitCode: 69 }));
      }, ms);
    });
    try {
      return await Promise.race([operation(), timeout]);
    } catch (error) {
      throw classifySftpError(error, scope(action));
    } finally {
      clearTimeout(timer);
    }
  }

  function destroy(client: SftpClient): void {
    (client as unknown as { client?: { destroy(): void } }).client?.destroy();
  }

  /** end() with a time limit; a connection that hangs on close is destroyed. */
  async function closeClient(client: SftpClient): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ended = client.end().then(
      () => true,
      () => false,
    );
    const late = new Promise<boolean>((resolveLate) => (timer = setTimeout(() => resolveLate(false), END_TIMEOUT_MS)));
    const clean = await Promise.race([ended, late]);
    clearTimeout(timer);
    if (!clean) destroy(client);
  }

  /** A new authenticated connection; the observation records what check() reports. */
  async function connect(observation: ConnectObservation = {}): Promise<SftpClient> {
    const { pinned, revoked } = await pinnedKeys();
    let auth: Partial<ConnectConfig>;
    try {
      auth = await credentials();
    } catch (error) {
      if (!(error instanceof DataprodError)) throw error;
      // Still connect, so the host key is checked (and reported) without credentials.
      observation.credentialsError = error;
      auth = { authHandler: [] };
    }
    const client = new SftpClient(`dataprod-${options.name}`, {
      // Errors outside an operation (a reset while idle) only matter to the next operation,
      // which fails on its own; log them instead of letting the library print to the console.
      error: (error) => context.logger.debug(`sftp ${options.name}: ${messageOf(error)}`),
      end: () => undefined,
      close: () => undefined,
    });
    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.username,
      readyTimeout: options.connect_timeout_ms,
      keepaliveInterval: options.keepalive_interval_ms,
      keepaliveCountMax: 3,
      algorithms: sshAlgorithms(options.allow_weak_algorithms),
      // Mandatory: without a hostVerifier ssh2 accepts any host key.
      hostVerifier: (key: Buffer): boolean => {
        observation.hostKeyAt = performance.now();
        observation.verdict = verifyHostKey(key, pinned, revoked);
        return observation.verdict.accepted;
      },
      ...auth,
    };
    try {
      await timed(client, 'connecting', () => client.connect(config), options.connect_timeout_ms + 2_000);
      // SFTP is request and response: Nagle's algorithm holds each request back until the
      // previous one is acknowledged, and delayed ACKs make that 40 ms.
      (client as unknown as { client: ssh2.Client }).client.setNoDelay(true);
    } catch (error) {
      destroy(client);
      if (observation.verdict && !observation.verdict.accepted) throw hostKeyError(observation.verdict, options, context.partner);
      if (observation.credentialsError) throw observation.credentialsError;
      throw error;
    }
    if (observation.credentialsError) {
      await closeClient(client);
      throw observation.credentialsError;
    }
    return client;
  }

  /** mkdir -p, one level at a time so a refusal names the level. */
  async function makeDirectory(client: SftpClient, dir: string): Promise<void> {
    const missing: string[] = [];
    for (let current = dir; ; current = posix.dirname(current)) {
      const type = await timed(client, `looking at ${current}`, () => client.exists(current));
      if (type === 'd') break;
      if (type) throw new TerminalError(`sftp ${options.name} (${options.host}:${options.port}): ${current} exists and is not a directory`, { exitCode: 69, hint: 'check directory: in the partner file' });
      missing.unshift(current);
      if (posix.dirname(current) === current) break;
    }
    for (const path of missing) {
      await timed(client, `creating ${path}`, () => client.mkdir(path, false)).catch(async (error: unknown) => {
        // Another process may have created it in the meantime.
        if ((await timed(client, `looking at ${path}`, () => client.exists(path))) !== 'd') throw error;
      });
    }
  }

  /** Uploads under a temporary name, checks the size, renames into place; removes the temporary file on failure. */
  async function uploadFile(client: SftpClient, dir: string, upload: PackageUpload): Promise<UploadOutcome> {
    const temporary = posix.join(dir, temporaryUploadName(upload.name));
    const final = posix.join(dir, upload.name);
    try {
      const transferMs = options.operation_timeout_ms + Math.ceil((upload.bytes / MIN_UPLOAD_RATE) * 1000);
      const started = performance.now();
      const hash = upload.hashWhileSending && !options.fast_put ? createHash('sha256') : undefined;
      // The same chunks go to the hash and to the pipe; the pipe's backpressure pauses both.
      const source = hash ? createReadStream(upload.path, { highWaterMark: READ_CHUNK_BYTES }).on('data', (chunk) => hash.update(chunk as Buffer)) : undefined;
      try {
        await timed(
          client,
          `uploading ${upload.name}`,
          () => (options.fast_put ? client.fastPut(upload.path, temporary, { mode: FILE_MODE }) : client.put(source ?? upload.path, temporary, PUT_OPTIONS)),
          transferMs,
        );
      } finally {
        // ssh2-sftp-client closes only the streams it opened itself.
        source?.destroy();
      }
      const ms = performance.now() - started;
      if (hash && hash.digest('hex') !== upload.sha256) {
        throw new DataError(`${upload.path} changed since it was built (its SHA-256 differs from the manifest's); not put in place`, { hint: 'rebuild the package with dataprod build' });
      }
      const remote = await timed(client, `checking the size of ${upload.name}`, () => client.stat(temporary));
      if (remote.size !== upload.bytes) {
        throw new TransientError(`sftp ${options.name}: ${upload.name} arrived with ${remote.size} of ${upload.bytes} bytes`, { exitCode: 69 });
      }
      try {
        await timed(client, `renaming ${upload.name} into place`, () => client.posixRename(temporary, final));
      } catch (error) {
        if (!/does not support this extended request|OP_UNSUPPORTED|not supported/i.test(messageOf((error as Error).cause ?? error))) throw error;
        // Plain SFTP rename refuses an existing target: remove it first (the file is briefly
        // absent, never partial).
        await timed(client, `replacing ${upload.name}`, () => client.delete(final, true));
        await timed(client, `renaming ${upload.name} into place`, () => client.rename(temporary, final));
      }
      return { ms: Math.round(ms), mb_per_s: Number(((upload.bytes / 1e6) * (1000 / Math.max(ms, 0.001))).toPrecision(3)), verified: 'size' };
    } catch (error) {
      await timed(client, `removing ${temporary}`, () => client.delete(temporary, true), 5_000).catch(() => undefined);
      throw error;
    }
  }

  /** How many files go up at once: the option, within the open handles the server allows (limits@openssh.com). */
  function uploadLanes(client: SftpClient): number {
    const handles = (client as unknown as { sftp?: { maxOpenHandles?: number } }).sftp?.maxOpenHandles;
    // One handle stays free for the listing, stat and rename calls beside the uploads.
    return typeof handles === 'number' && handles > 0 ? Math.max(1, Math.min(options.concurrency, handles - 1)) : options.concurrency;
  }

  /** One delivery attempt on a fresh connection; `done` carries files finished by earlier attempts, with how each went. */
  async function deliverOnce(dir: string, uploads: PackageUpload[], done: Map<string, UploadOutcome>): Promise<void> {
    const client = await connect();
    try {
      await makeDirectory(client, dir);
      const listing = await timed(client, `listing ${dir}`, () => client.list(dir));
      const sizes = new Map(listing.filter((entry) => entry.type === '-').map((entry) => [entry.name, entry.size]));
      for (const entry of listing) {
        if (uploads.some((upload) => isTemporaryUploadName(entry.name, upload.name))) {
          await timed(client, `removing a leftover ${entry.name}`, () => client.delete(posix.join(dir, entry.name), true)).catch(() => undefined);
        }
      }
      // What is already there: a file is skipped when its size matches and the SHA256SUMS
      // already delivered lists the same hash (size alone cannot tell a corrected file).
      let remoteSums: Map<string, string> | undefined;
      let remoteSumsHash: string | undefined;
      const sumsSize = sizes.get(SUMS_FILE);
      if (sumsSize !== undefined && sumsSize <= MAX_SUMS_BYTES) {
        const content = (await timed(client, `reading ${SUMS_FILE}`, () => client.get(posix.join(dir, SUMS_FILE)))) as Buffer;
        remoteSums = parseSha256Sums(content.toString('utf8'));
        remoteSumsHash = createHash('sha256').update(content).digest('hex');
      }
      const send = async (upload: PackageUpload): Promise<void> => {
        if (context.signal?.aborted) throw interruption(context.signal);
        if (done.has(upload.name)) return;
        const sameSize = sizes.get(upload.name) === upload.bytes;
        const sameContent = upload.name === SUMS_FILE ? remoteSumsHash === upload.sha256 : remoteSums?.get(upload.name) === upload.sha256;
        if (sameSize && sameContent) {
          context.logger.debug(`sftp ${options.name}: ${upload.name} already delivered, skipped`);
          done.set(upload.name, { verified: 'already-delivered' });
        } else {
          const outcome = await uploadFile(client, dir, upload);
          context.logger.debug(`sftp ${options.name}: ${upload.name} delivered to ${dir} (${outcome.mb_per_s} MB/s)`);
          done.set(upload.name, outcome);
        }
      };
      // Data files side by side; manifest.json and SHA256SUMS (the last two) only once every
      // data file is in place, so a partner that sees the manifest sees complete files.
      await forEachLimited(uploads.slice(0, -2), uploadLanes(client), send);
      for (const upload of uploads.slice(-2)) await send(upload);
    } finally {
      await closeClient(client);
    }
  }

  return {
    name: options.name,
    type: SFTP_CONNECTOR,

    async check(): Promise<CheckResult[]> {
      const results: CheckResult[] = [];
      const failed = (check: string, start: number, error: DataprodError): CheckResult[] => {
        results.push({ check, ok: false, ms: elapsed(start), detail: error.message, hint: error.hint, exitCode: error.exitCode });
        return results;
      };

      let start = performance.now();
      if (isIP(options.host)) {
        results.push({ check: 'dns', ok: true, ms: 0, detail: `${options.host} is an IP address` });
      } else {
        try {
          const addresses = await lookup(options.host, { all: true });
          results.push({ check: 'dns', ok: true, ms: elapsed(start), detail: `${options.host} -> ${addresses.map((entry) => entry.address).join(', ')}` });
        } catch (error) {
          return failed('dns', start, classifySftpError(error, scope('resolving the host name')));
        }
      }

      start = performance.now();
      try {
        const banner = await probeTcp(options.host, options.port, options.connect_timeout_ms);
        results.push({ check: 'tcp', ok: true, ms: elapsed(start), detail: `connected to ${options.host}:${options.port}${banner ? `, server says ${banner}` : ''}` });
      } catch (error) {
        const classified = classifySftpError(error, scope('connecting'));
        return failed('tcp', start, Object.assign(classified, { hint: classified.hint ?? 'check host: and port: in the partner file, and any firewall in between' }));
      }

      start = performance.now();
      const observation: ConnectObservation = {};
      let client: SftpClient | undefined;
      try {
        client = await connect(observation);
      } catch (error) {
        const classified = error instanceof DataprodError ? error : classifySftpError(error, scope('connecting'));
        if (!observation.verdict) return failed('ssh', start, classified);
        const hostKeyMs = Math.round(observation.hostKeyAt! - start);
        if (!observation.verdict.accepted) {
          results.push({ check: 'host-key', ok: false, ms: hostKeyMs, detail: classified.message, hint: classified.hint, exitCode: classified.exitCode });
          return results;
        }
        results.push({ check: 'host-key', ok: true, ms: hostKeyMs, detail: `${observation.verdict.keyType} ${observation.verdict.presented} matches the pin` });
        return failed('auth', observation.hostKeyAt!, classified);
      }
      const verdict = observation.verdict!;
      results.push({ check: 'host-key', ok: true, ms: Math.round(observation.hostKeyAt! - start), detail: `${verdict.keyType} ${verdict.presented} matches the pin` });
      results.push({
        check: 'auth',
        ok: true,
        ms: elapsed(observation.hostKeyAt!),
        detail: `${options.username} authenticated with ${options.auth === 'password' ? 'a password' : `the key in secret ${options.private_key_secret}`}`,
      });

      start = performance.now();
      try {
        const base = remotePath(baseDirectory(options.directory, context.partner) || '.');
        let existing = base;
        for (;;) {
          const type = await timed(client, `looking at ${existing}`, () => client!.exists(existing));
          if (type === 'd') break;
          if (type) throw new TerminalError(`${existing} exists and is not a directory`, { exitCode: 78, hint: 'fix directory: in the partner file' });
          const parent = posix.dirname(existing);
          if (parent === existing) break;
          existing = parent;
        }
        const probe = posix.join(existing, probeFileName());
        try {
          await timed(client, `writing a probe file in ${existing}`, () => client!.put(Buffer.from('dataprod test-connection probe\n'), probe));
        } catch (error) {
          const classified = classifySftpError(error, scope(`writing a probe file in ${existing}`));
          if (classified.exitCode === 77) {
            throw new TerminalError(`cannot write in ${existing} on ${options.host}: permission denied`, {
              exitCode: 77,
              hint: `ask the partner to give ${options.username} write access to ${existing}, or change directory: in the partner file`,
            });
          }
          throw classified;
        }
        await timed(client, `removing the probe file ${probe}`, () => client!.delete(probe, true));
        results.push({
          check: 'permission',
          ok: true,
          ms: elapsed(start),
          detail: existing === base ? `wrote and removed a probe file in ${base}` : `wrote and removed a probe file in ${existing} (${base} will be created on delivery)`,
        });
      } catch (error) {
        failed('permission', start, classifySftpError(error, scope('checking write permission')));
      } finally {
        await closeClient(client);
      }
      return results;
    },

    async deliver(pkg: OutboxPackage): Promise<DeliveryReceipt> {
      const uploads = await listPackageUploads(pkg, { hashWhileSending: !options.fast_put });
      const { partner, report, period } = pkg.manifest;
      const dir = remotePath(fillDirectoryTemplate(options.directory, { partner, report, period }));
      const done = new Map<string, UploadOutcome>();
      let retries = 0;
      await withRetry(
        () => deliverOnce(dir, uploads, done),
        retryOptionsFrom(options.retry, {
          signal: context.signal,
          onRetry: ({ attempt, delayMs, error }) => {
            retries += 1;
            context.logger.warn(`sftp ${options.name}: attempt ${attempt} failed (${error.message}); retrying in ${delayMs} ms`);
          },
        }),
      );
      return {
        destination: options.name,
        type: SFTP_CONNECTOR,
        location: `sftp://${options.username}@${options.host}${options.port === 22 ? '' : `:${options.port}`}${dir.startsWith('/') ? '' : '/~/'}${dir}`,
        files: uploads.map(({ name, bytes, sha256 }) => ({ name, bytes, sha256, ...done.get(name) })),
        bytes: uploads.reduce((sum, upload) => sum + upload.bytes, 0),
        retries,
      };
    },

    async close(): Promise<void> {
      // Every attempt opens and closes its own connection: nothing is held between calls.
    },
  };
}

/** Opens a TCP connection and returns the SSH banner line if one arrives soon after. */
function probeTcp(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolvePromise, reject) => {
    const socket = new Socket();
    let buffered = '';
    let timer: NodeJS.Timeout;
    const finish = (error?: Error, banner?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolvePromise(banner);
    };
    timer = setTimeout(() => finish(Object.assign(new Error(`no TCP connection to ${host}:${port} after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const newline = buffered.indexOf('\n');
      if (newline !== -1) finish(undefined, buffered.slice(0, newline).trim().slice(0, 80));
    });
    socket.connect(port, host, () => {
      // Connected: wait briefly for the banner, which SSH servers send first.
      clearTimeout(timer);
      timer = setTimeout(() => finish(undefined, undefined), Math.min(timeoutMs, 3_000));
    });
  });
}
