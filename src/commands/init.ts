import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Document, isCollection, isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import type { z } from 'zod';
import { apiOptions, emailOptions, sftpOptions } from '../connectors/options.js';
import { ConfigError, DataprodError, ExitCode, UsageError } from '../errors.js';
import { writeFileAtomic } from '../lake/atomic.js';
import { bundledPartnersDir, parsePartnerConfig, partnerConfigSchema } from '../partners/config.js';
import { findSecret, secretFallbacks, storeSecret } from '../secrets/index.js';
import type { CommandContext, CommandResult } from './context.js';

/** Asks questions; the default is @inquirer/prompts on stderr, tests pass a scripted one. */
export interface Prompter {
  input(question: { message: string; default?: string; validate: (value: string) => true | string }): Promise<string>;
  password(question: { message: string }): Promise<string>;
  confirm(question: { message: string; default: boolean }): Promise<boolean>;
  checkbox(question: { message: string; choices: { name: string; value: string; checked: boolean }[] }): Promise<string[]>;
}

export interface InitOptions {
  /** Partner identifier (lower-case, dashes): the file is <home>/partners/<partner>.yaml. */
  partner: string;
  /** Name shown in e-mails. */
  displayName?: string;
  /** Comma-separated brands that are the partner's. */
  brands?: string;
  /** Comma-separated segments the partner competes in. */
  segments?: string;
  /** k-anonymity threshold (>= 5). */
  k?: number;
  /** Comma-separated e-mails told after every update. */
  partnerRecipients?: string;
  /** Comma-separated e-mails of the data team. */
  alertRecipients?: string;
  /** Partner SFTP host; any --sftp-* flag configures the SFTP destination. */
  sftpHost?: string;
  sftpPort?: number;
  sftpUser?: string;
  /** Remote directory template, {partner}, {report} and {period} filled in. */
  sftpDirectory?: string;
  /** Pinned host key, SHA256:... as ssh-keygen -l prints it. */
  sftpFingerprint?: string;
  /** Private key file, stored in the keychain. */
  sftpKeyFile?: string;
  /** Partner API base URL (https); any --api-* flag configures the API destination. */
  apiUrl?: string;
  /** API user (password auth at the token endpoint). */
  apiUser?: string;
  /** SMTP server for notifications; any --smtp-* flag configures the e-mail channel. */
  smtpHost?: string;
  smtpPort?: number;
  smtpFrom?: string;
  smtpUser?: string;
  /** Run test-connection at the end. */
  test?: boolean;
  /** Accept the default (existing value or built-in) of every question not answered by a flag. */
  yes?: boolean;
  /** Asks the questions; default: the terminal when the context is interactive. */
  prompter?: Prompter;
}

/** What init did, for --json. */
export interface InitResult {
  partner: string;
  file: string;
  /** new, or the file the answers started from. */
  started_from: string;
  configured: string[];
  secrets_stored: string[];
  secrets_missing: { name: string; command: string }[];
  notes: string[];
  test?: unknown;
}

