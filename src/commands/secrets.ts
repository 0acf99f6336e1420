import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ConfigError, UsageError } from '../errors.js';
import { readPartnerConfig, type PartnerConfig } from '../partners/config.js';
import { KEYCHAIN_SERVICE, deleteSecret, findSecret, listKeychainSecrets, resolveSecret, secretEnvName, storeSecret, type SecretSource } from '../secrets/index.js';
import { pseudonymKeyFile, rotatePseudonymKey } from '../secrets/pseudonym-key.js';
import type { CommandContext, CommandResult } from './context.js';

export interface SecretsOptions {
  /** set, get, delete, list, or rotate-key (a new pseudonymization key). */
  action: 'set' | 'get' | 'delete' | 'list' | 'rotate-key';
  /** Partner the secret belongs to. */
  partner: string;
  /** Secret name (all actions but list). */
  name?: string;
  /** Value for set; prompting (masked) is better: a value here stays in shell history. */
  value?: string;
  /** Read the value for set from this file (private keys). */
  fromFile?: string;
  /** get: print the value instead of hiding it. */
  reveal?: boolean;
  /** Partner configuration file for list (default: <home>/partners, then the bundled ones). */
  config?: string;
  /** Skip the OS keychain when looking up (tests of the fallbacks). */
  noKeychain?: boolean;
  /** Environment for the fallbacks (tests); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** rotate-key: confirm replacing a key the partner's reports were made with. */
  yes?: boolean;
  /** Asks for a value with masked input; tests pass their own. Default: @inquirer/prompts password on stderr. */
  ask?: (message: string) => Promise<string>;
  /** set: reads a value piped on standard input (undefined when stdin is a terminal); cli.ts passes it. */
  readPiped?: () => Promise<string | undefined>;
}

/** A secret the partner configuration refers to, and what uses it. */
export interface SecretReference {
  name: string;
  /** e.g. "destination partner-api (api password)". */
  usedBy: string[];
  /** False when every user of it is disabled. */
  needed: boolean;
}

/** Every secret name the configuration refers to, with what uses it (values are never read here). */
export function listSecretReferences(config: PartnerConfig): SecretReference[] {
  const references = new Map<string, SecretReference>();
  const add = (name: string | undefined, usedBy: string, enabled: boolean) => {
    if (!name) return;
    const reference = references.get(name) ?? { name, usedBy: [], needed: false };
    reference.usedBy.push(usedBy);
    reference.needed ||= enabled;
    references.set(name, reference);
  };
  for (const destination of config.destinations) {
    const label = `destination ${destination.name}${destination.enabled ? '' : ' (disabled)'}`;
    if (destination.type === 'sftp') {
      if (destination.auth === 'key') {
        add(destination.private_key_secret, `${label}: SFTP private key`, destination.enabled);
        add(destination.passphrase_secret, `${label}: key passphrase`, destination.enabled);
      } else add(destination.password_secret, `${label}: SFTP password`, destination.enabled);
    } else if (destination.type === 'api') {
      if (destination.auth.type === 'bearer') add(destination.auth.token_secret, `${label}: API token`, destination.enabled);
      else add(destination.auth.password_secret, `${label}: API password of ${destination.auth.username}`, destination.enabled);
    } else if (destination.type === 'email' && destination.username) {
      add(destination.password_secret, `${label}: SMTP password of ${destination.username}`, destination.enabled);
    }
  }
  const channel = config.notifications.channel;
  if (channel?.type === 'email' && channel.username) add(channel.password_secret, `notifications ${channel.name}${channel.enabled ? '' : ' (disabled)'}: SMTP password of ${channel.username}`, channel.enabled);
  add(config.privacy.pseudonymization_secret, 'privacy: pseudonymization key (created by dataprod secrets rotate-key or init, never by a build)', true);
  return [...references.values()];
}

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function checkName(name: string | undefined, action: string, partner: string): string {
  if (!name) throw new UsageError(`secrets ${action} needs a NAME`, { hint: `e.g. dataprod secrets ${action} --partner ${partner} api-password` });
  if (!SECRET_NAME.test(name)) throw new UsageError(`secret name "${name}" is not valid`, { hint: 'use letters, digits, dots, dashes and underscores, e.g. api-password' });
  return name;
}

function describeSource(found: SecretSource): string {
  switch (found.source) {
    case 'keychain':
      return `the ${found.detail}`;
    case 'systemd-credential':
      return `the systemd credential ${found.detail}`;
    case 'file':
      return `the file ${found.detail}`;
    default:
      return `the environment variable $${found.detail}`;
  }
}

