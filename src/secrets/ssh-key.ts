import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** A freshly generated ed25519 key pair, in the files OpenSSH reads. */
export interface GeneratedSshKey {
  /** Unencrypted private key, `-----BEGIN OPENSSH PRIVATE KEY-----` armour. */
  privateKey: string;
  /** `ssh-ed25519 AAAA... comment`, one line, as in a `.pub` or authorized_keys file. */
  publicKey: string;
  /** The public key blob (`string "ssh-ed25519"`, `string key`) that fingerprints are taken of. */
  publicBlob: Buffer;
}

const KEY_TYPE = 'ssh-ed25519';

/** An SSH wire `string`: uint32 big-endian length, then the bytes. */
function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}

/**
 * Generates an ed25519 key pair with node:crypto and writes it in OpenSSH's own
 * `openssh-key-v1` format (PROTOCOL.key in OpenSSH's sources).
 *
 * Why not `ssh2.utils.generateKeyPairSync`: ssh2 1.17 strips leading zero bytes from the
 * public key, so about one key in 256 is written in a form its own parser rejects
 * (ssh2 issues #1390, #1513, #1514). Here both 32-byte halves are always written whole.
 */
export function generateSshKey(comment = ''): GeneratedSshKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const publicKey = Buffer.from(jwk.x!, 'base64url');
  if (seed.length !== 32 || publicKey.length !== 32) throw new Error('node:crypto returned an ed25519 key of unexpected size');

  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);
  // The two equal check integers let a reader tell a wrong passphrase; random, as ssh-keygen does.
  const check = randomBytes(4).readUInt32BE();
  const secret = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(KEY_TYPE),
    sshString(publicKey),
    // OpenSSH keeps the 32-byte seed followed by the 32-byte public key.
    sshString(Buffer.concat([seed, publicKey])),
    sshString(comment),
  ]);
  // Unencrypted keys are padded to the cipher block size of "none", 8, with bytes 1, 2, 3...
  const padLength = (8 - (secret.length % 8)) % 8;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, index) => index + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    uint32(1), // number of keys
    sshString(publicBlob),
    sshString(Buffer.concat([secret, padding])),
  ]);
  const base64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${base64}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `${KEY_TYPE} ${publicBlob.toString('base64')}${comment ? ` ${comment}` : ''}`,
    publicBlob,
  };
}
