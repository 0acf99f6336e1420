import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotEnv, populate as populateEnv } from 'dotenv';
import { ConfigError } from '../errors.js';
import { registerSecretValue } from '../log.js';

/** Keychain service name; the account is `<partner>/<name>`. */
export const KEYCHAIN_SERVICE = 'dataprod';

export interface SecretLookupOptions {
  /** Environment to read fallbacks from (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** Skip the OS keychain (tests of the fallbacks, hosts known to have none). */
  noKeychain?: boolean;
  /** Told about a `.env` file readable by other users (default: a Node process warning). */
  warn?: (message: string) => void;
}

/** Where a secret was found, for `secrets get` and diagnostics (never the value). */
export interface SecretSource {
  value: string;
  source: 'keychain' | 'systemd-credential' | 'file' | 'environment';
  detail: string;
}

export interface DotEnvOptions {
  /** The file (default: $DATAPROD_ENV_FILE, else .env in the working directory). */
  path?: string;
  /** Where the variables go (process.env by default); variables already set win. */
  env?: NodeJS.ProcessEnv;
  /** Told when the file is readable by group or others. */
  warn?: (message: string) => void;
}

/**
 * Loads DATAPROD_* fallbacks from a `.env` file (dotenv), never overriding variables
 * already set. A file other users can read gets a warning: it holds secrets.
 */
export function loadDotEnv(options: DotEnvOptions = {}): { path: string; loaded: string[] } {
  const env = options.env ?? process.env;
  const path = resolve(options.path ?? env.DATAPROD_ENV_FILE ?? '.env');
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return { path, loaded: [] };
  }
  if (!stats.isFile()) return { path, loaded: [] };
  if ((stats.mode & 0o077) !== 0) {
    const message = `${path} is readable by group or others (mode ${(stats.mode & 0o777).toString(8)}) and may hold secrets: run chmod 600 ${path}`;
    if (options.warn) options.warn(message);
    else process.emitWarning(message, { code: 'DATAPROD_DOTENV_MODE' });
  }
  const parsed = parseDotEnv(readFileSync(path));
  const loaded = Object.keys(parsed).filter((key) => env[key] === undefined);
  populateEnv(env as Record<string, string | undefined>, parsed, { override: false });
  return { path, loaded };
}

let dotEnvLoaded = false;
/** The process environment gets `.env` once, the first time a secret is looked up in it. */
function ensureDotEnv(warn?: (message: string) => void): void {
  if (dotEnvLoaded) return;
  dotEnvLoaded = true;
  loadDotEnv({ warn });
}