async function askMasked(message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  try {
    // Prompts go to stderr: stdout is kept for results.
    return await password({ message, mask: '*', validate: (value) => (value.length > 0 ? true : 'the value cannot be empty') }, { output: process.stderr });
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError' || (error as Error).name === 'AbortPromptError') throw new UsageError('cancelled at the prompt', { hint: 'nothing was stored' });
    throw error;
  }
}

async function setSecret(options: SecretsOptions, context: CommandContext, name: string): Promise<CommandResult> {
  const { partner } = options;
  if (options.value !== undefined && options.fromFile) throw new UsageError('give the value or --from-file, not both', { hint: `e.g. dataprod secrets set --partner ${partner} ${name} --from-file key.pem` });
  let value: string;
  let from: string;
  if (options.fromFile) {
    try {
      value = await readFile(options.fromFile, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --from-file ${options.fromFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint: 'give the path of the file holding the secret (e.g. a private key)' });
    }
    const mode = statSync(options.fromFile).mode & 0o777;
    if (mode & 0o077) context.logger.warn(`${options.fromFile} is readable by group or others (mode ${mode.toString(8)}); once stored, consider chmod 600 or removing it`);
    from = `file ${options.fromFile}`;
  } else if (options.value !== undefined) {
    value = options.value;
    context.logger.warn('a value given on the command line stays in the shell history; next time omit it to be asked with hidden input');
    from = 'the command line';
  } else if (options.ask || context.interactive) {
    value = await (options.ask ?? askMasked)(`Value of secret ${name} for partner ${partner} (input hidden):`);
    from = 'the prompt';
  } else {
    const piped = await options.readPiped?.();
    if (piped === undefined || piped.length === 0) {
      throw new UsageError(`secrets set ${name}: no value given and no terminal to ask on`, {
        hint: `pipe it (e.g. from a password manager: ... | dataprod secrets set --partner ${partner} ${name}), use --from-file FILE, or run it in a terminal to be asked`,
      });
    }
    // `echo value |` adds one newline that is not part of a one-line secret; a key file keeps its own.
    value = /^[^\n]*\n$/.test(piped) ? piped.slice(0, -1) : piped;
    from = 'standard input';
  }
  if (value.length === 0) throw new UsageError(`secrets set ${name}: the value is empty`, { hint: 'give a non-empty value' });
  await storeSecret(partner, name, value);
  const shadowed = await findSecret(partner, name, { env: options.env, noKeychain: true });
  if (shadowed) context.logger.warn(`${name} is also set in ${describeSource(shadowed)}; the keychain value is used first`);
  const account = `${partner}/${name}`;
  return {
    data: { partner, name, stored: 'keychain', service: KEYCHAIN_SERVICE, account, from: from.startsWith('file') ? 'file' : from === 'the prompt' ? 'prompt' : 'argument' },
    text: `stored secret ${name} of partner ${partner} in the OS keychain (service ${KEYCHAIN_SERVICE}, account ${account}), read from ${from}`,
  };
}

async function getSecret(options: SecretsOptions, name: string): Promise<CommandResult> {
  const { partner } = options;
  const lookup = { env: options.env, noKeychain: options.noKeychain };
  const found = await findSecret(partner, name, lookup);
  if (!found) {
    await resolveSecret(partner, name, lookup); // throws the not-found ConfigError naming every place
    throw new ConfigError(`secret "${name}" for partner ${partner} not found`);
  }
  const data = { partner, name, set: true, source: found.source, detail: found.detail, ...(options.reveal ? { value: found.value } : {}) };
  if (options.reveal) return { data, text: found.value, unredacted: true };
  return { data, text: `${name} (partner ${partner}) is set, in ${describeSource(found)}; value hidden (add --reveal to print it)` };
}

async function removeSecret(options: SecretsOptions, name: string): Promise<CommandResult> {
  const { partner } = options;
  const removed = await deleteSecret(partner, name);
  const remaining = await findSecret(partner, name, { env: options.env, noKeychain: true });
  const lines = [removed ? `removed secret ${name} of partner ${partner} from the OS keychain` : `secret ${name} of partner ${partner} was not in the OS keychain: nothing removed`];
  if (remaining) lines.push(`it is still set in ${describeSource(remaining)}, which dataprod does not manage: remove it there`);
  return { data: { partner, name, removed, still_set_in: remaining ? { source: remaining.source, detail: remaining.detail } : null }, text: lines.join('\n') };
}

