import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from '../sandbox/index.js';
import type { CommandContext, CommandResult } from './context.js';

export interface SandboxOptions {
  /** Partner whose other secrets the sandbox resolves (its own credentials are generated). */
  partner: string;
  /** Fixed ports (default: ephemeral ones). */
  ports?: { sftp?: number; api?: number; smtp?: number };
  /** Stops the servers; without it they run until SIGINT or SIGTERM. */
  signal?: AbortSignal;
  /** Told once the servers listen (tests use it to connect). */
  onReady?: (sandbox: Sandbox) => void | Promise<void>;
}

/** What `dataprod sandbox --json` prints when it stops. */
export interface SandboxSummary {
  sftp: { host: string; port: number; fingerprint: string; root: string };
  api: { url: string; root: string };
  smtp: { host: string; port: number; root: string };
  keys: string;
  /** Files present under each folder when the sandbox stopped. */
  received: { sftp_files: number; api_requests: number; mail_messages: number };
}

async function countFiles(dir: string): Promise<number> {
  let count = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) count += await countFiles(join(dir, entry.name));
    else if (!entry.name.startsWith('.')) count += 1;
  }
  return count;
}

function waitForStop(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const stop = (reason: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    const onInt = stop('SIGINT');
    const onTerm = stop('SIGTERM');
    const onAbort = stop('stopped');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `dataprod sandbox`: starts loopback SFTP, partner API and SMTP servers, prints where
 * they listen and where what they receive is kept, and runs until Ctrl-C (SIGINT) or
 * SIGTERM, then closes them cleanly.
 */
export async function sandbox(options: SandboxOptions, context: CommandContext): Promise<CommandResult<SandboxSummary>> {
  const { startSandbox } = await import('../sandbox/index.js');
  const running = await startSandbox({ home: context.home, partner: options.partner, ports: options.ports, logger: context.logger });
  let reason: string;
  try {
    context.logger.info(running.describe());
    context.logger.info(`Deliver to it: dataprod run --partner ${options.partner} --sandbox  (starts its own servers on the same folders)`);
    context.logger.info('Press Ctrl-C to stop.');
    await options.onReady?.(running);
    reason = await waitForStop(options.signal);
  } finally {
    await running.close();
  }
  const summary: SandboxSummary = {
    sftp: { host: running.sftp.host, port: running.sftp.port, fingerprint: running.sftp.fingerprint, root: running.dirs.sftp },
    api: { url: running.api.url, root: running.dirs.api },
    smtp: { host: running.smtp.host, port: running.smtp.port, root: running.dirs.mail },
    keys: running.dirs.keys,
    received: {
      sftp_files: await countFiles(running.dirs.sftp),
      api_requests: await countFiles(running.dirs.api),
      mail_messages: await countFiles(running.dirs.mail),
    },
  };
  const text = [
    `sandbox stopped (${reason}).`,
    `  ${summary.received.sftp_files} file(s) under ${summary.sftp.root}/`,
    `  ${summary.received.api_requests} stored API request(s) under ${summary.api.root}/`,
    `  ${summary.received.mail_messages} message(s) under ${summary.smtp.root}/`,
  ].join('\n');
  return { data: summary, text };
}
