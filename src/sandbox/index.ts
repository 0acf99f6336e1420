import type { Logger } from 'winston';
import { apiOptions, emailOptions } from '../connectors/options.js';
import { sandboxDir } from '../lake/layout.js';
import type { PartnerConfig } from '../partners/config.js';
import { resolveSecret } from '../secrets/index.js';
import { startApiSandbox, type ApiSandbox } from './api-server.js';
import { loadSandboxCredentials, type SandboxCredentials } from './keys.js';
import { startSftpSandbox, type SftpSandbox } from './sftp-server.js';
import { startSmtpSandbox, type SmtpSandbox } from './smtp-server.js';

/** The user name every sandbox server accepts. */
export const SANDBOX_USER = 'dataprod';

/** Secret names the sandbox answers itself; `applyTo` points destinations at them. */
export const sandboxSecretNames = {
  sftpPrivateKey: 'sftp-private-key',
  apiPassword: 'api-password',
  apiToken: 'api-token',
  smtpPassword: 'smtp-password',
} as const;

export interface SandboxOptions {
  home: string;
  /** Partner whose configuration will be pointed at the sandbox (other secrets resolve for it). */
  partner: string;
  /** Fixed ports (0 or absent: ephemeral ones on 127.0.0.1). */
  ports?: { sftp?: number; api?: number; smtp?: number };
  /** Debug lines from the servers. */
  logger?: Logger;
}

/** Loopback SFTP, partner API and SMTP servers keeping what they receive under <home>/sandbox/. */
export interface Sandbox {
  home: string;
  partner: string;
  /** The user every server accepts. */
  username: string;
  sftp: SftpSandbox;
  api: ApiSandbox;
  smtp: SmtpSandbox;
  /** Where things are: what arrived by SFTP, API and SMTP, and the generated keys and passwords. */
  dirs: { sftp: string; api: string; mail: string; keys: string };
  /** Sandbox credentials (sftp-private-key, api-password, api-token, smtp-password); other names resolve as usual. */
  secret(name: string): Promise<string>;
  /** A copy of the configuration with every destination and the notification channel pointed at the sandbox. */
  applyTo(config: PartnerConfig): PartnerConfig;
  /** Human text: the endpoints, where the credentials are, and where to look at what arrived. */
  describe(): string;
  close(): Promise<void>;
}

/**
 * Starts the three sandbox servers on 127.0.0.1. Keys and passwords are generated once
 * under <home>/sandbox/keys/ (mode 600), so the pinned host key stays the same.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const { home, partner } = options;
  const credentials: SandboxCredentials = await loadSandboxCredentials(home);
  const dirs = { sftp: sandboxDir(home, 'sftp'), api: sandboxDir(home, 'api'), mail: sandboxDir(home, 'mail'), keys: credentials.dir };
  const started: { close(): Promise<void> }[] = [];
  let sftp: SftpSandbox;
  let api: ApiSandbox;
  let smtp: SmtpSandbox;
  try {
    sftp = await startSftpSandbox({
      root: dirs.sftp,
      hostKey: credentials.host.privateKey,
      authorizedKey: credentials.client.publicKey,
      username: SANDBOX_USER,
      port: options.ports?.sftp,
      logger: options.logger,
    });
    started.push(sftp);
    api = await startApiSandbox({ root: dirs.api, username: SANDBOX_USER, password: credentials.apiPassword, staticToken: credentials.apiToken, port: options.ports?.api });
    started.push(api);
    smtp = await startSmtpSandbox({ root: dirs.mail, username: SANDBOX_USER, password: credentials.smtpPassword, port: options.ports?.smtp });
    started.push(smtp);
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.close()));
    throw error;
  }

  const own: Record<string, string> = {
    [sandboxSecretNames.sftpPrivateKey]: credentials.client.privateKey,
    [sandboxSecretNames.apiPassword]: credentials.apiPassword,
    [sandboxSecretNames.apiToken]: credentials.apiToken,
    [sandboxSecretNames.smtpPassword]: credentials.smtpPassword,
  };
  const apiDefaults = apiOptions.parse({ name: 'x', type: 'api', base_url: api.url, auth: { type: 'bearer' } });

  function applyTo(config: PartnerConfig): PartnerConfig {
    const copy = structuredClone(config);
    copy.destinations = copy.destinations.map((destination) => {
      switch (destination.type) {
        case 'sftp':
          return {
            ...destination,
            enabled: true,
            host: sftp.host,
            port: sftp.port,
            username: SANDBOX_USER,
            auth: 'key' as const,
            private_key_secret: sandboxSecretNames.sftpPrivateKey,
            passphrase_secret: undefined,
            password_secret: undefined,
            host_fingerprints: [sftp.fingerprint],
            known_hosts: undefined,
            allow_weak_algorithms: false,
          };
        case 'api':
          return {
            ...destination,
            enabled: true,
            base_url: api.url,
            auth:
              destination.auth.type === 'bearer'
                ? { type: 'bearer' as const, token_secret: sandboxSecretNames.apiToken }
                : { type: 'password' as const, token_path: '/oauth/token', username: SANDBOX_USER, password_secret: sandboxSecretNames.apiPassword },
            // The sandbox serves the standard paths.
            rows_path: apiDefaults.rows_path,
            files_path: apiDefaults.files_path,
            health_path: apiDefaults.health_path,
          };
        case 'email':
          return { ...destination, ...smtpSettings(), enabled: true };
        case 'local':
          return destination;
      }
    });
    const channel = copy.notifications.channel;
    if (!channel || channel.type === 'email') {
      copy.notifications.channel = channel
        ? { ...channel, ...smtpSettings(), enabled: true }
        : emailOptions.parse({ name: 'mail', type: 'email', from: 'dataprod@localhost', ...smtpSettings() });
    }
    return copy;
  }

  function smtpSettings() {
    // Plain SMTP is allowed to loopback only; the e-mail connector enforces that.
    return { host: smtp.host, port: smtp.port, security: 'none' as const, username: SANDBOX_USER, password_secret: sandboxSecretNames.smtpPassword };
  }

  return {
    home,
    partner,
    username: SANDBOX_USER,
    sftp: sftp!,
    api: api!,
    smtp: smtp!,
    dirs,
    async secret(name) {
      return own[name] ?? resolveSecret(partner, name);
    },
    applyTo,
    describe() {
      return [
        'Sandbox servers on 127.0.0.1 (they keep what they receive under ' + sandboxDir(home) + '):',
        `  SFTP  sftp://${SANDBOX_USER}@${sftp.host}:${sftp.port}  host key ${sftp.fingerprint}`,
        `        files arrive in   ${dirs.sftp}/`,
        `  API   ${api.url}  (token endpoint /oauth/token, user ${SANDBOX_USER})`,
        `        requests kept in  ${dirs.api}/`,
        `  SMTP  ${smtp.host}:${smtp.port}  (plain SMTP on loopback, user ${SANDBOX_USER})`,
        `        messages kept in  ${dirs.mail}/ (one .eml each)`,
        `  Credentials (generated once, mode 600): ${dirs.keys}/`,
        `        client key ${credentials.client.path}, API password ${dirs.keys}/api-password, SMTP password ${dirs.keys}/smtp-password`,
      ].join('\n');
    },
    async close() {
      await Promise.allSettled(started.map((server) => server.close()));
    },
  };
}
