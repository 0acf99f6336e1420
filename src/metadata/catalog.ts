import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { OutboxPackage } from '../render/package.js';
import { type DuckSession, sqlString, withDuck } from '../lake/duckdb.js';
import { type SourceTable, bronzeDir, goldFile, quarantineFile, silverFile, sourceTables, catalogPath, piiOverridesPath } from '../lake/layout.js';
import type { PartnerConfig } from '../partners/config.js';
import { readJsonFile, withFileLock, writeJsonFile } from '../records/jsonl.js';

/** direct: identifies a person alone; indirect: could, combined with others; none. */
export type PiiClass = 'direct' | 'indirect' | 'none';
export type DatasetLayer = 'bronze' | 'silver' | 'quarantine' | 'gold' | 'deliverable';

export interface PiiRule {
  /** Column names it applies to. */
  column: RegExp;
  /** Only in datasets whose name matches (e.g. `name` is personal in customers, not in products). */
  dataset?: RegExp;
  pii: PiiClass;
  /** Why, shown by `dataprod catalog`. */
  reason: string;
}

/**
 * The PII rule table, first match wins; everything else is `none`. Override per column
 * with `piiOverrides` or `<home>/_meta/catalog/pii-overrides.json`
 * ({"email_hash": "none", "silver.customers.city": "direct"}).
 */
export const piiRules: PiiRule[] = [
  { column: /^(name|nome|full_name|customer_name|nome_cliente)$/i, dataset: /customer|cliente/i, pii: 'direct', reason: 'a person\'s name' },
  { column: /^(customer_name|nome_cliente|full_name)$/i, pii: 'direct', reason: 'a person\'s name' },
  { column: /e_?mail/i, pii: 'direct', reason: 'e-mail address' },
  { column: /(^|_)(cpf|cnpj|rg|document|documento)($|_)/i, pii: 'direct', reason: 'national document number' },
  { column: /(^|_)(phone|telefone|celular|mobile|whatsapp)($|_)/i, pii: 'direct', reason: 'phone number' },
  { column: /(^|_)(cep|zip|zipcode|postal_code|address|endereco)($|_)/i, pii: 'direct', reason: 'address or postcode' },
  { column: /^(customer_id|client_id|user_id|cliente_id|transaction_id|order_id)$/i, pii: 'direct', reason: 'raw id that resolves to a person in the source system' },
  { column: /_key$/i, pii: 'indirect', reason: 'pseudonymous key: links records of one person' },
  { column: /^(city|cidade|state|uf|estado)$/i, pii: 'indirect', reason: 'location: a quasi-identifier' },
  { column: /^(created_at|birth_date|birthday|data_nascimento|sold_at|sale_time)$/i, pii: 'indirect', reason: 'time of a personal event: a quasi-identifier' },
];

/** PII class of a column; `dataset` lets table-specific rules apply. */
export function classifyColumn(column: string, options: { dataset?: string; overrides?: Record<string, PiiClass> } = {}): PiiClass {
  const overrides = options.overrides ?? {};
  const qualified = options.dataset ? `${options.dataset.split('/')[0]}.${column}` : undefined;
  if (qualified && overrides[qualified]) return overrides[qualified]!;
  if (overrides[column]) return overrides[column]!;
  for (const rule of piiRules) {
    if (!rule.column.test(column)) continue;
    if (rule.dataset && !(options.dataset && rule.dataset.test(options.dataset))) continue;
    return rule.pii;
  }
  return 'none';
}

export interface CatalogColumn {
  name: string;
  type: string;
  pii: PiiClass;
}

