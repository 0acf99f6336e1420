import { createHash, createHmac } from 'node:crypto';
import { generateSshKey } from '../secrets/ssh-key.js';
import { describe, expect, it } from 'vitest';
import { fingerprintOfPublicKeyLine, keyTypeOf, knownHostKeys, sha256Fingerprint, verifyHostKey } from './host-keys.js';

const pair = { public: generateSshKey().publicKey };
const other = { public: generateSshKey().publicKey };
const blobOf = (line: string) => Buffer.from(line.split(' ')[1]!, 'base64');

describe('host key fingerprints', () => {
  it('prints SHA256:<base64 without padding> like ssh-keygen -l', () => {
    const raw = blobOf(pair.public);
    const expected = createHash('sha256').update(raw).digest('base64').replace(/=+$/, '');
    expect(sha256Fingerprint(raw)).toBe(`SHA256:${expected}`);
    expect(sha256Fingerprint(raw)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprintOfPublicKeyLine(pair.public)).toBe(sha256Fingerprint(raw));
    expect(keyTypeOf(raw)).toBe('ssh-ed25519');
  });

  it('accepts a pinned key (with or without "=" padding) and refuses unknown, changed and revoked ones', () => {
    const raw = blobOf(pair.public);
    const fingerprint = sha256Fingerprint(raw);
    expect(verifyHostKey(raw, [fingerprint]).accepted).toBe(true);
    expect(verifyHostKey(raw, [`${fingerprint}=`]).accepted).toBe(true);
    expect(verifyHostKey(raw, [])).toMatchObject({ accepted: false, reason: 'unknown', presented: fingerprint });
    expect(verifyHostKey(raw, [fingerprintOfPublicKeyLine(other.public)])).toMatchObject({ accepted: false, reason: 'changed' });
    expect(verifyHostKey(raw, [fingerprint], [fingerprint])).toMatchObject({ accepted: false, reason: 'revoked' });
  });
});

describe('knownHostKeys', () => {
  const key = pair.public.split(' ').slice(0, 2).join(' ');
  const fingerprint = fingerprintOfPublicKeyLine(pair.public);

  it('matches plain names, [host]:port, wildcards and hashed names', () => {
    expect(knownHostKeys(`sftp.example.com,10.0.0.5 ${key}`, 'sftp.example.com', 22).fingerprints).toEqual([fingerprint]);
    expect(knownHostKeys(`sftp.example.com ${key}`, 'sftp.example.com', 2222).fingerprints).toEqual([]);
    expect(knownHostKeys(`[sftp.example.com]:2222 ${key}`, 'sftp.example.com', 2222).fingerprints).toEqual([fingerprint]);
    expect(knownHostKeys(`*.example.com ${key}`, 'sftp.example.com', 22).fingerprints).toEqual([fingerprint]);
    expect(knownHostKeys(`*.example.com,!sftp.example.com ${key}`, 'sftp.example.com', 22).fingerprints).toEqual([]);
    const salt = Buffer.from('0123456789abcdefghij');
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('sftp.example.com').digest('base64')}`;
    expect(knownHostKeys(`# comment\n\n${hashed} ${key}\n`, 'sftp.example.com', 22).fingerprints).toEqual([fingerprint]);
  });

  it('collects @revoked keys apart and ignores @cert-authority lines', () => {
    const result = knownHostKeys(`@revoked sftp.example.com ${key}\n@cert-authority *.example.com ${key}\n`, 'sftp.example.com', 22);
    expect(result).toEqual({ fingerprints: [], revoked: [fingerprint] });
  });
});
