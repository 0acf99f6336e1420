import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateSshKey } from './ssh-key.js';

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // ssh-keygen -? prints usage and exits 1; only a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

describe('generateSshKey', () => {
  it('writes 5,000 keys that ssh2 parses, whose halves match and sign', () => {
    const message = Buffer.from('dataprod');
    for (let index = 0; index < 5000; index += 1) {
      const key = generateSshKey(`key-${index}`);
      const parsed = ssh2.utils.parseKey(key.privateKey);
      if (parsed instanceof Error) throw new Error(`key ${index} did not parse: ${parsed.message}\n${key.privateKey}`);
      expect(parsed.type).toBe('ssh-ed25519');
      expect(parsed.comment).toBe(`key-${index}`);
      expect(parsed.getPublicSSH().equals(key.publicBlob)).toBe(true);
      const publicParsed = ssh2.utils.parseKey(key.publicKey);
      if (publicParsed instanceof Error) throw new Error(`public key ${index} did not parse: ${publicParsed.message}`);
      expect(publicParsed.getPublicSSH().equals(key.publicBlob)).toBe(true);
      // Every hundredth key also proves the private half belongs to the public one.
      if (index % 100 === 0) {
        const signature = parsed.sign(message);
        if (signature instanceof Error) throw signature;
        expect(parsed.verify(message, signature)).toBe(true);
        const raw = key.publicBlob.subarray(key.publicBlob.length - 32);
        const spki = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
        expect(verify(null, message, spki, signature)).toBe(true);
      }
    }
  });

  it.skipIf(!hasSshKeygen())('writes keys that ssh-keygen -y reads back to the same public key (skipped without ssh-keygen)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataprod-sshkey-'));
    try {
      for (let index = 0; index < 50; index += 1) {
        const key = generateSshKey(`key-${index}`);
        const path = join(dir, `id_${index}`);
        writeFileSync(path, key.privateKey, { mode: 0o600 });
        const derived = execFileSync('ssh-keygen', ['-y', '-f', path], { encoding: 'utf8' }).trim().split(' ');
        expect(`${derived[0]} ${derived[1]}`).toBe(key.publicKey.split(' ').slice(0, 2).join(' '));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the comment out of the public line when there is none', () => {
    expect(generateSshKey().publicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+$/);
  });
});
