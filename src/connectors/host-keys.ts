import { createHash, createHmac } from 'node:crypto';

/**
 * SSH host key identity: fingerprints as `ssh-keygen -l` prints them and known_hosts
 * lookups. Kept free of ssh2 so the configuration and `init` can use it cheaply.
 */

/** `SHA256:<base64 without padding>` of a raw public key blob, as ssh-keygen -l prints it. */
export function sha256Fingerprint(rawKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a raw public key blob (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256...). */
export function keyTypeOf(rawKey: Buffer): string {
  if (rawKey.length < 4) return 'unknown';
  const length = rawKey.readUInt32BE(0);
  if (length <= 0 || length > 64 || rawKey.length < 4 + length) return 'unknown';
  return rawKey.subarray(4, 4 + length).toString('latin1');
}

/** Fingerprint of an OpenSSH public key line ("ssh-ed25519 AAAA... comment"). */
export function fingerprintOfPublicKeyLine(line: string): string {
  const parts = line.trim().split(/\s+/);
  const blob = parts.find((part) => part.startsWith('AAAA'));
  if (!blob) throw new Error('not an OpenSSH public key line');
  return sha256Fingerprint(Buffer.from(blob, 'base64'));
}

/** Pads a fingerprint's base64 so both spellings (with or without "=") compare equal. */
export function normaliseFingerprint(fingerprint: string): string {
  return fingerprint.trim().replace(/=+$/, '');
}

/** The host field of known_hosts: plain for port 22, "[host]:port" otherwise. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matchesPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    // Hashed entry: |1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>.
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(name);
}

/** What a known_hosts file says about one host. */
export interface KnownHostKeys {
  /** Fingerprints of the keys listed for the host. */
  fingerprints: string[];
  /** Fingerprints marked @revoked: never accepted. */
  revoked: string[];
}

/**
 * Reads the keys a known_hosts text lists for host:port (plain and hashed names,
 * wildcards, negations, @revoked). @cert-authority lines are ignored: we pin keys.
 */
export function knownHostKeys(text: string, host: string, port: number): KnownHostKeys {
  const name = knownHostsName(host, port);
  const result: KnownHostKeys = { fingerprints: [], revoked: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]!.startsWith('@')) {
      marker = fields[0];
      fields = fields.slice(1);
    }
    if (marker === '@cert-authority' || fields.length < 3) continue;
    const patterns = fields[0]!.split(',');
    const negated = patterns.some((pattern) => pattern.startsWith('!') && matchesPattern(pattern.slice(1), name));
    const matched = !negated && patterns.some((pattern) => !pattern.startsWith('!') && matchesPattern(pattern, name));
    if (!matched) continue;
    let fingerprint: string;
    try {
      fingerprint = sha256Fingerprint(Buffer.from(fields[2]!, 'base64'));
    } catch {
      continue;
    }
    (marker === '@revoked' ? result.revoked : result.fingerprints).push(fingerprint);
  }
  return result;
}

/** The verdict on the key a server presented. */
export interface HostKeyVerdict {
  accepted: boolean;
  /** Fingerprint the server presented. */
  presented: string;
  /** Key type the server presented. */
  keyType: string;
  /** Why it was refused: not pinned anywhere, different from the pinned key(s), or revoked. */
  reason?: 'unknown' | 'changed' | 'revoked';
  /** Fingerprints that would have been accepted. */
  expected: string[];
}

/** Decides whether a presented raw host key matches the pinned fingerprints. */
export function verifyHostKey(rawKey: Buffer, pinned: string[], revoked: string[] = []): HostKeyVerdict {
  const presented = sha256Fingerprint(rawKey);
  const keyType = keyTypeOf(rawKey);
  const expected = [...new Set(pinned.map(normaliseFingerprint))];
  if (revoked.map(normaliseFingerprint).includes(presented)) return { accepted: false, presented, keyType, reason: 'revoked', expected };
  if (expected.length === 0) return { accepted: false, presented, keyType, reason: 'unknown', expected };
  if (!expected.includes(presented)) return { accepted: false, presented, keyType, reason: 'changed', expected };
  return { accepted: true, presented, keyType, expected };
}