export interface CatalogEntry {
  /** Logical name, e.g. `silver.transactions/date=2026-11-20`. */
  name: string;
  layer: DatasetLayer;
  /** Path relative to the home (forward slashes). */
  path: string;
  format: string;
  schema: CatalogColumn[];
  rows: number | null;
  bytes: number | null;
  /** `sha256:<hex>` of the file bytes. */
  checksum: string | null;
  /** The highest PII class among its columns. */
  pii: PiiClass;
  tags: string[];
  /** Source table of a bronze, silver or quarantine partition. */
  table?: string;
  /** Report of a gold or deliverable dataset. */
  report?: string;
  /** The day (YYYY-MM-DD) or month (YYYY-MM) the dataset covers. */
  period?: string;
  /** When this content was first recorded: re-recording unchanged bytes keeps it. */
  recorded_at: string;
  /** The run that recorded this content. */
  run_id?: string;
}

export interface Catalog {
  version: 1;
  updated_at: string;
  datasets: Record<string, CatalogEntry>;
}

export interface RecordDatasetInput {
  /** Logical name; derived from the path when absent (see datasetNameForPath). */
  name?: string;
  layer: DatasetLayer;
  /** Absolute path, or relative to the home. */
  path: string;
  schema: { name: string; type: string }[];
  rows: number | null;
  /** `sha256:<hex>` or a bare hex SHA-256. */
  checksum: string | null;
  bytes?: number | null;
  /** Business tags beyond the defaults for its layer and table. */
  tags?: string[];
  /** Per-column PII classes that win over the rule table. */
  piiOverrides?: Record<string, PiiClass>;
  runId?: string;
  now?: Date;
}

function relativeToHome(home: string, path: string): string {
  const absolute = isAbsolute(path) ? path : resolve(home, path);
  return relative(home, absolute).split(sep).join('/');
}

/**
 * Logical dataset name from a lake path:
 *   silver/transactions/date=D/data.parquet      -> silver.transactions/date=D
 *   bronze/transactions/date=D/<file>            -> bronze.transactions/date=D
 *   gold/<partner>/<report>/<period>/data.parquet -> gold.<partner>.<report>/<period>
 *   outbox/<partner>/<report>/<period>/<file>    -> deliverable.<partner>.<report>/<period>/<file>
 * Anything else keeps its relative path.
 */
export function datasetNameForPath(home: string, path: string): string {
  const parts = relativeToHome(home, path).split('/');
  const [top] = parts;
  if ((top === 'bronze' || top === 'silver' || top === 'quarantine') && parts.length >= 3) return `${top}.${parts[1]}/${parts[2]}`;
  if (top === 'gold' && parts.length >= 4) return `gold.${parts[1]}.${parts[2]}/${parts[3]}`;
  if (top === 'outbox' && parts.length >= 5) return `deliverable.${parts[1]}.${parts[2]}/${parts[3]}/${parts.slice(4).join('/')}`;
  return parts.join('/');
}

/** Table, report and period of a lake path, from the layout (see datasetNameForPath). */
export function datasetCoordinates(home: string, path: string): Pick<CatalogEntry, 'table' | 'report' | 'period'> {
  const parts = relativeToHome(home, path).split('/');
  const [top] = parts;
  if ((top === 'bronze' || top === 'silver' || top === 'quarantine') && parts.length >= 3) {
    const day = /^date=(\d{4}-\d{2}-\d{2})$/.exec(parts[2]!)?.[1];
    return { table: parts[1], ...(day ? { period: day } : {}) };
  }
  if ((top === 'gold' && parts.length >= 4) || (top === 'outbox' && parts.length >= 5)) return { report: parts[2], period: parts[3] };
  return {};
}

const tableTags: Record<string, string[]> = {
  transactions: ['sales'],
  customers: ['customer-data'],
  products: ['product-catalog'],
};

/** Business tags every dataset of a layer gets, plus its table's. */
export function defaultTags(layer: DatasetLayer, name: string): string[] {
  const tags: string[] = {
    bronze: ['raw', 'source-export'],
    silver: ['core-domain', 'cleaned'],
    quarantine: ['data-quality', 'restricted'],
    gold: ['partner-share', 'aggregate'],
    deliverable: ['partner-share', 'delivered'],
  }[layer];
  const table = name.split(/[./]/)[1];
  if (table && tableTags[table]) tags.push(...tableTags[table]);
  return tags;
}

