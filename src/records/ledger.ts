import { createHash } from 'node:crypto';
import type { DeliveryReceipt } from '../connectors/types.js';
import type { PackageManifest } from '../render/package.js';
import { ledgerPath } from '../lake/layout.js';
import { appendJsonLine, readJsonLines } from './jsonl.js';

/** What the ledger is idempotent on: one report period sent to one destination. */
export interface LedgerKey {
  partner: string;
  report: string;
  /** YYYY-MM-DD or YYYY-MM. */
  period: string;
  /** Destination name from the partner configuration. */
  destination: string;
}

/**
 * One ledger line. `delivered`: the package reached `destination`. `built`: the package was
 * built and passed the gates (destination `-`), the marker a run without destinations, or
 * the monthly catch-up, queries.
 */
export interface LedgerEntry extends LedgerKey {
  /** `key-rotated`: the pseudonymization key was replaced at `at` (report, period and destination `-`). */
  kind: 'delivered' | 'built' | 'key-rotated';
  /** ISO time it was recorded. */
  at: string;
  run_id: string;
  /** SHA-256 over the data files' names and hashes: equal content, equal fingerprint. */
  content_sha256: string;
  rows: number;
  files: { name: string; bytes: number; sha256: string }[];
  bytes: number;
  retries: number;
  /** Where it landed (sftp://..., https://..., a directory). */
  location?: string;
  /** True when sent with --force although already delivered. */
  forced?: boolean;
  /** key-rotated: public ids of the new and the replaced key (never the keys). */
  key_id?: string;
  previous_key_id?: string | null;
}

/** The destination name used for `built` markers. */
export const BUILT_MARKER = '-';

/**
 * Fingerprint of what a package delivers: its data files (name and SHA-256), not
 * manifest.json, whose generated_at changes on every rebuild of the same data.
 */
