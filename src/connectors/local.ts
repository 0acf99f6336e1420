import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, TerminalError, TransientError } from '../errors.js';
import { writeFileAtomic } from '../lake/atomic.js';
import {
  baseDirectory,
  elapsed,
  fillDirectoryTemplate,
  hasUnsafeSegment,
  isTemporaryUploadName,
  listPackageUploads,
  probeFileName,
  sha256File,
  temporaryUploadName,
  type PackageUpload,
} from './delivery.js';
import type { LocalOptions } from './options.js';
import { retryOptionsFrom, withRetry } from './retry.js';
import type { CheckResult, Connector, ConnectorContext, DeliveryReceipt, Notification } from './types.js';
import type { OutboxPackage } from '../render/package.js';

/** Type name in the partner file (`type: local`). */
export const LOCAL_CONNECTOR = 'local';

/** The local connector also says how many injected faults fired (rehearsals and tests). */
export interface LocalConnector extends Connector {
  readonly faultsInjected: number;
}

function resolveUnderHome(home: string, path: string): string {
  return isAbsolute(path) ? path : resolve(home, path);
}

/**
 * A directory as a destination: the same temp-file-then-rename discipline as SFTP, and
 * faults on demand (`fail: transient|terminal`, `fail_times: N`) for --dry-run
 * rehearsals and the retry tests. Notifications become .eml files in
 * <base>/notifications/.
 */