const piiRank: Record<PiiClass, number> = { none: 0, indirect: 1, direct: 2 };

async function readOverrides(home: string): Promise<Record<string, PiiClass>> {
  return readJsonFile<Record<string, PiiClass>>(piiOverridesPath(home), {});
}

function buildEntry(home: string, input: RecordDatasetInput, fileOverrides: Record<string, PiiClass>): CatalogEntry {
  const name = input.name ?? datasetNameForPath(home, input.path);
  const overrides = { ...fileOverrides, ...input.piiOverrides };
  const schema = input.schema.map((column) => ({ name: column.name, type: column.type, pii: classifyColumn(column.name, { dataset: name, overrides }) }));
  const pii = schema.reduce<PiiClass>((worst, column) => (piiRank[column.pii] > piiRank[worst] ? column.pii : worst), 'none');
  const tags = [...new Set([...defaultTags(input.layer, name), ...(input.tags ?? []), ...(pii === 'direct' ? ['contains-pii'] : [])])];
  const checksum = input.checksum === null ? null : input.checksum.startsWith('sha256:') ? input.checksum : `sha256:${input.checksum}`;
  return {
    name,
    layer: input.layer,
    ...datasetCoordinates(home, input.path),
    path: relativeToHome(home, input.path),
    format: extname(input.path).slice(1) || 'dir',
    schema,
    rows: input.rows,
    bytes: input.bytes ?? null,
    checksum,
    pii,
    tags,
    recorded_at: (input.now ?? new Date()).toISOString(),
    ...(input.runId ? { run_id: input.runId } : {}),
  };
}

/** Records (or replaces) datasets in the catalog in one locked, atomic rewrite. */
export async function recordDatasets(home: string, inputs: RecordDatasetInput[]): Promise<CatalogEntry[]> {
  const path = catalogPath(home);
  return withFileLock(path, async () => {
    const catalog = await readCatalog(home);
    const overrides = await readOverrides(home);
    const entries = inputs.map((input) => {
      const entry = buildEntry(home, input, overrides);
      // The same bytes recorded again (a later run that read them) keep who wrote them and when.
      const previous = catalog.datasets[entry.name];
      if (previous && entry.checksum !== null && previous.checksum === entry.checksum && previous.path === entry.path) {
        entry.recorded_at = previous.recorded_at;
        if (previous.run_id) entry.run_id = previous.run_id;
        else delete entry.run_id;
      }
      return entry;
    });
    for (const entry of entries) catalog.datasets[entry.name] = entry;
    catalog.updated_at = (inputs[0]?.now ?? new Date()).toISOString();
    await writeJsonFile(path, catalog);
    return entries;
  });
}

/** Records one dataset: schema with a PII class per column, rows, checksum, tags. */
export async function recordDataset(home: string, input: RecordDatasetInput): Promise<CatalogEntry> {
  const [entry] = await recordDatasets(home, [input]);
  return entry!;
}

export async function readCatalog(home: string): Promise<Catalog> {
  const catalog = await readJsonFile<Catalog>(catalogPath(home), { version: 1, updated_at: '', datasets: {} });
  catalog.datasets ??= {};
  return catalog;
}

/** Hex SHA-256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface DescribeOptions {
  /** Format; from the extension by default (parquet, csv, json, jsonl). */
  format?: string;
  /** CSV reading options (bronze exports have their own in _source.json). */
  csv?: { delimiter?: string; header?: boolean; allVarchar?: boolean };
  /** Reuse a session. */
  duck?: DuckSession;
}

export interface FileDescription {
  format: string;
  schema: { name: string; type: string }[];
  rows: number | null;
  bytes: number;
  /** `sha256:<hex>` */
  checksum: string;
}