/** DATAPROD_<PARTNER>_<NAME>: upper-case, non-alphanumerics as underscores. */
export function secretEnvName(partner: string, name: string): string {
  return `DATAPROD_${partner}_${name}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

type KeyringEntry = { getPassword(): string | null; setPassword(value: string): void; deletePassword(): boolean };
type EntryOptions = { linux?: { store?: 'secret-service' | 'keyutils' } };
type KeyringModule = { Entry: new (service: string, account: string, options?: EntryOptions) => KeyringEntry; findCredentials?: (service: string) => { account: string }[] };

/**
 * On Linux the library silently falls back to the kernel keyutils keyring when no Secret
 * Service answers; that keyring lives in kernel memory and is gone after a reboot, so a
 * cron host would lose its secrets without a word. Require the Secret Service instead: a
 * headless host then gets the documented fallbacks (systemd credentials, _FILE, variable).
 */
const ENTRY_OPTIONS: EntryOptions | undefined = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;

function keychainEntry(keyring: KeyringModule, account: string): KeyringEntry {
  return new keyring.Entry(KEYCHAIN_SERVICE, account, ENTRY_OPTIONS);
}

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
    return keychainEntry(keyring, `${partner}/${name}`).getPassword() ?? null;
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
  if (!options.env) ensureDotEnv(options.warn);
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
  const skipped = options.noKeychain || (options.env ?? process.env).DATAPROD_NO_KEYCHAIN === '1' ? ' (skipped)' : '';
  throw new ConfigError(
    `secret "${name}" for partner ${partner} not found (looked in: OS keychain ${KEYCHAIN_SERVICE}/${partner}/${name}${skipped}, $CREDENTIALS_DIRECTORY/${partner}-${name}, $${variable}_FILE, $${variable})`,
    { hint: `set it with: dataprod secrets set --partner ${partner} ${name}` },
  );
}

/** The fallbacks to name when the keychain cannot be used. */
export function secretFallbacks(partner: string, name: string): string {
  const variable = secretEnvName(partner, name);
  return `use a systemd credential $CREDENTIALS_DIRECTORY/${partner}-${name}, a file named by $${variable}_FILE (chmod 600), or the variable $${variable} (e.g. in a chmod 600 .env)`;
}

/** Why the keychain failed, in words a person can act on. */
function keychainProblem(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) return 'no Secret Service is reachable (no D-Bus session: $DBUS_SESSION_BUS_ADDRESS is not set)';
  if (/platform|dbus|secret service|AccessDenied|ServiceUnknown|locked/i.test(message)) return `the OS keychain (Secret Service) refused: ${message}`;
  return message;
}

/** Stores a secret in the OS keychain; a ConfigError naming the fallbacks when the host has none. */
export async function storeSecret(partner: string, name: string, value: string): Promise<void> {
  const keyring = await loadKeyring();
  const fallback = `no OS keychain here: ${secretFallbacks(partner, name)}`;
  if (!keyring) throw new ConfigError('the keychain library (@napi-rs/keyring) could not be loaded', { hint: fallback });
  registerSecretValue(value);
  try {
    keychainEntry(keyring, `${partner}/${name}`).setPassword(value);
  } catch (error) {
    throw new ConfigError(`cannot store secret "${name}" of partner ${partner} in the OS keychain: ${keychainProblem(error)}`, { hint: fallback });
  }
}

/**
 * Whether this host's keychain works: stores, reads back and removes a throwaway
 * entry. `detail` says why not (no D-Bus session, locked keyring...).
 */
export async function probeKeychain(): Promise<{ ok: boolean; detail: string }> {
  const keyring = await loadKeyring();
  if (!keyring) return { ok: false, detail: 'the keychain library (@napi-rs/keyring) could not be loaded' };
  let entry: KeyringEntry;
  try {
    entry = keychainEntry(keyring, `_probe/${process.pid}-${randomBytes(4).toString('hex')}`);
  } catch (error) {
    return { ok: false, detail: keychainProblem(error) };
  }
  const value = randomBytes(12).toString('hex');
  try {
    entry.setPassword(value);
    const back = entry.getPassword();
    entry.deletePassword();
    return back === value ? { ok: true, detail: 'OS keychain (Secret Service) works' } : { ok: false, detail: 'the OS keychain did not return what was stored' };
  } catch (error) {
    return { ok: false, detail: keychainProblem(error) };
  }
}

/** Removes a secret from the OS keychain; false when it was not there. */
export async function deleteSecret(partner: string, name: string): Promise<boolean> {
  const keyring = await loadKeyring();
  if (!keyring) return false;
  try {
    return keychainEntry(keyring, `${partner}/${name}`).deletePassword();
  } catch {
    return false;
  }
}

/** Accounts stored in the keychain for this tool (names only), where the platform can list them. */
export async function listKeychainSecrets(): Promise<string[]> {
  const keyring = await loadKeyring();
  // findCredentials takes no store option: without a Secret Service it would list the volatile kernel keyring.
  if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) return [];
  try {
    return (keyring?.findCredentials?.(KEYCHAIN_SERVICE) ?? []).map((credential) => credential.account).sort();
  } catch {
    return [];
  }
}
