import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ConfigError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../lake/atomic.js';
import { generatedSecretPath, sandboxDir } from '../lake/layout.js';
import { registerSecretValue } from '../log.js';
import { readLedger, recordKeyRotation } from '../records/ledger.js';
import { findSecret, secretEnvName, type SecretLookupOptions, type SecretSource } from './index.js';

/** A pseudonymization key must decode to at least this many bytes (256 bits). */
export const MIN_KEY_BYTES = 32;

/** Random bytes of one decoded key hold far more distinct values; fewer means a pattern, not a key. */
const MIN_DISTINCT_BYTES = 16;

/**
 * The key's bytes: hex when the text is only hex digits, else base64/base64url when it
 * is only that alphabet, else the UTF-8 bytes as written. `openssl rand -hex 32` and
 * `openssl rand -base64 32` both give 32 bytes.
 */
export function decodeKey(value: string): Buffer {
  const text = value.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) && text.replace(/=+$/, '').length % 4 !== 1) return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return Buffer.from(value, 'utf8');
}

/**
 * Refuses (ConfigError, exit 78) a key that is empty, whitespace, shorter than 32 decoded
 * bytes or a visible pattern: an HMAC under a guessable key is no pseudonym, since every
 * customer id can be tried. `where` names the source, never the value.
 */
export function checkPseudonymKey(value: string, where: string, partner: string): string {
  const fix = `create a random one with: dataprod secrets rotate-key --partner ${partner} (or store the output of \`openssl rand -base64 32\`)`;
  if (value.trim().length === 0) throw new ConfigError(`the pseudonymization key of partner ${partner} in ${where} is empty or only whitespace`, { hint: fix });
  const bytes = decodeKey(value);
  if (bytes.length < MIN_KEY_BYTES) {
    throw new ConfigError(`the pseudonymization key of partner ${partner} in ${where} has ${bytes.length} bytes; at least ${MIN_KEY_BYTES} random bytes are needed`, { hint: fix });
  }
  if (new Set(bytes).size < MIN_DISTINCT_BYTES) {
    throw new ConfigError(`the pseudonymization key of partner ${partner} in ${where} is a repeated pattern, not random bytes`, { hint: fix });
  }
  return value;
}

/** `<home>/_meta/secrets/<partner>-<name>`: where `rotate-key` keeps the key (mode 600). */
export function pseudonymKeyFile(home: string, partner: string, name: string): string {
  return generatedSecretPath(home, partner, name);
}

/** `<home>/sandbox/keys/<partner>-pseudonym-key`: the sandbox's own key, never a production one. */
export function sandboxPseudonymKeyFile(home: string, partner: string): string {
  return sandboxDir(home, 'keys', `${partner}-pseudonym-key`);
}

