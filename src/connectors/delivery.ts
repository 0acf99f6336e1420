import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import type { OutboxPackage } from '../render/package.js';

/**
 * What every file-moving connector (sftp, local) shares: the order a package is sent
 * in, the directory template, and the names of temporary and probe files.
 */

/** One file of a package as it is uploaded. */
export interface PackageUpload {
  name: string;
  /** Absolute local path. */
  path: string;
  bytes: number;
  sha256: string;
  /**
   * The SHA-256 is the manifest's and the file has not been read yet: the sender hashes
   * the bytes as it sends them and refuses to put the file in place if they differ.
   */
  hashWhileSending?: boolean;
}

export const MANIFEST_FILE = 'manifest.json';
export const SUMS_FILE = 'SHA256SUMS';

/** Hex SHA-256 of a local file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The files of a package in delivery order: data files first (as the manifest lists
 * them), then manifest.json, then SHA256SUMS, so a partner that sees the manifest sees
 * complete files. Each data file is checked against the manifest's size and SHA-256:
 * a package that changed after it was built is never sent. With `hashWhileSending`
 * only the sizes are checked here and the hashes are left to the sender, which then
 * reads each data file once instead of twice.
 */
export async function listPackageUploads(pkg: OutboxPackage, options: { hashWhileSending?: boolean } = {}): Promise<PackageUpload[]> {
  const uploads: PackageUpload[] = [];
  const read = async (name: string, manifestSha256?: string): Promise<PackageUpload> => {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) {
      throw new DataError(`package ${pkg.dir} lists an unsafe file name "${name}"`, { hint: 'rebuild the package with dataprod build' });
    }
    const path = join(pkg.dir, name);
    let bytes: number;
    try {
      bytes = (await stat(path)).size;
    } catch {
      throw new DataError(`package ${pkg.dir} is missing ${name}`, { hint: 'rebuild the package with dataprod build' });
    }
    if (manifestSha256 !== undefined) return { name, path, bytes, sha256: manifestSha256, hashWhileSending: true };
    return { name, path, bytes, sha256: await sha256File(path) };
  };
  for (const file of pkg.manifest.files) {
    const upload = await read(file.name, options.hashWhileSending ? file.sha256 : undefined);
    if (upload.bytes !== file.bytes || upload.sha256 !== file.sha256) {
      throw new DataError(`${upload.path} does not match its manifest (size or SHA-256 differs)`, { hint: 'rebuild the package with dataprod build' });
    }
    uploads.push(upload);
  }
  uploads.push(await read(MANIFEST_FILE));
  uploads.push(await read(SUMS_FILE));
  return uploads;
}

/** Placeholders a directory template may use. */
export interface TemplateValues {
  partner: string;
  report: string;
  period: string;
}

/** Fills {partner}, {report} and {period}; anything else in braces is left for the caller to reject. */
export function fillDirectoryTemplate(template: string, values: TemplateValues): string {
  return template.replace(/\{(partner|report|period)\}/g, (_, key: keyof TemplateValues) => values[key]);
}

/**
 * The fixed part of a directory template: {partner} filled, cut at the first other
 * placeholder. `test-connection` probes write permission there, and notifications of
 * the local connector go below it.
 */
export function baseDirectory(template: string, partner: string): string {
  const filled = template.replace(/\{partner\}/g, partner);
  const index = filled.indexOf('{');
  const base = index === -1 ? filled : filled.slice(0, index);
  // Cut back to a whole directory: "/inbound/day-{period}" has base "/inbound/".
  const slash = base.lastIndexOf('/');
  if (index !== -1) return slash === -1 ? '' : base.slice(0, slash + 1);
  return base;
}

/** Rejects templates that could escape their root once filled. */
export function hasUnsafeSegment(path: string): boolean {
  return path.split(/[/\\]/).some((segment) => segment === '..') || /[{}]/.test(path);
}

/** A hidden temporary name beside the final one, so the rename stays in one directory. */
export function temporaryUploadName(name: string): string {
  return `.${name}.part-${randomBytes(6).toString('hex')}`;
}

/** True for a temporary upload of `name` (or of any file when name is absent) left by an interrupted attempt. */
export function isTemporaryUploadName(candidate: string, name?: string): boolean {
  const match = /^\.(.+)\.part-[0-9a-f]{12}$/.exec(candidate);
  return match !== null && (name === undefined || match[1] === name);
}

/** The file `check()` writes and removes to prove write permission. */
export function probeFileName(): string {
  return `.dataprod-probe-${randomBytes(6).toString('hex')}`;
}

/** Parses sha256sum output ("<hex>  <name>" or "<hex> *<name>") into name -> hex. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (match) sums.set(match[2]!, match[1]!.toLowerCase());
  }
  return sums;
}

/** Milliseconds since `start` (performance.now()), rounded. */
export function elapsed(start: number): number {
  return Math.round(performance.now() - start);
}

/** Runs `work` over `items`, at most `limit` at a time; after the first failure starts no more, waits for the rest, throws that failure. */
export async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
}