export function packageFingerprint(manifest: Pick<PackageManifest, 'files'>): string {
  const lines = manifest.files.map((file) => `${file.name}\t${file.sha256}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

export async function readLedger(home: string, partner: string): Promise<LedgerEntry[]> {
  return readJsonLines<LedgerEntry>(ledgerPath(home, partner));
}

function sameKey(entry: LedgerKey, key: LedgerKey): boolean {
  return entry.partner === key.partner && entry.report === key.report && entry.period === key.period && entry.destination === key.destination;
}

/**
 * The ledger entry showing this exact content already reached this destination, or
 * null: then (or with --force) the runner delivers. A different content for the same key
 * (a rebuilt report with new data) is not delivered yet.
 */
export async function isDelivered(home: string, key: LedgerKey, manifest: Pick<PackageManifest, 'files'>): Promise<LedgerEntry | null> {
  const fingerprint = packageFingerprint(manifest);
  const entries = await readLedger(home, key.partner);
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index]!;
    if (entry.kind === 'delivered' && sameKey(entry, key) && entry.content_sha256 === fingerprint) return entry;
  }
  return null;
}

export interface RecordDeliveryOptions {
  runId: string;
  /** What the connector reported; files and bytes default to the manifest's. */
  receipt?: Pick<DeliveryReceipt, 'files' | 'bytes' | 'retries' | 'location'>;
  /** Where it landed, when no receipt is given. */
  location?: string;
  /** True when sent with --force although already delivered. */
  forced?: boolean;
  now?: Date;
}

type LedgerManifest = Pick<PackageManifest, 'files' | 'rows'>;

function entryFor(kind: LedgerEntry['kind'], key: LedgerKey, manifest: LedgerManifest, options: RecordDeliveryOptions): LedgerEntry {
  const files = (options.receipt?.files ?? manifest.files).map((file) => ({ name: file.name, bytes: file.bytes, sha256: file.sha256 }));
  const location = options.receipt?.location ?? options.location;
  return {
    kind,
    partner: key.partner,
    report: key.report,
    period: key.period,
    destination: key.destination,
    at: (options.now ?? new Date()).toISOString(),
    run_id: options.runId,
    // The fingerprint is always of the manifest's data files, so isDelivered compares like with like.
    content_sha256: packageFingerprint(manifest),
    rows: manifest.rows,
    files,
    bytes: options.receipt?.bytes ?? files.reduce((sum, file) => sum + file.bytes, 0),
    retries: options.receipt?.retries ?? 0,
    ...(location ? { location } : {}),
    ...(options.forced ? { forced: true } : {}),
  };
}

/** Records that a package reached a destination (append + fsync). Call right after `deliver` succeeds. */
export async function recordDelivery(home: string, key: LedgerKey, manifest: LedgerManifest, options: RecordDeliveryOptions): Promise<LedgerEntry> {
  const entry = entryFor('delivered', key, manifest, options);
  await appendJsonLine(ledgerPath(home, key.partner), entry);
  return entry;
}

/** Records that a report period was built and passed its gates (destination `-`). */
export async function recordBuilt(home: string, key: Omit<LedgerKey, 'destination'>, manifest: LedgerManifest, options: Pick<RecordDeliveryOptions, 'runId' | 'now'>): Promise<LedgerEntry> {
  const entry = entryFor('built', { ...key, destination: BUILT_MARKER }, manifest, options);
  await appendJsonLine(ledgerPath(home, key.partner), entry);
  return entry;
}

export interface LastDeliveredOptions {
  /** Only this destination; any destination by default. */
  destination?: string;
  /** Also count `built` markers (a partner without destinations). Default false. */
  includeBuilt?: boolean;
}

/**
 * The latest delivery of a report (of one period, to one destination, when given), or
 * null. "Is last month's report at the SFTP?" is
 * `lastDelivered(home, p, 'monthly-by-city', '2026-10', 'partner-sftp')`.
 */
export async function lastDelivered(home: string, partner: string, report: string, period?: string, destinationOrOptions: string | LastDeliveredOptions = {}): Promise<LedgerEntry | null> {
  const options = typeof destinationOrOptions === 'string' ? { destination: destinationOrOptions } : destinationOrOptions;
  const entries = await readLedger(home, partner);
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index]!;
    if (entry.report !== report || entry.kind === 'key-rotated') continue;
    if (period !== undefined && entry.period !== period) continue;
    if (options.destination !== undefined && entry.destination !== options.destination) continue;
    if (entry.kind === 'built' && !options.includeBuilt) continue;
    return entry;
  }
  return null;
}

/** Records that the partner's pseudonymization key was replaced (`dataprod secrets rotate-key`). */
export async function recordKeyRotation(home: string, partner: string, rotation: { at: string; runId: string; keyId: string; previousKeyId: string | null }): Promise<LedgerEntry> {
  const entry: LedgerEntry = {
    kind: 'key-rotated',
    partner,
    report: BUILT_MARKER,
    period: BUILT_MARKER,
    destination: BUILT_MARKER,
    at: rotation.at,
    run_id: rotation.runId,
    content_sha256: '',
    rows: 0,
    files: [],
    bytes: 0,
    retries: 0,
    key_id: rotation.keyId,
    previous_key_id: rotation.previousKeyId,
  };
  await appendJsonLine(ledgerPath(home, partner), entry);
  return entry;
}

/**
 * The delivery of this report period to this destination made before the latest key
 * rotation, when nothing was delivered there since: a rebuild under the new key differs
 * byte for byte (every order_key and customer_key changed) but is the same sales, so the
 * runner treats it as delivered instead of sending the partner duplicates.
 */
export async function deliveredBeforeRotation(home: string, key: LedgerKey): Promise<{ delivery: LedgerEntry; rotation: LedgerEntry } | null> {
  const entries = await readLedger(home, key.partner);
  const last = (match: (entry: LedgerEntry) => boolean) => [...entries].reverse().find(match);
  const rotation = last((entry) => entry.kind === 'key-rotated');
  if (!rotation) return null;
  const delivery = last((entry) => entry.kind === 'delivered' && sameKey(entry, key));
  if (!delivery || delivery.at >= rotation.at) return null;
  return { delivery, rotation };
}
