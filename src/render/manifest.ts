import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageFile, PackageManifest } from './package.js';

/** Hex SHA-256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), bytes: (await stat(path)).size };
}

/** Name of the checksum file in every package. */
export const SHA256SUMS = 'SHA256SUMS';
export const MANIFEST = 'manifest.json';

/**
 * Writes manifest.json, then SHA256SUMS in `sha256sum -c` format ("<hex>  <name>") over
 * the data files and manifest.json, into a package directory that is still temporary
 * (the caller renames it into place). Returns manifest.json's own checksum entry.
 */
export async function writeManifestAndSums(dir: string, manifest: PackageManifest): Promise<PackageFile> {
  const manifestPath = join(dir, MANIFEST);
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const own = await hashFile(manifestPath);
  const lines = [...manifest.files.map((file) => `${file.sha256}  ${file.name}`), `${own.sha256}  ${MANIFEST}`];
  await writeFile(join(dir, SHA256SUMS), `${lines.join('\n')}\n`);
  return { name: MANIFEST, bytes: own.bytes, sha256: own.sha256, format: 'json', rows: 0 };
}

/** Parses a SHA256SUMS text into name -> hex. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match) sums.set(match[2]!, match[1]!);
  }
  return sums;
}
