import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type SourceTable, bronzeDir, quarantineFile, silverFile, sourceTables } from '../lake/layout.js';
import type { DatasetInput, LineageStep } from './lineage.js';

/**
 * The lineage steps of a run's stages: each step is one unit of work whose outputs come
 * from its own inputs only, so `dataprod lineage` links a partition to the partitions it
 * was made from and not to everything the stage touched.
 *
 * What counts as an input is what the rows are made from. Cleaning a table's day reads
 * that day's bronze partition; its reference check (is the customer, the product known?)
 * also reads earlier silver customers and products, but only to decide which rows go to
 * quarantine, like a dbt relationships test, which does not make a model depend on the
 * table it checks against. A report reads exactly the silver files it names (BuiltReport.inputs).
 */

/** Extract: one step per table and day written, its output the bronze partition. */
export function extractSteps(home: string, days: readonly string[], tables: readonly SourceTable[] = sourceTables): LineageStep[] {
  return days.flatMap((day) => tables.map((table) => ({ job: table, key: day, outputs: [bronzeDir(home, table, day)] })));
}

/** Clean: one step per table and day cleaned, bronze partition -> silver (+ quarantine when rows were held back). */
export function cleanSteps(home: string, days: readonly string[], tables: readonly SourceTable[] = sourceTables): LineageStep[] {
  return days.flatMap((day) =>
    tables.map((table) => ({
      job: table,
      key: day,
      inputs: [bronzeDir(home, table, day)],
      outputs: [silverFile(home, table, day), quarantineFile(home, table, day)].filter((path) => existsSync(path)),
    })),
  );
}

/** What buildSteps needs of a built report. */
export interface BuiltForLineage {
  report: string;
  period: string;
  gold: string;
  /** The silver files its query read. */
  inputs: string[];
  outbox: { dir: string; manifest: { files: { name: string }[] } };
}

/** The files of an outbox package: the rendered formats, manifest.json and SHA256SUMS. */
export function packageFiles(built: Pick<BuiltForLineage, 'outbox'>): string[] {
  return [...built.outbox.manifest.files.map((file) => file.name), 'manifest.json', 'SHA256SUMS'].map((name) => join(built.outbox.dir, name)).filter((path) => existsSync(path));
}

/** Build: per report period, its silver files -> gold, then gold -> each file of the package. */
export function buildSteps(built: readonly BuiltForLineage[]): LineageStep[] {
  return built.flatMap((item) => [
    { job: item.report, key: item.period, inputs: item.inputs, outputs: [item.gold] },
    { job: `${item.report}.render`, key: item.period, inputs: [item.gold], outputs: packageFiles(item) },
  ]);
}

/** What deliverSteps needs of a delivery receipt. */
export interface ReceiptForLineage {
  destination: string;
  type: string;
  location: string;
  files: { name: string }[];
}

/**
 * Where a delivered file landed, as a dataset outside the lake: the namespace is the
 * destination's scheme and authority (sftp://host:port, https://host), the name the remote
 * path of the file, or for an API, whose batch is one request, the path and `#<file>`.
 */
export function remoteDataset(receipt: ReceiptForLineage, file: string): DatasetInput {
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)(\/.*)?$/.exec(receipt.location);
  // A local destination reports a directory: the copy is a file in it.
  if (!match) return { namespace: 'file://', name: receipt.location.endsWith(file) ? receipt.location : join(receipt.location, file) };
  const base = match[2] ?? '';
  return { namespace: match[1]!, name: receipt.type === 'sftp' ? `${base.replace(/\/$/, '')}/${file}` : `${base}#${file}` };
}

/**
 * The outbox file a delivered item came from: the file itself when it was sent as a file;
 * for an API's row batch, the rendering the rows are read from (Parquet, else JSON, else gold).
 */
function deliveredFrom(built: Pick<BuiltForLineage, 'outbox' | 'gold'>, name: string): string {
  const local = join(built.outbox.dir, name);
  if (existsSync(local)) return local;
  const files = built.outbox.manifest.files as { name: string; format?: string }[];
  const rendering = files.find((file) => file.format === 'parquet') ?? files.find((file) => file.format === 'json');
  return rendering ? join(built.outbox.dir, rendering.name) : built.gold;
}

/** Deliver: one step per file or batch sent to a destination, the outbox file -> its remote copy. */
export function deliverSteps(deliveries: readonly { built: Pick<BuiltForLineage, 'report' | 'period' | 'outbox' | 'gold'>; receipt: ReceiptForLineage }[]): LineageStep[] {
  return deliveries.flatMap(({ built, receipt }) =>
    receipt.files.map((file) => ({
      job: receipt.destination,
      key: `${built.report}/${built.period}/${file.name}`,
      inputs: [deliveredFrom(built, file.name)],
      outputs: [remoteDataset(receipt, file.name)],
    })),
  );
}
