import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { writeFileAtomic } from '../lake/atomic.js';

/**
 * The sandbox mail server: plain SMTP on 127.0.0.1 (loopback needs no TLS), optional
 * AUTH PLAIN/LOGIN, and every message kept as <root>/<timestamp>-<id>.eml so people and
 * tests can open exactly what was sent.
 */

export interface SmtpSandboxOptions {
  /** Where messages are kept, normally <home>/sandbox/mail. */
  root: string;
  /** When set (with password), AUTH is required; otherwise anyone on loopback may send. */
  username?: string;
  password?: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
}

export interface SmtpSandbox {
  host: string;
  port: number;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

function same(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** Starts the sandbox SMTP server on 127.0.0.1. */
export async function startSmtpSandbox(options: SmtpSandboxOptions): Promise<SmtpSandbox> {
  await mkdir(options.root, { recursive: true });
  const requireAuth = Boolean(options.username && options.password);
  const server = new SMTPServer({
    name: 'dataprod-sandbox',
    banner: 'dataprod sandbox SMTP',
    secure: false,
    // Loopback only: no STARTTLS (and so no test certificate), AUTH allowed in the clear.
    disabledCommands: requireAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !requireAuth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    size: MAX_MESSAGE_BYTES,
    closeTimeout: 1000,
    logger: false,
    onAuth(auth, _session, callback) {
      if (requireAuth && same(auth.username ?? '', options.username!) && same(auth.password ?? '', options.password!)) {
        callback(null, { user: auth.username });
        return;
      }
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => callback(error));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(Object.assign(new Error('Message exceeds the sandbox size limit'), { responseCode: 552 }));
          return;
        }
        const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
        const id = randomBytes(4).toString('hex');
        writeFileAtomic(join(options.root, `${stamp}-${id}.eml`), Buffer.concat(chunks)).then(
          () => callback(null, `Queued as ${id}`),
          (error: Error) => callback(Object.assign(new Error(`sandbox could not store the message: ${error.message}`), { responseCode: 451 })),
        );
      });
    },
  });
  server.on('error', () => {
    // Client-side hiccups (a dropped connection) must not crash the sandbox.
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
