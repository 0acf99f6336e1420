import { lookup } from 'node:dns/promises';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import nodemailer, { type SMTPTransportOptions, type Transporter } from 'nodemailer';
import { ConfigError, DataprodError, ExitCode, TerminalError, TransientError } from '../errors.js';
import { redact } from '../log.js';
import type { EmailOptions } from './options.js';
import { retryOptionsFrom, withRetry } from './retry.js';
import { tcpProbe } from './probes.js';
import type { CheckResult, Connector, ConnectorContext, DeliveryReceipt, Notification } from './types.js';
import type { OutboxPackage } from '../render/package.js';

/**
 * Notifications over SMTP (nodemailer). Port 465 is implicit TLS (`secure: true`); 587
 * is STARTTLS with `requireTLS`, because an attacker on the path can strip the STARTTLS
 * offer and a client that does not insist would then send in the clear. Plain SMTP is
 * allowed only to loopback (the sandbox). Certificates are always verified.
 *
 * SMTP 4xx replies and connection failures are transient (retried here with the
 * destination's capped backoff); 5xx replies and authentication failures are terminal.
 * An e-mail that cannot be sent never undoes a delivery: the caller records the error.
 *
 * `deliver()` is not supported: e-mail carries notifications, not report files.
 */

export const EMAIL_CONNECTOR = 'email';

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
  message?: string;
}

class EmailConnector implements Connector {
  readonly type = EMAIL_CONNECTOR;
  readonly name: string;
  private transporter: Transporter | undefined;

  constructor(
    private readonly options: EmailOptions,
    private readonly context: ConnectorContext,
  ) {
    this.name = options.name;
  }

  private get where(): string {
    return `${this.name}: SMTP ${this.options.host}:${this.options.port}`;
  }

  private authHint(): string {
    return `check the SMTP user ${this.options.username ?? ''} and its password: dataprod secrets set --partner ${this.context.partner} ${this.options.password_secret}`;
  }

  /** Transport options: TLS per `security`, certificates verified, timeouts on every phase. */
  private async transportOptions(withAuth: boolean): Promise<SMTPTransportOptions> {
    const { options } = this;
    const auth = withAuth && options.username ? { user: options.username, pass: await this.context.secret(options.password_secret) } : undefined;
    return {
      host: options.host,
      port: options.port,
      secure: options.security === 'tls',
      requireTLS: options.security === 'starttls',
      ignoreTLS: options.security === 'none',
      ...(auth ? { auth } : {}),
      connectionTimeout: options.timeout_ms,
      greetingTimeout: options.timeout_ms,
      socketTimeout: options.timeout_ms,
      dnsTimeout: options.timeout_ms,
      // servername for SNI and name checks; rejectUnauthorized stays at its default (true).
      tls: { minVersion: 'TLSv1.2', ...(isIP(options.host) ? {} : { servername: options.host }) },
      disableUrlAccess: true,
      logger: false,
      debug: false,
    };
  }

  private async transport(): Promise<Transporter> {
    this.transporter ??= nodemailer.createTransport(await this.transportOptions(true));
    return this.transporter;
  }