function inquirerPrompter(): Prompter {
  const cancelled = (error: unknown): never => {
    const name = (error as Error)?.name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new UsageError('init cancelled at the prompt', { hint: 'nothing was written' });
    throw error;
  };
  // Prompts write to stderr: stdout is kept for the result (and --json).
  const context = { output: process.stderr };
  return {
    input: async (question) => (await import('@inquirer/prompts')).input(question, context).catch(cancelled),
    password: async (question) => (await import('@inquirer/prompts')).password({ ...question, mask: '*' }, context).catch(cancelled),
    confirm: async (question) => (await import('@inquirer/prompts')).confirm(question, context).catch(cancelled),
    checkbox: async (question) => (await import('@inquirer/prompts')).checkbox(question, context).catch(cancelled),
  };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

function zodCheck<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new Error(result.error.issues.map((issue) => issue.message).join('; '));
}

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const shape = partnerConfigSchema.shape;
const parsers = {
  displayName: (text: string) => zodCheck(shape.display_name, text.trim()),
  brands: (text: string) => zodCheck(shape.products.shape.brands, list(text)),
  segments: (text: string) => zodCheck(shape.segments, list(text)),
  k: (text: string) => zodCheck(shape.privacy.shape.k, Number(text)),
  partnerRecipients: (text: string) => zodCheck(shape.notifications.shape.partner_recipients, list(text)),
  alertRecipients: (text: string) => zodCheck(shape.notifications.shape.data_team_recipients, list(text)),
  sftpHost: (text: string) => zodCheck(sftpOptions.shape.host, text.trim()),
  sftpPort: (text: string) => zodCheck(sftpOptions.shape.port, Number(text)),
  sftpUser: (text: string) => zodCheck(sftpOptions.shape.username, text.trim()),
  sftpDirectory: (text: string) => zodCheck(sftpOptions.shape.directory, text.trim()),
  sftpFingerprint: (text: string) => (text.trim() === '' ? '' : zodCheck(sftpOptions.shape.host_fingerprints.unwrap().element, text.trim())),
  sftpKeyFile: (text: string) => text.trim(),
  apiUrl: (text: string) => {
    const url = zodCheck(apiOptions.shape.base_url, text.trim());
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK.test(parsed.hostname))) throw new Error('https is required (plain http only to loopback)');
    return url.replace(/\/+$/, '');
  },
  apiUser: (text: string) => text.trim(),
  smtpHost: (text: string) => zodCheck(emailOptions.shape.host, text.trim()),
  smtpPort: (text: string) => zodCheck(emailOptions.shape.port, Number(text)),
  smtpFrom: (text: string) => {
    const value = text.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) && !/<[^\s@]+@[^\s@]+>$/.test(value)) throw new Error('an e-mail address, e.g. dataprod@example.com');
    return value;
  },
  smtpUser: (text: string) => text.trim(),
};
type Key = keyof typeof parsers;
type Answer<K extends Key> = ReturnType<(typeof parsers)[K]>;

const FLAGS: Record<Key, string> = {
  displayName: '--display-name',
  brands: '--brands',
  segments: '--segments',
  k: '--k',
  partnerRecipients: '--partner-recipients',
  alertRecipients: '--alert-recipients',
  sftpHost: '--sftp-host',
  sftpPort: '--sftp-port',
  sftpUser: '--sftp-user',
  sftpDirectory: '--sftp-directory',
  sftpFingerprint: '--sftp-fingerprint',
  sftpKeyFile: '--sftp-key-file',
  apiUrl: '--api-url',
  apiUser: '--api-user',
  smtpHost: '--smtp-host',
  smtpPort: '--smtp-port',
  smtpFrom: '--smtp-from',
  smtpUser: '--smtp-user',
};

function asText(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : value === undefined || value === null ? '' : String(value);
}

/** Sets a value, keeping a scalar's comment and the flow style of a list written as [a, b]. */
function setValue(doc: Document, path: (string | number)[], value: unknown): void {
  const existing = doc.getIn(path, true);
  if (isScalar(existing) && (value === null || typeof value !== 'object')) {
    existing.value = value;
    return;
  }
  const node = doc.createNode(value);
  if (isCollection(existing) && isCollection(node)) node.flow = existing.flow;
  else if (Array.isArray(value) && isCollection(node)) node.flow = true;
  doc.setIn(path, node);
}

function lookup(raw: unknown, path: (string | number)[]): unknown {
  let current = raw;
  for (const part of path) current = current && typeof current === 'object' ? (current as Record<string | number, unknown>)[part] : undefined;
  return current;
}

function capitalised(partner: string): string {
  return partner
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
}

function newDocument(partner: string): Document {
  const doc = new Document({
    partner,
    display_name: capitalised(partner),
    products: { brands: [] },
    segments: [],
    reports: {
      'daily-analytic': { enabled: true, formats: ['csv', 'parquet'] },
      'monthly-by-city': { enabled: true, formats: ['csv', 'parquet'] },
    },
    privacy: { k: 11, pseudonymization_secret: 'pseudonym-key' },
    notifications: { partner_recipients: [], data_team_recipients: [] },
    destinations: [],
  });
  doc.commentBefore = ` Partner ${partner}: written by \`dataprod init\`; edit it or run init again.\n Secrets are not kept here: see \`dataprod secrets list --partner ${partner}\`.`;
  for (const path of [['products', 'brands'], ['segments'], ['reports', 'daily-analytic', 'formats'], ['reports', 'monthly-by-city', 'formats']]) {
    const node = doc.getIn(path, true);
    if (isSeq(node)) node.flow = true;
  }
  return doc;
}