async function listSecrets(options: SecretsOptions, context: CommandContext): Promise<CommandResult> {
  const { partner } = options;
  const { config } = readPartnerConfig(context.home, partner, options.config);
  const lookup = { env: options.env, noKeychain: options.noKeychain };
  const rows: { name: string; used_by: string[]; needed: boolean; set: boolean; source: string | null; where: string }[] = [];
  for (const reference of listSecretReferences(config)) {
    let found: SecretSource | null = null;
    let where: string;
    try {
      found = await findSecret(partner, reference.name, lookup);
      where = found ? describeSource(found) : `not set: dataprod secrets set --partner ${partner} ${reference.name}`;
    } catch (error) {
      where = `unusable: ${(error as Error).message}`;
    }
    let source: string | null = found?.source ?? null;
    if (!found && reference.name === config.privacy.pseudonymization_secret) {
      const file = pseudonymKeyFile(context.home, partner, reference.name);
      if (existsSync(file)) {
        source = 'file';
        where = `the file ${file}`;
      } else where = `not set: create it once with dataprod secrets rotate-key --partner ${partner}, and back it up`;
    }
    rows.push({ name: reference.name, used_by: reference.usedBy, needed: reference.needed, set: source !== null, source, where });
  }
  const referenced = new Set(rows.map((row) => row.name));
  const others = (await listKeychainSecrets()).filter((account) => account.startsWith(`${partner}/`) && !referenced.has(account.slice(partner.length + 1))).map((account) => account.slice(partner.length + 1));
  const width = Math.max(4, ...rows.map((row) => row.name.length));
  const lines = [`secrets of partner ${partner} (values are never shown)`, `${'NAME'.padEnd(width)}  SET  WHERE / USED BY`];
  for (const row of rows) {
    lines.push(`${row.name.padEnd(width)}  ${row.set ? 'yes' : row.needed ? 'NO ' : 'no '}  ${row.where}`);
    for (const use of row.used_by) lines.push(`${''.padEnd(width)}       used by ${use}`);
  }
  if (others.length) lines.push(`also in the keychain, not referenced by the configuration: ${others.join(', ')}`);
  const missing = rows.filter((row) => !row.set && row.needed && row.source === null);
  if (missing.length) lines.push(`missing for enabled destinations: ${missing.map((row) => row.name).join(', ')} (variables: ${missing.map((row) => secretEnvName(partner, row.name)).join(', ')})`);
  return { data: { partner, secrets: rows, unreferenced_keychain_entries: others }, text: lines.join('\n') };
}

/** `secrets rotate-key`: a new random pseudonymization key, its date recorded in the ledger. */
async function rotateKey(options: SecretsOptions, context: CommandContext): Promise<CommandResult> {
  const { partner } = options;
  const { config } = readPartnerConfig(context.home, partner, options.config);
  const rotated = await rotatePseudonymKey({
    partner,
    name: config.privacy.pseudonymization_secret,
    home: context.home,
    env: options.env,
    noKeychain: options.noKeychain,
    yes: options.yes,
    runId: context.runId,
    now: context.now,
  });
  const lines = [
    `${rotated.previous_key_id ? 'rotated' : 'created'} the pseudonymization key of partner ${partner} in ${rotated.path} (mode 600; key id ${rotated.key_id}${rotated.previous_key_id ? `, replacing ${rotated.previous_key_id}` : ''})`,
    'back it up: without it the partner\'s pseudonyms cannot be reproduced, and runs stop with exit 78 until it is restored',
  ];
  if (rotated.previous_key_id) lines.push(`periods delivered before ${rotated.at.slice(0, 10)} are not resent under the new key (--force on run resends)`);
  return { data: { partner, ...rotated }, text: lines.join('\n') };
}

/** `dataprod secrets set|get|delete|list|rotate-key`: secrets in the OS keychain, and where each one is found. */
export async function secrets(options: SecretsOptions, context: CommandContext): Promise<CommandResult> {
  switch (options.action) {
    case 'set':
      return setSecret(options, context, checkName(options.name, 'set', options.partner));
    case 'get':
      return getSecret(options, checkName(options.name, 'get', options.partner));
    case 'delete':
      return removeSecret(options, checkName(options.name, 'delete', options.partner));
    case 'list':
      return listSecrets(options, context);
    case 'rotate-key':
      return rotateKey(options, context);
    default:
      throw new UsageError(`unknown secrets action ${String(options.action)}`, { hint: 'use set, get, delete, list or rotate-key' });
  }
}