function readKeyFile(path: string): string {
  const stats = statSync(path);
  if ((stats.mode & 0o077) !== 0) {
    throw new ConfigError(`${path} (the pseudonymization key) is readable by group or others (mode ${(stats.mode & 0o777).toString(8)})`, { hint: `run: chmod 600 ${path}` });
  }
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/** A short public id of a key (not the key): recorded with a rotation, shown by `secrets list`. */
export function keyId(key: string): string {
  return createHmac('sha256', key).update('dataprod key id').digest('hex').slice(0, 12);
}

/** Ledger lines that show the partner received something (delivered, or built past its gates). */
async function hasDelivered(home: string, partner: string, loopbackOnly = false): Promise<boolean> {
  const loopback = /^[a-z]+:\/\/(?:[^@/]*@)?(?:127\.0\.0\.1|localhost|\[::1\])[:/]/;
  return (await readLedger(home, partner)).some((entry) =>
    loopbackOnly ? entry.kind === 'delivered' && loopback.test(entry.location ?? '') : entry.kind === 'delivered' || entry.kind === 'built',
  );
}

export interface PseudonymKeyOptions extends SecretLookupOptions {
  partner: string;
  /** Secret name (config privacy.pseudonymization_secret). */
  name: string;
  home: string;
  /** A run against the sandbox: the sandbox's own key, created with a fresh sandbox. */
  sandbox?: boolean;
  /** Told when the sandbox creates its key. */
  onCreate?: (path: string) => void;
}

export interface PseudonymKey {
  key: string;
  /** Where it came from (a place, never the value). */
  where: string;
}

/**
 * The partner's pseudonymization key, checked, or a ConfigError (exit 78) before any
 * work. Looked up like every secret (keychain, systemd credential, _FILE, variable), then
 * in <home>/_meta/secrets/. It is never created here: a build that made a new key would
 * give every customer and order a new pseudonym and resend delivered days as new sales.
 * Only the sandbox creates its own key, once, while it has received nothing.
 */
export async function resolvePseudonymKey(options: PseudonymKeyOptions): Promise<PseudonymKey> {
  const { partner, name, home } = options;
  if (options.sandbox) {
    const path = sandboxPseudonymKeyFile(home, partner);
    if (existsSync(path)) return { key: checkPseudonymKey(registered(readKeyFile(path)), path, partner), where: path };
    if (await hasDelivered(home, partner, true)) {
      throw new ConfigError(`the sandbox pseudonymization key of partner ${partner} (${path}) is missing, and the sandbox has already received reports under it`, {
        hint: `restore ${path} from a backup; or start the sandbox afresh by removing ${sandboxDir(home)} and the sandbox lines of the ledger`,
      });
    }
    const key = randomBytes(MIN_KEY_BYTES).toString('base64url');
    registerSecretValue(key);
    await writeFileAtomic(path, `${key}\n`, 0o600);
    options.onCreate?.(path);
    return { key, where: path };
  }
  const env = options.env ?? process.env;
  const variable = secretEnvName(partner, name);
  // An empty variable would otherwise read as "not set" and fall through to another place.
  if (env[variable] !== undefined && env[variable]!.trim() === '' && !env[`${variable}_FILE`]) checkPseudonymKey(env[variable]!, `$${variable}`, partner);
  const found: SecretSource | null = await findSecret(partner, name, options);
  if (found) return { key: checkPseudonymKey(found.value, describe(found), partner), where: describe(found) };
  const path = pseudonymKeyFile(home, partner, name);
  if (existsSync(path)) return { key: checkPseudonymKey(registered(readKeyFile(path)), path, partner), where: path };
  const places = `OS keychain dataprod/${partner}/${name}, $CREDENTIALS_DIRECTORY/${partner}-${name}, $${variable}_FILE, $${variable}, ${path}`;
  if (await hasDelivered(home, partner)) {
    throw new ConfigError(`the pseudonymization key of partner ${partner} is missing (looked in: ${places}), and ${partner} has received reports under it`, {
      hint: `restore the key from your backup to ${path} (chmod 600) or where it was; a new key would give every customer_key and order_key a new value. Only to start over on purpose: dataprod secrets rotate-key --partner ${partner} --yes`,
    });
  }
  throw new ConfigError(`partner ${partner} has no pseudonymization key yet (looked in: ${places})`, {
    hint: `create it once with: dataprod secrets rotate-key --partner ${partner} (dataprod init does it too), and back it up`,
  });
}

function registered(value: string): string {
  registerSecretValue(value);
  return value;
}

function describe(found: SecretSource): string {
  return found.source === 'environment' ? `$${found.detail}` : found.detail;
}

export interface RotateKeyOptions extends SecretLookupOptions {
  partner: string;
  name: string;
  home: string;
  /** The partner has received reports: rotating changes their pseudonyms, so it must be confirmed. */
  yes?: boolean;
  runId?: string;
  now?: Date;
}

export interface RotatedKey {
  path: string;
  /** Public id of the new key (not the key). */
  key_id: string;
  /** Public id of the key it replaced, when there was one. */
  previous_key_id: string | null;
  at: string;
}

/**
 * Creates the partner's pseudonymization key (32 random bytes, base64url) in
 * <home>/_meta/secrets/ (mode 600), replacing the one there, and records the rotation
 * with its date in the delivery ledger: periods delivered before it are then recognised
 * as delivered and not resent under new pseudonyms. A key held in the keychain, a
 * systemd credential, a _FILE or a variable would shadow the file: that is refused,
 * naming the place, since dataprod cannot replace it there.
 */
export async function rotatePseudonymKey(options: RotateKeyOptions): Promise<RotatedKey> {
  const { partner, name, home } = options;
  const found = await findSecret(partner, name, options).catch(() => null);
  if (found) {
    throw new ConfigError(`the pseudonymization key of partner ${partner} is set in ${describe(found)}, which dataprod does not manage and which would shadow a new key`, {
      hint: `put a new random value there yourself (e.g. \`openssl rand -base64 32\`), or remove it there and run rotate-key again`,
    });
  }
  const path = pseudonymKeyFile(home, partner, name);
  const previous = existsSync(path) ? readKeyFile(path) : null;
  if ((previous !== null || (await hasDelivered(home, partner))) && !options.yes) {
    throw new UsageError(`partner ${partner} ${previous !== null ? 'already has a pseudonymization key' : 'has received reports'}: a new key gives every customer_key and order_key a new value from the next delivery on`, {
      hint: `add --yes to rotate on purpose (keep a backup of ${path} first)`,
    });
  }
  const key = randomBytes(MIN_KEY_BYTES).toString('base64url');
  registerSecretValue(key);
  await writeFileAtomic(path, `${key}\n`, 0o600);
  const at = (options.now ?? new Date()).toISOString();
  const rotated: RotatedKey = { path, key_id: keyId(key), previous_key_id: previous === null ? null : keyId(previous), at };
  await recordKeyRotation(home, partner, { at, runId: options.runId ?? 'secrets-rotate-key', keyId: rotated.key_id, previousKeyId: rotated.previous_key_id });
  return rotated;
}
