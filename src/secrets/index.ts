import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../lake/atomic.js';
import { metaDir } from '../lake/layout.js';
import { registerSecretValue } from '../log.js';

/** Keychain service name; the account is `<partner>/<name>`. */
export const KEYCHAIN_SERVICE = 'dataprod';

export interface SecretLookupOptions {
  /** Environment to read fallbacks from (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** Skip the OS keychain (tests of the fallbacks, hosts known to have none). */
  noKeychain?: boolean;
}

/** Where a secret was found, for `secrets get` and diagnostics (never the value). */
export interface SecretSource {
  value: string;
  source: 'keychain' | 'systemd-credential' | 'file' | 'environment';
  detail: string;
}

/** DATAPROD_<PARTNER>_<NAME>: upper-case, non-alphanumerics as underscores. */
export function secretEnvName(partner: string, name: string): string {
  return `DATAPROD_${partner}_${name}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

type KeyringEntry = { getPassword(): string | null; setPassword(value: string): void; deletePassword(): boolean };
type KeyringModule = { Entry: new (service: string, account: string) => KeyringEntry; findCredentials?: (service: string) => { account: string }[] };

let keyringModule: Promise<KeyringModule | null> | undefined;
async function loadKeyring(): Promise<KeyringModule | null> {
  keyringModule ??= import('@napi-rs/keyring').then((module) => module as unknown as KeyringModule).catch(() => null);
  return keyringModule;
}

/** Reads from the OS keychain; null when absent or when the host has no keychain service. */
async function readKeychain(partner: string, name: string): Promise<string | null> {
  const keyring = await loadKeyring();
  if (!keyring) return null;
  try {
    return new keyring.Entry(KEYCHAIN_SERVICE, `${partner}/${name}`).getPassword() ?? null;
  } catch {
    // Headless hosts have no Secret Service: fall through to the documented fallbacks.
    return null;
  }
}

function readProtectedFile(path: string, variable: string): string {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new ConfigError(`${variable} names ${path}, which does not exist`, { hint: `create the file (chmod 600) or unset ${variable}` });
  }
  if (typeof process.getuid === 'function' && stats.uid !== process.getuid()) {
    throw new ConfigError(`${path} (from ${variable}) is not owned by this user`, { hint: `chown it to the user running dataprod` });
  }
  if ((stats.mode & 0o077) !== 0) {
    throw new ConfigError(`${path} (from ${variable}) is readable by group or others (mode ${(stats.mode & 0o777).toString(8)})`, { hint: `run: chmod 600 ${path}` });
  }
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/**
 * Finds a secret: the OS keychain; then $CREDENTIALS_DIRECTORY/<partner>-<name> (systemd);
 * then the file named by DATAPROD_<PARTNER>_<NAME>_FILE (owner-only); then the variable
 * DATAPROD_<PARTNER>_<NAME>. Null when none has it.
 */
export async function findSecret(partner: string, name: string, options: SecretLookupOptions = {}): Promise<SecretSource | null> {
  const env = options.env ?? process.env;
  const found = await (async (): Promise<SecretSource | null> => {
    if (!options.noKeychain && env.DATAPROD_NO_KEYCHAIN !== '1') {
      const value = await readKeychain(partner, name);
      if (value !== null) return { value, source: 'keychain', detail: `OS keychain, service ${KEYCHAIN_SERVICE}, account ${partner}/${name}` };
    }
    if (env.CREDENTIALS_DIRECTORY) {
      const path = join(env.CREDENTIALS_DIRECTORY, `${partner}-${name}`);
      if (existsSync(path)) return { value: readFileSync(path, 'utf8').replace(/\r?\n$/, ''), source: 'systemd-credential', detail: path };
    }
    const variable = secretEnvName(partner, name);
    const fileVariable = `${variable}_FILE`;
    if (env[fileVariable]) return { value: readProtectedFile(env[fileVariable]!, fileVariable), source: 'file', detail: env[fileVariable]! };
    if (env[variable] !== undefined && env[variable] !== '') return { value: env[variable]!, source: 'environment', detail: variable };
    return null;
  })();
  if (found) registerSecretValue(found.value);
  return found;
}

/** Like findSecret, but a missing secret is a configuration error naming every place looked in. */
export async function resolveSecret(partner: string, name: string, options: SecretLookupOptions = {}): Promise<string> {
  const found = await findSecret(partner, name, options);
  if (found) return found.value;
  const variable = secretEnvName(partner, name);
  throw new ConfigError(
    `secret "${name}" for partner ${partner} not found (looked in: OS keychain ${KEYCHAIN_SERVICE}/${partner}/${name}, $CREDENTIALS_DIRECTORY/${partner}-${name}, $${variable}_FILE, $${variable})`,
    { hint: `set it with: dataprod secrets set --partner ${partner} ${name}` },
  );
}

/** Stores a secret in the OS keychain; a ConfigError when the host has none. */
export async function storeSecret(partner: string, name: string, value: string): Promise<void> {
  const keyring = await loadKeyring();
  const variable = secretEnvName(partner, name);
  const fallback = `no OS keychain is available here: use $CREDENTIALS_DIRECTORY, $${variable}_FILE (chmod 600) or $${variable}`;
  if (!keyring) throw new ConfigError('the keychain library could not be loaded', { hint: fallback });
  registerSecretValue(value);
  try {
    new keyring.Entry(KEYCHAIN_SERVICE, `${partner}/${name}`).setPassword(value);
  } catch (error) {
    throw new ConfigError(`cannot store secret "${name}" in the OS keychain: ${(error as Error).message}`, { hint: fallback, cause: error });
  }
}

/** Removes a secret from the OS keychain; false when it was not there. */
export async function deleteSecret(partner: string, name: string): Promise<boolean> {
  const keyring = await loadKeyring();
  if (!keyring) return false;
  try {
    return new keyring.Entry(KEYCHAIN_SERVICE, `${partner}/${name}`).deletePassword();
  } catch {
    return false;
  }
}

/** Accounts stored in the keychain for this tool (names only), where the platform can list them. */
export async function listKeychainSecrets(): Promise<string[]> {
  const keyring = await loadKeyring();
  try {
    return (keyring?.findCredentials?.(KEYCHAIN_SERVICE) ?? []).map((credential) => credential.account).sort();
  } catch {
    return [];
  }
}

/**
 * Resolves a key the tool can create for itself (the pseudonymization key): when no
 * place has it, a random 256-bit key is generated once and kept owner-only under
 * <home>/_meta/secrets/, so pseudonyms stay stable across runs on this home. A warning
 * says so: a partner's keys change if that file is lost.
 */
export async function resolveOrCreateSecret(
  partner: string,
  name: string,
  home: string,
  options: SecretLookupOptions & { onCreate?: (path: string) => void } = {},
): Promise<string> {
  const found = await findSecret(partner, name, options);
  if (found) return found.value;
  const path = metaDir(home, 'secrets', `${partner}-${name}`);
  if (existsSync(path)) {
    const value = readProtectedFile(path, `${path}`);
    registerSecretValue(value);
    return value;
  }
  const value = randomBytes(32).toString('base64url');
  await writeFileAtomic(path, value, 0o600);
  registerSecretValue(value);
  options.onCreate?.(path);
  return value;
}