function readerSql(path: string, format: string, options: DescribeOptions): string | null {
  const file = sqlString(path);
  switch (format) {
    case 'parquet':
      return `read_parquet(${file}, hive_partitioning = false)`;
    case 'csv': {
      const args = [file, 'hive_partitioning = false'];
      if (options.csv?.delimiter) args.push(`delim = ${sqlString(options.csv.delimiter)}`);
      if (options.csv?.header !== undefined) args.push(`header = ${options.csv.header}`);
      if (options.csv?.allVarchar) args.push('all_varchar = true');
      return `read_csv(${args.join(', ')})`;
    }
    case 'json':
    case 'jsonl':
    case 'ndjson':
      return `read_json_auto(${file}, hive_partitioning = false)`;
    default:
      return null;
  }
}

/**
 * Schema (DuckDB DESCRIBE), row count and SHA-256 of a data file, for the catalog.
 * Formats DuckDB cannot read here (xlsx) get the checksum and size only.
 */
export async function describeDataFile(path: string, options: DescribeOptions = {}): Promise<FileDescription> {
  const format = (options.format ?? extname(path).slice(1)).toLowerCase() || basename(path);
  const [{ size }, checksum] = await Promise.all([stat(path), sha256File(path)]);
  const reader = readerSql(path, format, options);
  if (!reader) return { format, schema: [], rows: null, bytes: size, checksum: `sha256:${checksum}` };
  const describe = async (duck: DuckSession): Promise<FileDescription> => {
    const columns = await duck.json<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${reader}`);
    const [count] = await duck.json<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM ${reader}`);
    return { format, schema: columns.map((column) => ({ name: column.column_name, type: column.column_type })), rows: Number(count?.n ?? 0), bytes: size, checksum: `sha256:${checksum}` };
  };
  return options.duck ? describe(options.duck) : withDuck(describe, { threads: 1, memoryLimit: '256MB' });
}

export interface RecordFileOptions extends DescribeOptions {
  layer: DatasetLayer;
  name?: string;
  tags?: string[];
  piiOverrides?: Record<string, PiiClass>;
  runId?: string;
  now?: Date;
  /** Use this schema instead of DESCRIBE's (e.g. the manifest's columns for an xlsx). */
  schema?: { name: string; type: string }[];
}

/** describeDataFile + recordDataset: what a stage calls for each file it wrote. */
export async function recordDataFile(home: string, path: string, options: RecordFileOptions): Promise<CatalogEntry> {
  const description = await describeDataFile(path, options);
  return recordDataset(home, {
    name: options.name,
    layer: options.layer,
    path,
    schema: options.schema ?? description.schema,
    rows: description.rows,
    checksum: description.checksum,
    bytes: description.bytes,
    tags: options.tags,
    piiOverrides: options.piiOverrides,
    runId: options.runId,
    now: options.now,
  });
}

/**
 * Entries whose name, path, layer, table, report, period (a day, or a month for all its
 * days), PII class, tag or column matches `term` (case-insensitive), by name.
 */
export function searchCatalog(catalog: Catalog, term?: string): CatalogEntry[] {
  const entries = Object.values(catalog.datasets).sort((a, b) => a.name.localeCompare(b.name));
  if (!term) return entries;
  const needle = term.toLowerCase();
  return entries.filter(
    (entry) =>
      entry.name.toLowerCase().includes(needle) ||
      entry.path.toLowerCase().includes(needle) ||
      entry.layer === needle ||
      entry.table?.toLowerCase() === needle ||
      entry.report?.toLowerCase() === needle ||
      (entry.period !== undefined && entry.period.startsWith(needle)) ||
      entry.pii === needle ||
      entry.tags.some((tag) => tag.toLowerCase().includes(needle)) ||
      entry.schema.some((column) => column.name.toLowerCase().includes(needle)),
  );
}

/** A built report as the runner holds it. */
export interface BuiltPackageRef {
  report: string;
  period: string;
  pkg: OutboxPackage;
  /** Gold Parquet path; the layout's when absent. */
  gold?: string;
}

/**
 * Records a built report: its gold Parquet and every deliverable file of its outbox
 * package. The manifest already has columns, rows and hashes, so nothing is re-read
 * except the gold file's checksum.
 */