export function createLocalConnector(options: LocalOptions, context: ConnectorContext): LocalConnector {
  if (hasUnsafeSegment(options.directory.replace(/\{(partner|report|period)\}/g, 'x'))) {
    throw new ConfigError(`destination ${options.name}: directory "${options.directory}" may only use {partner}, {report} and {period} and no ".."`, {
      hint: 'e.g. directory: deliveries/{partner}/{report}/{period}',
    });
  }
  let calls = 0;
  let injected = 0;

  /** Fault injection: counts every delivery or notification attempt and fails the first `fail_times` (all when absent). */
  function maybeFail(what: string): void {
    calls += 1;
    if (!options.fail) return;
    if (options.fail_times !== undefined && calls > options.fail_times) return;
    injected += 1;
    const message = `destination ${options.name}: injected ${options.fail} failure ${calls} while ${what} (fail: ${options.fail} in the partner file)`;
    if (options.fail === 'transient') throw new TransientError(message, { hint: 'remove fail: from the destination to stop injecting faults' });
    throw new TerminalError(message, { hint: 'remove fail: from the destination to stop injecting faults' });
  }

  function classify(error: unknown, where: string): unknown {
    if (error instanceof TransientError || error instanceof TerminalError || !(error instanceof Error)) return error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return new TerminalError(`destination ${options.name}: permission denied writing ${where}`, { exitCode: 77, cause: error, hint: 'make the directory writable by the user running dataprod' });
    }
    if (code === 'ENOSPC' || code === 'EBUSY' || code === 'EAGAIN') {
      return new TransientError(`destination ${options.name}: ${code} writing ${where}`, { exitCode: 73, cause: error, hint: 'free some space and run again' });
    }
    if (code) return new TerminalError(`destination ${options.name}: ${error.message}`, { exitCode: 73, cause: error, hint: 'check the directory in the partner file' });
    return error;
  }

  async function copyInto(dir: string, upload: PackageUpload, skipped: Set<string>, beforeRename: () => void): Promise<void> {
    const finalPath = join(dir, upload.name);
    try {
      const existing = await stat(finalPath);
      if (existing.size === upload.bytes && (await sha256File(finalPath)) === upload.sha256) {
        skipped.add(upload.name);
        return;
      }
    } catch {
      // Absent: copy it.
    }
    const temporary = join(dir, temporaryUploadName(upload.name));
    try {
      await copyFile(upload.path, temporary);
      beforeRename();
      const copied = await stat(temporary);
      if (copied.size !== upload.bytes) throw new TransientError(`destination ${options.name}: ${upload.name} copied ${copied.size} of ${upload.bytes} bytes`);
      await rename(temporary, finalPath);
    } catch (error) {
      await rm(temporary, { force: true });
      throw classify(error, finalPath);
    }
  }

  return {
    name: options.name,
    type: LOCAL_CONNECTOR,

    get faultsInjected() {
      return injected;
    },

    async check(): Promise<CheckResult[]> {
      const base = resolveUnderHome(context.home, baseDirectory(options.directory, context.partner) || '.');
      const results: CheckResult[] = [];
      let start = performance.now();
      // Nearest existing ancestor: delivery creates the rest.
      let existing = base;
      for (;;) {
        try {
          if ((await stat(existing)).isDirectory()) break;
          results.push({ check: 'directory', ok: false, ms: elapsed(start), detail: `${existing} exists and is not a directory`, hint: 'fix directory: in the partner file', exitCode: 78 });
          return results;
        } catch {
          const parent = dirname(existing);
          if (parent === existing) break;
          existing = parent;
        }
      }
      results.push({ check: 'directory', ok: true, ms: elapsed(start), detail: existing === base ? base : `${base} will be created under ${existing}` });
      start = performance.now();
      const probe = join(existing, probeFileName());
      try {
        await access(existing, constants.W_OK);
        await writeFile(probe, 'dataprod test-connection probe\n');
        await rm(probe, { force: true });
        results.push({
          check: 'permission',
          ok: true,
          ms: elapsed(start),
          detail: `wrote and removed a probe file in ${existing}${options.fail ? ` (fault injection on: fail: ${options.fail})` : ''}`,
        });
      } catch (error) {
        await rm(probe, { force: true }).catch(() => undefined);
        results.push({
          check: 'permission',
          ok: false,
          ms: elapsed(start),
          detail: `cannot write in ${existing}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          hint: 'make the directory writable by the user running dataprod, or change directory: in the partner file',
          exitCode: 77,
        });
      }
      return results;
    },

    async deliver(pkg: OutboxPackage): Promise<DeliveryReceipt> {
      const uploads = await listPackageUploads(pkg);
      const { partner, report, period } = pkg.manifest;
      const dir = resolveUnderHome(context.home, fillDirectoryTemplate(options.directory, { partner, report, period }));
      const skipped = new Set<string>();
      let retries = 0;
      await withRetry(
        async () => {
          try {
            await mkdir(dir, { recursive: true });
            // Leftovers of an attempt killed before its cleanup ran.
            for (const entry of await readdir(dir)) {
              if (uploads.some((upload) => isTemporaryUploadName(entry, upload.name))) await rm(join(dir, entry), { force: true });
            }
          } catch (error) {
            throw classify(error, dir);
          }
          // One injected fault per attempt, after a temporary copy exists, so the
          // cleanup path is what gets exercised.
          let faulted = false;
          const beforeRename = (name: string) => () => {
            if (faulted) return;
            faulted = true;
            maybeFail(`copying ${name}`);
          };
          for (const upload of uploads) {
            if (skipped.has(upload.name)) continue;
            await copyInto(dir, upload, skipped, beforeRename(upload.name));
            skipped.add(upload.name);
          }
        },
        retryOptionsFrom(options.retry, {
          signal: context.signal,
          onRetry: ({ attempt, delayMs, error }) => {
            retries += 1;
            context.logger.warn(`${options.name}: attempt ${attempt} failed (${error.message}); retrying in ${delayMs} ms`);
          },
        }),
      );
      return {
        destination: options.name,
        type: LOCAL_CONNECTOR,
        location: dir,
        files: uploads.map(({ name, bytes, sha256 }) => ({ name, bytes, sha256 })),
        bytes: uploads.reduce((sum, upload) => sum + upload.bytes, 0),
        retries,
      };
    },

    async notify(message: Notification): Promise<DeliveryReceipt> {
      const dir = join(resolveUnderHome(context.home, baseDirectory(options.directory, context.partner) || '.'), 'notifications');
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const file = join(dir, `${stamp}-${message.kind}-${randomBytes(3).toString('hex')}.eml`);
      const text = renderEml(message, options.name);
      let retries = 0;
      await withRetry(
        async () => {
          maybeFail('writing a notification');
          try {
            await writeFileAtomic(file, text);
          } catch (error) {
            throw classify(error, file);
          }
        },
        retryOptionsFrom(options.retry, {
          signal: context.signal,
          onRetry: () => {
            retries += 1;
          },
        }),
      );
      const bytes = Buffer.byteLength(text);
      return { destination: options.name, type: LOCAL_CONNECTOR, location: file, files: [{ name: basename(file), bytes, sha256: createHash('sha256').update(text).digest('hex') }], bytes, retries };
    },

    async close(): Promise<void> {
      // Nothing held open.
    },
  };
}

/** A plain MIME message (multipart/alternative) that mail clients open as an .eml file. */
function renderEml(message: Notification, from: string): string {
  const boundary = `dataprod-${randomBytes(8).toString('hex')}`;
  const header = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value).toString('base64')}?=`);
  const lines = [
    `From: dataprod (${header(from)}) <dataprod@localhost>`,
    `To: ${message.to.join(', ')}`,
    `Subject: ${header(message.subject)}`,
    `Date: ${new Date().toUTCString()}`,
    `X-Dataprod-Kind: ${message.kind}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    message.text,
    `--${boundary}`,
    ...htmlPart(message, boundary),
    `--${boundary}--`,
    '',
  ];
  return lines.join('\r\n');
}

/** The HTML part; with inline images (charts) a multipart/related holding the HTML and each image by Content-ID. */
function htmlPart(message: Notification, boundary: string): string[] {
  const html = ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', message.html];
  if (!message.inline?.length) return html;
  const related = `${boundary}-related`;
  return [
    `Content-Type: multipart/related; boundary="${related}"`,
    '',
    `--${related}`,
    ...html,
    ...message.inline.flatMap((image) => [
      `--${related}`,
      `Content-Type: ${image.contentType}; name="${image.filename}"`,
      'Content-Transfer-Encoding: base64',
      `Content-ID: <${image.cid}>`,
      `Content-Disposition: inline; filename="${image.filename}"`,
      '',
      ...(image.content.toString('base64').match(/.{1,76}/g) ?? []),
    ]),
    `--${related}--`,
  ];
}