/** `dataprod init`: creates or edits <home>/partners/<partner>.yaml, a question (or a flag) at a time. */
export async function init(options: InitOptions, context: CommandContext): Promise<CommandResult<InitResult>> {
  const partner = options.partner;
  const idCheck = partnerConfigSchema.shape.partner.safeParse(partner);
  if (!idCheck.success) throw new UsageError(`--partner "${partner}" is not a valid identifier`, { hint: 'lower-case letters, digits and dashes, e.g. acme-foods' });

  const file = join(context.home, 'partners', `${partner}.yaml`);
  const bundled = join(bundledPartnersDir, `${partner}.yaml`);
  const base = existsSync(file) ? file : existsSync(bundled) ? bundled : undefined;
  let doc: Document;
  if (base) {
    doc = parseDocument(readFileSync(base, 'utf8'));
    if (doc.errors.length > 0) throw new ConfigError(`${base}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, { hint: 'fix or remove the file, then run init again' });
  } else doc = newDocument(partner);
  const raw = doc.toJS() as Record<string, unknown>;
  const prompter = options.prompter ?? (context.interactive ? inquirerPrompter() : undefined);
  const notes: string[] = [];

  /** One answer: the flag, else (with --yes) the default, else the question, else a usage error naming the flag. */
  async function ask<K extends Key>(key: K, message: string, fallback: unknown, required = true): Promise<Answer<K>> {
    const parse = parsers[key] as (text: string) => Answer<K>;
    const given = (options as unknown as Record<string, unknown>)[key];
    if (given !== undefined && given !== null) {
      try {
        return parse(asText(given));
      } catch (error) {
        throw new UsageError(`${FLAGS[key]} ${asText(given)}: ${(error as Error).message}`, { hint: `dataprod init --help shows what ${FLAGS[key]} takes` });
      }
    }
    const fallbackText = asText(fallback);
    const hasFallback = fallback !== undefined && (fallbackText !== '' || !required);
    if (options.yes && hasFallback) return parse(fallbackText);
    if (prompter) {
      const answer = await prompter.input({
        message,
        ...(fallbackText !== '' ? { default: fallbackText } : {}),
        validate: (text) => {
          if (text.trim() === '' && required && fallbackText === '') return 'an answer is needed';
          try {
            parse(text.trim() === '' ? fallbackText : text);
            return true;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      return parse(answer.trim() === '' ? fallbackText : answer);
    }
    throw new UsageError(`no terminal to ask for ${message.replace(/[:?]\s*$/, '').toLowerCase()}: pass ${FLAGS[key]}`, {
      hint: hasFallback ? `or add --yes to keep "${fallbackText}"` : `e.g. dataprod init --partner ${partner} ${FLAGS[key]} ...`,
    });
  }

  // The partner's identity and who is told what.
  setValue(doc, ['partner'], partner);
  setValue(doc, ['display_name'], await ask('displayName', 'Name shown in e-mails:', lookup(raw, ['display_name']) ?? capitalised(partner)));
  setValue(doc, ['products', 'brands'], await ask('brands', 'Brands that are the partner\'s (comma-separated):', lookup(raw, ['products', 'brands'])));
  setValue(doc, ['segments'], await ask('segments', 'Segments the partner competes in (comma-separated):', lookup(raw, ['segments'])));
  setValue(doc, ['privacy', 'k'], await ask('k', 'Minimum customers behind a shared cell (k, at least 5):', lookup(raw, ['privacy', 'k']) ?? 11));
  setValue(doc, ['notifications', 'partner_recipients'], await ask('partnerRecipients', 'Partner e-mails told after every update (comma-separated, may be empty):', lookup(raw, ['notifications', 'partner_recipients']) ?? [], false));
  setValue(doc, ['notifications', 'data_team_recipients'], await ask('alertRecipients', 'Data team e-mails alerted on failures (comma-separated):', lookup(raw, ['notifications', 'data_team_recipients'])));

  // Which sections to set up: the flags say so; on a terminal (without --yes) a checklist.
  const destinations = (lookup(raw, ['destinations']) as Record<string, unknown>[] | undefined) ?? [];
  const flagged = {
    sftp: [options.sftpHost, options.sftpPort, options.sftpUser, options.sftpDirectory, options.sftpFingerprint, options.sftpKeyFile].some((value) => value !== undefined),
    api: [options.apiUrl, options.apiUser].some((value) => value !== undefined),
    smtp: [options.smtpHost, options.smtpPort, options.smtpFrom, options.smtpUser].some((value) => value !== undefined),
  };
  let sections = (Object.keys(flagged) as (keyof typeof flagged)[]).filter((section) => flagged[section]);
  if (prompter && !options.yes) {
    sections = (await prompter.checkbox({
      message: 'Set up or change which deliveries now?',
      choices: [
        { name: 'SFTP (the partner\'s server, key auth)', value: 'sftp', checked: flagged.sftp || !base || destinations.some((item) => item.type === 'sftp') },
        { name: 'Partner API (token-secured)', value: 'api', checked: flagged.api || destinations.some((item) => item.type === 'api') },
        { name: 'E-mail notifications (SMTP)', value: 'smtp', checked: flagged.smtp || lookup(raw, ['notifications', 'channel', 'type']) === 'email' },
      ],
    })) as (keyof typeof flagged)[];
  }

  const pendingSecrets: { name: string; value: string; what: string }[] = [];
  const expectedSecrets: string[] = [];
  const configured: string[] = [];

  /** Index of the first destination of a type in the document, creating one when there is none. */
  const destinationIndex = (type: string, name: string): number => {
    let seq = doc.getIn(['destinations'], true) as YAMLSeq | undefined;
    if (!isSeq(seq)) {
      doc.setIn(['destinations'], doc.createNode([]));
      seq = doc.getIn(['destinations'], true) as YAMLSeq;
    }
    const found = seq.items.findIndex((item) => isMap(item) && (item as YAMLMap).get('type') === type);
    if (found >= 0) return found;
    seq.items.push(doc.createNode({ name, type }));
    return seq.items.length - 1;
  };

  if (sections.includes('sftp')) {
    const index = destinationIndex('sftp', 'partner-sftp');
    const existing = (lookup(raw, ['destinations', index]) as Record<string, unknown> | undefined) ?? {};
    const at = (key: string) => ['destinations', index, key];
    setValue(doc, at('host'), await ask('sftpHost', 'SFTP host:', existing.host));
    setValue(doc, at('port'), await ask('sftpPort', 'SFTP port:', existing.port ?? 22));
    setValue(doc, at('username'), await ask('sftpUser', 'SFTP user name:', existing.username));
    setValue(doc, at('directory'), await ask('sftpDirectory', 'Remote directory ({partner}, {report}, {period} are filled in):', existing.directory ?? '/inbound/{report}/{period}/'));
    const pinned = (existing.host_fingerprints as string[] | undefined) ?? [];
    const fingerprint = await ask('sftpFingerprint', 'Host key fingerprint to pin (SHA256:..., empty to keep/skip):', pinned[0] ?? '', false);
    const fingerprints = fingerprint ? [fingerprint, ...pinned.filter((item) => item !== fingerprint)] : pinned;
    setValue(doc, at('host_fingerprints'), fingerprints);
    const keySecret = (existing.private_key_secret as string | undefined) ?? 'sftp-private-key';
    if (existing.private_key_secret === undefined) setValue(doc, at('private_key_secret'), keySecret);
    const keyFile = await ask('sftpKeyFile', 'Private key file to store in the keychain (empty: keep what is stored):', '', false);
    if (keyFile) {
      let key: string;
      try {
        key = await readFile(resolve(keyFile), 'utf8');
      } catch (error) {
        throw new UsageError(`--sftp-key-file ${keyFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { hint: 'give the path of the private key (not the .pub)' });
      }
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new UsageError(`--sftp-key-file ${keyFile} is not a private key`, { hint: 'give the private key file (e.g. ~/.ssh/id_ed25519), not the .pub' });
      pendingSecrets.push({ name: keySecret, value: key, what: 'SFTP private key' });
      if (prompter && !options.yes && (await prompter.confirm({ message: 'Is the key protected by a passphrase?', default: existing.passphrase_secret !== undefined }))) {
        const passphraseSecret = (existing.passphrase_secret as string | undefined) ?? 'sftp-passphrase';
        setValue(doc, at('passphrase_secret'), passphraseSecret);
        pendingSecrets.push({ name: passphraseSecret, value: await prompter.password({ message: 'Key passphrase:' }), what: 'SFTP key passphrase' });
      }
    } else expectedSecrets.push(keySecret);
    const enabled = fingerprints.length > 0 || existing.known_hosts !== undefined;
    setValue(doc, at('enabled'), enabled);
    if (!enabled) notes.push(`SFTP stays disabled until its host key is pinned: dataprod test-connection sftp --partner ${partner} prints the fingerprint; then dataprod init --partner ${partner} --sftp-fingerprint SHA256:...`);
    configured.push(`sftp ${String(lookup(doc.toJS(), at('name')))}`);
  }

  if (sections.includes('api')) {
    const index = destinationIndex('api', 'partner-api');
    const existing = (lookup(raw, ['destinations', index]) as Record<string, unknown> | undefined) ?? {};
    const at = (...keys: string[]) => ['destinations', index, ...keys];
    setValue(doc, at('base_url'), await ask('apiUrl', 'Partner API base URL (https):', existing.base_url));
    const existingAuth = (existing.auth as Record<string, unknown> | undefined) ?? {};
    let passwordAuth = options.apiUser !== undefined || existingAuth.type !== 'bearer';
    if (prompter && !options.yes && options.apiUser === undefined) {
      passwordAuth = await prompter.confirm({ message: 'Does the API take a user and password at a token endpoint? (no: a fixed bearer token)', default: passwordAuth });
    }
    if (passwordAuth) {
      const username = await ask('apiUser', 'API user name:', existingAuth.type === 'password' ? existingAuth.username : undefined);
      const secretName = existingAuth.type === 'password' ? ((existingAuth.password_secret as string | undefined) ?? 'api-password') : 'api-password';
      setValue(doc, at('auth'), { type: 'password', token_path: existingAuth.type === 'password' ? (existingAuth.token_path ?? '/oauth/token') : '/oauth/token', username, password_secret: secretName });
      if (prompter && !options.yes) {
        const value = await prompter.password({ message: `Password of API user ${username} (empty: keep what is stored):` });
        if (value) pendingSecrets.push({ name: secretName, value, what: 'API password' });
        else expectedSecrets.push(secretName);
      } else expectedSecrets.push(secretName);
    } else {
      const secretName = existingAuth.type === 'bearer' ? ((existingAuth.token_secret as string | undefined) ?? 'api-token') : 'api-token';
      setValue(doc, at('auth'), { type: 'bearer', token_secret: secretName });
      if (prompter && !options.yes) {
        const value = await prompter.password({ message: 'API bearer token (empty: keep what is stored):' });
        if (value) pendingSecrets.push({ name: secretName, value, what: 'API token' });
        else expectedSecrets.push(secretName);
      } else expectedSecrets.push(secretName);
    }
    setValue(doc, at('enabled'), true);
    configured.push(`api ${String(lookup(doc.toJS(), at('name')))}`);
  }

  if (sections.includes('smtp')) {
    const existing = (lookup(raw, ['notifications', 'channel']) as Record<string, unknown> | undefined) ?? {};
    const at = (key: string) => ['notifications', 'channel', key];
    if (existing.type !== 'email') {
      doc.setIn(['notifications', 'channel'], doc.createNode({ name: 'mail', type: 'email' }));
    }
    const current = existing.type === 'email' ? existing : {};
    const host = await ask('smtpHost', 'SMTP server:', current.host);
    const port = await ask('smtpPort', 'SMTP port (465 TLS, 587 STARTTLS):', current.port ?? 587);
    const security = port === 465 ? 'tls' : port === 587 ? 'starttls' : LOOPBACK.test(host) ? 'none' : ((current.security as string | undefined) ?? 'starttls');
    setValue(doc, at('host'), host);
    setValue(doc, at('port'), port);
    setValue(doc, at('security'), security);
    setValue(doc, at('from'), await ask('smtpFrom', 'From address of notifications:', current.from));
    const user = await ask('smtpUser', 'SMTP user name (empty: no authentication):', current.username ?? '', false);
    if (user) {
      setValue(doc, at('username'), user);
      const secretName = (current.password_secret as string | undefined) ?? 'smtp-password';
      setValue(doc, at('password_secret'), secretName);
      if (prompter && !options.yes) {
        const value = await prompter.password({ message: `Password of SMTP user ${user} (empty: keep what is stored):` });
        if (value) pendingSecrets.push({ name: secretName, value, what: 'SMTP password' });
        else expectedSecrets.push(secretName);
      } else expectedSecrets.push(secretName);
    } else if (doc.hasIn(at('username'))) doc.deleteIn(at('username'));
    setValue(doc, at('enabled'), true);
    configured.push(`notifications ${String(lookup(doc.toJS(), at('name')))}`);
  }

  // Validate the whole file as the tool will read it, then write it atomically.
  const text = doc.toString({ flowCollectionPadding: false });
  parsePartnerConfig(text, file);
  await writeFileAtomic(file, text);
  context.logger.info(`wrote ${file}`);

  const stored: string[] = [];
  const failures: DataprodError[] = [];
  for (const secret of pendingSecrets) {
    try {
      await storeSecret(partner, secret.name, secret.value);
      stored.push(secret.name);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      failures.push(error);
      expectedSecrets.push(secret.name);
    }
  }
  const missing: { name: string; command: string }[] = [];
  for (const name of new Set(expectedSecrets)) {
    if (stored.includes(name)) continue;
    const found = await findSecret(partner, name).catch(() => null);
    if (!found) missing.push({ name, command: `dataprod secrets set --partner ${partner} ${name}` });
  }

  // The pseudonymization key is made here or by `secrets rotate-key`, never by a build;
  // a partner that already received reports keeps (or restores) the key it has.
  const keyName = parsePartnerConfig(text, file).privacy.pseudonymization_secret;
  const { resolvePseudonymKey, rotatePseudonymKey } = await import('../secrets/pseudonym-key.js');
  const keyProblem = await resolvePseudonymKey({ partner, name: keyName, home: context.home }).then(() => null, (error: unknown) => error as ConfigError);
  if (keyProblem && /has no pseudonymization key yet/.test(keyProblem.message)) {
    const created = await rotatePseudonymKey({ partner, name: keyName, home: context.home, runId: context.runId, now: context.now });
    notes.push(`created the pseudonymization key in ${created.path} (key id ${created.key_id}): back it up`);
  } else if (keyProblem) notes.push(`pseudonymization key: ${keyProblem.message} (${keyProblem.hint})`);

  const lines = [`${base === file ? 'updated' : 'wrote'} ${file}${base && base !== file ? ` (starting from ${base})` : ''}`];
  if (configured.length) lines.push(`configured: ${configured.join(', ')}`);
  if (stored.length) lines.push(`stored in the OS keychain: ${stored.join(', ')}`);
  for (const failure of failures) lines.push(`not stored: ${failure.message} (${failure.hint})`);
  for (const secret of missing) lines.push(`secret ${secret.name} is not set yet: ${secret.command} (or ${secretFallbacks(partner, secret.name)})`);
  lines.push(...notes);

  const result: InitResult = { partner, file, started_from: base ?? 'new', configured, secrets_stored: stored, secrets_missing: missing, notes };
  let exitCode: number | undefined = failures.length > 0 ? ExitCode.config : undefined;
  const runTest = options.test || (prompter !== undefined && !options.yes && (await prompter.confirm({ message: 'Run test-connection now?', default: true })));
  if (runTest) {
    const { testConnection } = await import('./test-connection.js');
    const tested = await testConnection({ target: 'all', partner }, context);
    result.test = tested.data;
    if (tested.text) lines.push('', tested.text);
    exitCode ??= tested.exitCode || undefined;
  } else lines.push(`next: dataprod test-connection all --partner ${partner}`);
  return { data: result, text: lines.join('\n'), ...(exitCode ? { exitCode } : {}) };
}