  /** Turns a nodemailer failure into ours: transient for 4xx and the network, terminal for 5xx and auth. */
  private classify(error: unknown): DataprodError {
    if (error instanceof DataprodError) return error;
    const failure = error as SmtpFailure;
    // OpenSSL errors come as "80CC...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:...": keep the reason.
    const openssl = /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):/.exec(failure.message ?? '')?.[1];
    const said = failure.response ?? (openssl ? `TLS handshake failed (${openssl})` : failure.message);
    const reply = said ? `: ${said.replace(/\s+/g, ' ').trim()}` : '';
    const line = redact(`${this.where}${failure.command ? ` (${failure.command.split(' ')[0]})` : ''} failed${reply}`);
    const code = failure.code ?? '';
    const status = failure.responseCode ?? 0;
    if (code === 'EAUTH' || status === 535 || status === 534) return new TerminalError(line, { exitCode: ExitCode.permission, hint: this.authHint() });
    if (code === 'ENOAUTH') return new TerminalError(line, { exitCode: ExitCode.config, hint: this.authHint() });
    if (code === 'ETLS' || code === 'EREQUIRETLS' || /certificate|self[- ]signed|CERT_|wrong version number/i.test(failure.message ?? '')) {
      return new TerminalError(line, {
        exitCode: ExitCode.permission,
        hint:
          this.options.security === 'starttls'
            ? 'the server must offer STARTTLS with a valid certificate (port 587); for implicit TLS use port 465 with security: tls'
            : openssl === 'wrong version number'
              ? 'the server does not speak TLS on this port: port 465 is implicit TLS; for STARTTLS use 587 with security: starttls'
              : 'the server must present a valid certificate for its name',
      });
    }
    if (status >= 400 && status < 500) return new TransientError(line, { hint: 'the mail server deferred the message; it is retried' });
    if (status >= 500) return new TerminalError(line, { hint: 'the mail server refused the message; check the sender and recipient addresses' });
    if (TRANSIENT_CODES.has(code)) return new TransientError(line, { hint: `check that ${this.options.host}:${this.options.port} is reachable (dataprod test-connection smtp --partner ${this.context.partner})` });
    return new TerminalError(line, { hint: 'see the message; rerun with --verbose for details' });
  }

  async notify(message: Notification): Promise<DeliveryReceipt> {
    if (message.to.length === 0) throw new TerminalError(`${this.name}: the ${message.kind} message "${message.subject}" has no recipients`, { exitCode: ExitCode.config, hint: 'add recipients under notifications in the partner configuration' });
    const attachments = await this.allowedAttachments(message);
    let retries = 0;
    const info = await withRetry(
      async () => {
        try {
          const transport = await this.transport();
          return (await transport.sendMail({
            from: this.options.from,
            to: message.to,
            subject: message.subject,
            text: message.text,
            html: message.html,
            attachments: [
              ...(message.inline ?? []).map((image) => ({ filename: image.filename, content: image.content, contentType: image.contentType, cid: image.cid, contentDisposition: 'inline' as const })),
              ...attachments.map((attachment) => ({ filename: attachment.filename, path: attachment.path })),
            ],
            headers: { 'X-Dataprod-Kind': message.kind },
          })) as { messageId?: string; messageSize?: number; accepted?: unknown[]; rejected?: unknown[] };
        } catch (error) {
          // A failed connection may leave the pooled state unusable: start afresh next time.
          this.transporter?.close();
          this.transporter = undefined;
          throw this.classify(error);
        }
      },
      retryOptionsFrom(this.options.retry, {
        signal: this.context.signal,
        onRetry: ({ attempt, delayMs, error }) => {
          retries += 1;
          this.context.logger.warn(`${this.name}: attempt ${attempt} to send "${message.subject}" failed (${error.message}); retrying in ${delayMs} ms`);
        },
      }),
    );
    if (info.rejected && info.rejected.length > 0) this.context.logger.warn(`${this.name}: the server refused ${info.rejected.length} recipient(s) of "${message.subject}"`);
    const files = attachments.map((attachment) => ({ name: attachment.filename, bytes: attachment.bytes, sha256: attachment.sha256 }));
    return {
      destination: this.name,
      type: EMAIL_CONNECTOR,
      location: `smtp://${this.options.host}:${this.options.port} to ${message.to.join(', ')}`,
      files,
      bytes: info.messageSize ?? 0,
      retries,
    };
  }

  /** Attachments only when the destination allows them, and within its size cap. */
  private async allowedAttachments(message: Notification): Promise<{ filename: string; path: string; bytes: number; sha256: string }[]> {
    if (!message.attachments?.length) return [];
    if (!this.options.attachments) {
      this.context.logger.warn(`${this.name}: attachments are off for this channel; sending "${message.subject}" without them`);
      return [];
    }
    const sized = await Promise.all(message.attachments.map(async (attachment) => ({ ...attachment, bytes: (await stat(attachment.path)).size })));
    const kept: { filename: string; path: string; bytes: number; sha256: string }[] = [];
    let total = 0;
    for (const attachment of sized) {
      if (total + attachment.bytes > this.options.attachment_max_bytes) {
        this.context.logger.warn(`${this.name}: not attaching ${attachment.filename} (${attachment.bytes} bytes): over attachment_max_bytes ${this.options.attachment_max_bytes}`);
        continue;
      }
      total += attachment.bytes;
      kept.push({ ...attachment, sha256: createHash('sha256').update(await readFile(attachment.path)).digest('hex') });
    }
    return kept;
  }

  async deliver(pkg: OutboxPackage): Promise<DeliveryReceipt> {
    throw new TerminalError(`destination ${this.name} is an e-mail channel: it sends notifications, not the files of ${pkg.manifest.report} ${pkg.manifest.period}`, {
      exitCode: ExitCode.config,
      hint: 'put it under notifications.channel, and deliver the files by sftp, api or local',
    });
  }

  async check(): Promise<CheckResult[]> {
    const { options } = this;
    const results: CheckResult[] = [];
    const step = async (check: string, run: () => Promise<string>, onError: (error: unknown) => Omit<CheckResult, 'check' | 'ok' | 'ms'>): Promise<boolean> => {
      const started = Date.now();
      try {
        results.push({ check, ok: true, ms: Date.now() - started, detail: await run() });
        return true;
      } catch (error) {
        results.push({ check, ok: false, ms: Date.now() - started, ...onError(error) });
        return false;
      }
    };
    const asRow = (error: unknown) => {
      const failure = this.classify(error);
      return { detail: failure.message, hint: failure.hint, exitCode: failure instanceof TransientError ? ExitCode.unavailable : failure.exitCode };
    };
    const verify = async (withAuth: boolean) => {
      const transport = nodemailer.createTransport(await this.transportOptions(withAuth));
      try {
        await transport.verify();
      } finally {
        transport.close();
      }
    };
    const ok =
      (await step(
        'dns',
        async () => (isIP(options.host) ? `${options.host} is an IP address` : `${options.host} -> ${(await lookup(options.host)).address}`),
        (error) => ({ detail: `cannot resolve ${options.host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, hint: 'check notifications.channel.host', exitCode: ExitCode.unavailable }),
      )) &&
      (await step('tcp', () => tcpProbe(options.host, options.port, Math.min(options.timeout_ms, 15_000)), (error) => ({ detail: (error as Error).message, hint: `check host, port and the firewall towards ${options.host}:${options.port}`, exitCode: ExitCode.unavailable }))) &&
      (await step(
        'tls',
        async () => {
          await verify(false);
          if (options.security === 'none') return 'plain SMTP to loopback (no TLS needed); greeting and EHLO answered';
          return options.security === 'tls' ? 'implicit TLS (port 465), certificate verified' : 'STARTTLS required and negotiated, certificate verified';
        },
        asRow,
      ));
    if (!ok) return results;
    if (!options.username) {
      results.push({ check: 'auth', ok: true, ms: 0, detail: 'no username configured: sending without AUTH' });
      return results;
    }
    await step(
      'auth',
      async () => {
        await verify(true);
        return `logged in as ${options.username}`;
      },
      asRow,
    );
    return results;
  }

  async close(): Promise<void> {
    this.transporter?.close();
    this.transporter = undefined;
  }
}

/** Validates TLS settings up front (plain SMTP only to loopback; 465 means TLS, 587 STARTTLS). */
export function createEmailConnector(options: EmailOptions, context: ConnectorContext): Connector {
  const where = `destination ${options.name} (${options.host}:${options.port})`;
  if (options.security === 'none' && !isLoopbackHost(options.host)) {
    throw new ConfigError(`${where}: security: none sends mail and passwords in the clear; it is allowed only to loopback`, {
      hint: 'use port 465 with security: tls, or 587 with security: starttls',
    });
  }
  if (options.port === 465 && options.security === 'starttls') {
    throw new ConfigError(`${where}: port 465 is implicit TLS but security is starttls`, { hint: 'set security: tls for port 465, or use port 587 for STARTTLS' });
  }
  if (options.port === 587 && options.security === 'tls') {
    throw new ConfigError(`${where}: port 587 uses STARTTLS but security is tls (implicit TLS)`, { hint: 'set security: starttls for port 587, or use port 465 for implicit TLS' });
  }
  return new EmailConnector(options, context);
}