export async function recordPackageDatasets(home: string, config: Pick<PartnerConfig, 'partner'>, built: BuiltPackageRef, options: { runId?: string; now?: Date } = {}): Promise<CatalogEntry[]> {
  const { manifest, dir } = built.pkg;
  const tags = [`partner:${config.partner}`, `report:${built.report}`];
  const inputs: RecordDatasetInput[] = [];
  const gold = built.gold ?? goldFile(home, config.partner, built.report, built.period);
  if (existsSync(gold)) {
    const { size } = await stat(gold);
    inputs.push({ layer: 'gold', path: gold, schema: manifest.columns, rows: manifest.rows, checksum: await sha256File(gold), bytes: size, tags, runId: options.runId, now: options.now });
  }
  for (const file of manifest.files) {
    inputs.push({ layer: 'deliverable', path: join(dir, file.name), schema: manifest.columns, rows: file.rows, checksum: file.sha256, bytes: file.bytes, tags: [...tags, `format:${file.format}`], runId: options.runId, now: options.now });
  }
  // The package's own files travel with the data: the partner checks against them.
  for (const name of ['manifest.json', 'SHA256SUMS']) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    const { size } = await stat(path);
    inputs.push({ layer: 'deliverable', path, schema: [], rows: null, checksum: await sha256File(path), bytes: size, tags: [...tags, `format:${name === 'SHA256SUMS' ? 'sha256sums' : 'json'}`, 'package-metadata'], runId: options.runId, now: options.now });
  }
  return inputs.length ? recordDatasets(home, inputs) : [];
}

/** What ingest/generate leave beside a bronze file (see the brief's contract). */
interface BronzeSource {
  file: string;
  format?: string;
  columns?: string[];
  extra_columns?: string[];
  rows?: number;
  sha256?: string;
}

/**
 * Records the bronze, silver and quarantine datasets of cleaned days (one DuckDB session
 * for all). Bronze is described from its `_source.json` (raw text columns); silver and
 * quarantine from their Parquet files. Missing partitions are skipped.
 */
export async function recordCleanDatasets(home: string, days: string[], options: { tables?: readonly SourceTable[]; runId?: string; now?: Date; duck?: DuckSession } = {}): Promise<CatalogEntry[]> {
  const tables = options.tables ?? sourceTables;
  const body = async (duck: DuckSession): Promise<CatalogEntry[]> => {
    const inputs: RecordDatasetInput[] = [];
    const common = { runId: options.runId, now: options.now };
    for (const day of days) {
      for (const table of tables) {
        const source = await readJsonFile<BronzeSource | null>(join(bronzeDir(home, table, day), '_source.json'), null);
        const bronzeFile = source ? join(bronzeDir(home, table, day), source.file) : null;
        if (source && bronzeFile && existsSync(bronzeFile)) {
          const columns = [...(source.columns ?? []), ...(source.extra_columns ?? [])].filter((name, index, all) => all.indexOf(name) === index);
          const { size } = await stat(bronzeFile);
          inputs.push({ layer: 'bronze', path: bronzeFile, schema: columns.map((name) => ({ name, type: 'VARCHAR' })), rows: source.rows ?? null, checksum: source.sha256 ?? (await sha256File(bronzeFile)), bytes: size, tags: [`format:${source.format ?? 'csv'}`], ...common });
        }
        for (const [layer, path] of [['silver', silverFile(home, table, day)], ['quarantine', quarantineFile(home, table, day)]] as const) {
          if (!existsSync(path)) continue;
          const description = await describeDataFile(path, { duck, format: 'parquet' });
          inputs.push({ layer, path, schema: description.schema, rows: description.rows, checksum: description.checksum, bytes: description.bytes, ...common });
        }
      }
    }
    return inputs.length ? recordDatasets(home, inputs) : [];
  };
  return options.duck ? body(options.duck) : withDuck(body, { threads: 1, memoryLimit: '256MB' });
}
