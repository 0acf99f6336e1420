import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { startSmtpSandbox, type SmtpSandbox } from './smtp-server.js';

describe('sandbox SMTP server', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let smtp: SmtpSandbox;
  beforeEach(async () => {
    ({ home: root, cleanup } = await makeTempHome('dataprod-smtp-'));
    smtp = await startSmtpSandbox({ root, username: 'mailer', password: 'mail-pw-77a1' });
  });
  afterEach(async () => {
    await smtp.close();
    await cleanup();
  });

  const send = (auth?: { user: string; pass: string }) =>
    nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true, ...(auth ? { auth } : {}) }).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'hello', text: 'body' });

  it('stores each accepted message as <timestamp>-<id>.eml', async () => {
    await send({ user: 'mailer', pass: 'mail-pw-77a1' });
    const names = await readdir(root);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}\.eml$/);
    expect(await readFile(join(root, names[0]!), 'utf8')).toMatch(/^Subject: hello$/m);
  });

  it('with credentials configured, AUTH is required and checked', async () => {
    await expect(send({ user: 'mailer', pass: 'wrong' })).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
    await expect(send()).rejects.toMatchObject({ responseCode: 530 });
    expect(await readdir(root)).toEqual([]);
  });
});
