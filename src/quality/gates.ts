import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { OutboxPackage } from '../render/package.js';
import { daysOfMonth } from '../dates.js';
import { type DuckSession, sqlString, withDuck } from '../lake/duckdb.js';
import { goldFile, silverTableDir, sourceTables, qualitySummaryFile, contractPath } from '../lake/layout.js';
import type { PartnerConfig } from '../partners/config.js';
import { classifyColumn } from '../metadata/catalog.js';
import { type HistoryEntry, median, periodWeekday, readReportHistory, reportFigures } from '../records/history.js';
import { readJsonFile, writeJsonFile } from '../records/jsonl.js';
import { type FileScan, readXlsxValueCounts, scanFileForPii, scanGoldParquet, scanXlsxValueCounts, silverCustomersSql } from './pii-files.js';
import { type PiiFindings, type PiiKind, describeFindings, findingsByKind } from './pii-match.js';

export type GateStatus = 'pass' | 'warn' | 'fail';

/** One quality gate's verdict, with the figures behind it (for the alert and the run record). */
export interface GateResult {
  gate: GateName;
  status: GateStatus;
  /** One line a person reads in the alert. */
  detail: string;
  figures: Record<string, unknown>;
}

export type GateName = 'not-empty' | 'reconciliation' | 'quarantine-rate' | 'anomaly' | 'contract' | 'pii' | 'k-anonymity';

/**
 * Gold vs silver totals for the partner's products and the period. Numbers or decimal
 * strings ("1234.56"); compared exactly to the cent: gold + suppressed = silver.
 */
export interface ReconciliationFigures {
  silver_units: number | string;
  silver_revenue: number | string;
  gold_units: number | string;
  gold_revenue: number | string;
  /** What k-anonymity suppression withheld (monthly report); 0 when absent. */
  suppressed_units?: number | string | null;
  suppressed_revenue?: number | string | null;
}

export interface GateInput {
  home: string;
  config: PartnerConfig;
  /** The built outbox package: manifest (rows, files, columns, summary) and its directory. */
  package: OutboxPackage;
  /** Report and period; the manifest's when absent (they must agree). */
  report?: string;
  period?: string;
  /** Gold vs silver totals (buildReports' `reconciliation`); read from manifest.summary (same keys) when absent. */
  reconciliation?: Partial<ReconciliationFigures> | Record<string, unknown> | null;
  /** Days whose clean summaries the quarantine gate reads; default the period's day, or every day of its month. */
  days?: string[];
  /** Contract to adopt when none is stored yet (the report's declared schema); else the manifest's columns. */
  declaredColumns?: { name: string; type: string }[];
  /** Store the contract on first sight (default true; false for --dry-run rehearsals if wanted). */
  storeContract?: boolean;
  /** Gold Parquet for the k-anonymity check when the package has no Parquet file. */
  goldPath?: string;
  runId?: string;
  now?: Date;
  /** Reuse a DuckDB session. */
  duck?: DuckSession;
}

/** True when any gate failed: the runner then delivers nothing and exits 65. */
export function gatesBlocked(results: GateResult[]): boolean {
  return results.some((result) => result.status === 'fail');
}

/** "anomaly: revenue 40% below ...; pii: 3 e-mails in ..." for alerts and error messages. */
export function summarizeGates(results: GateResult[], statuses: GateStatus[] = ['fail', 'warn']): string {
  return results
    .filter((result) => statuses.includes(result.status))
    .map((result) => `${result.gate} (${result.status}): ${result.detail}`)
    .join('; ');
}

/**
 * Runs every quality gate on a built package, before any delivery. Never throws for a
 * failed check: each gate returns pass, warn or fail with its figures.
 */
export async function runGates(input: GateInput): Promise<GateResult[]> {
  const body = async (duck: DuckSession): Promise<GateResult[]> => {
    const results: GateResult[] = [];
    const guard = async (gate: GateName, check: () => Promise<GateResult | null>): Promise<void> => {
      try {
        const result = await check();
        if (result) results.push(result);
      } catch (error) {
        // A gate that cannot run must not let data through.
        results.push({ gate, status: 'fail', detail: `the check could not run: ${(error as Error).message.split('\n')[0]}`, figures: {} });
      }
    };
    await guard('not-empty', () => checkNotEmpty(input));
    await guard('reconciliation', async () => checkReconciliation(input));
    await guard('quarantine-rate', () => checkQuarantineRate(input));
    await guard('anomaly', () => checkAnomaly(input));
    await guard('contract', () => checkContract(input));
    await guard('pii', () => checkPii(input, duck));
    await guard('k-anonymity', () => checkKAnonymity(input, duck));
    return results;
  };
  return input.duck ? body(input.duck) : withDuck(body, { threads: 2, memoryLimit: '1GB' });
}

async function checkNotEmpty(input: GateInput): Promise<GateResult> {
  const { manifest, dir } = input.package;
  const empty: string[] = [];
  for (const file of manifest.files) {
    const path = join(dir, file.name);
    const size = existsSync(path) ? (await stat(path)).size : -1;
    if (size <= 0) empty.push(size < 0 ? `${file.name} (missing)` : `${file.name} (0 bytes)`);
  }
  const figures = { rows: manifest.rows, files: manifest.files.length };
  if (manifest.rows <= 0) return { gate: 'not-empty', status: 'fail', detail: `${manifest.report} ${manifest.period} has no rows`, figures };
  if (manifest.files.length === 0) return { gate: 'not-empty', status: 'fail', detail: 'the package lists no files', figures };
  if (empty.length) return { gate: 'not-empty', status: 'fail', detail: `empty or missing files: ${empty.join(', ')}`, figures };
  return { gate: 'not-empty', status: 'pass', detail: `${manifest.rows} rows in ${manifest.files.length} files`, figures };
}

/** Exact decimal as an integer of millionths, so 0.1 + 0.2 = 0.3 holds. */
export function toMicros(value: number | string | null | undefined): bigint | null {
  if (value === null || value === undefined || value === '') return null;
  const text = typeof value === 'number' ? value.toFixed(6) : String(value).trim();
  const match = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (!match[2] && !match[3])) return null;
  const fraction = (match[3] ?? '').padEnd(6, '0');
  // Rounds beyond 6 decimals toward zero: totals are in cents, far from that precision.
  const micros = BigInt(match[2] || '0') * 1_000_000n + BigInt(fraction.slice(0, 6) || '0');
  return match[1] === '-' ? -micros : micros;
}

function formatMicros(value: bigint): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / 1_000_000n;
  const fraction = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction.padEnd(2, '0')}` : ''}`;
}

function checkReconciliation(input: GateInput): GateResult {
  const summary = input.package.manifest.summary ?? {};
  const figures = (input.reconciliation ?? summary) as Partial<ReconciliationFigures>;
  const values = {
    silver_units: toMicros(figures.silver_units),
    silver_revenue: toMicros(figures.silver_revenue),
    gold_units: toMicros(figures.gold_units),
    gold_revenue: toMicros(figures.gold_revenue),
    suppressed_units: toMicros(figures.suppressed_units) ?? 0n,
    suppressed_revenue: toMicros(figures.suppressed_revenue) ?? 0n,
  };
  if (values.silver_units === null || values.silver_revenue === null || values.gold_units === null || values.gold_revenue === null) {
    return { gate: 'reconciliation', status: 'warn', detail: 'no reconciliation figures were given for this package: not checked', figures: {} };
  }
  const unitsGap = values.silver_units - (values.gold_units + values.suppressed_units);
  const revenueGap = values.silver_revenue - (values.gold_revenue + values.suppressed_revenue);
  const shown = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value === null ? null : formatMicros(value)]));
  const out = { ...shown, units_difference: formatMicros(unitsGap), revenue_difference: formatMicros(revenueGap) };
  if (unitsGap !== 0n || revenueGap !== 0n) {
    return {
      gate: 'reconciliation',
      status: 'fail',
      detail: `gold does not reconcile with silver: units ${formatMicros(values.gold_units)} + suppressed ${formatMicros(values.suppressed_units)} vs silver ${formatMicros(values.silver_units)}; revenue ${formatMicros(values.gold_revenue)} + suppressed ${formatMicros(values.suppressed_revenue)} vs silver ${formatMicros(values.silver_revenue)}`,
      figures: out,
    };
  }
  return { gate: 'reconciliation', status: 'pass', detail: `units ${shown.silver_units} and revenue ${shown.silver_revenue} match silver`, figures: out };
}

/** The clean summary of a table and day, as src/cleaning writes it. */
interface CleanSummary {
  rows_in: number;
  rows_quarantined: number;
}

function periodDays(period: string): string[] {
  return /^\d{4}-\d{2}$/.test(period) ? daysOfMonth(period) : [period];
}

async function checkQuarantineRate(input: GateInput): Promise<GateResult> {
  const threshold = input.config.quality.max_quarantine_rate;
  const days = input.days ?? periodDays(input.package.manifest.period);
  const tables: Record<string, { rows_in: number; rows_quarantined: number; rate: number; days: number }> = {};
  const missing: string[] = [];
  for (const table of sourceTables) {
    let rowsIn = 0;
    let quarantined = 0;
    let found = 0;
    for (const day of days) {
      const summary = await readJsonFile<CleanSummary | null>(qualitySummaryFile(input.home, table, day), null);
      if (!summary) continue;
      found++;
      rowsIn += Number(summary.rows_in ?? 0);
      quarantined += Number(summary.rows_quarantined ?? 0);
    }
    if (found === 0) {
      missing.push(table);
      continue;
    }
    tables[table] = { rows_in: rowsIn, rows_quarantined: quarantined, rate: rowsIn > 0 ? quarantined / rowsIn : 0, days: found };
  }
  const over = Object.entries(tables).filter(([, figures]) => figures.rate > threshold);
  const figures = { threshold, tables, missing };
  const percent = (rate: number): string => `${(rate * 100).toFixed(2)}%`;
  if (over.length) {
    return {
      gate: 'quarantine-rate',
      status: 'fail',
      detail: over.map(([table, f]) => `${table} quarantined ${f.rows_quarantined} of ${f.rows_in} rows (${percent(f.rate)}, limit ${percent(threshold)})`).join('; '),
      figures,
    };
  }
  if (missing.length === sourceTables.length) return { gate: 'quarantine-rate', status: 'warn', detail: `no clean summaries for ${days[0]}${days.length > 1 ? ` .. ${days.at(-1)}` : ''}: not checked`, figures };
  const worst = Object.entries(tables).sort((a, b) => b[1].rate - a[1].rate)[0];
  const detail = `${worst ? `highest ${worst[0]} ${percent(worst[1].rate)}` : 'no rows'} (limit ${percent(threshold)})${missing.length ? `; no summary for ${missing.join(', ')}` : ''}`;
  return { gate: 'quarantine-rate', status: missing.length ? 'warn' : 'pass', detail, figures };
}

/** How many comparable past periods the anomaly baseline uses at most. */
export const ANOMALY_LOOKBACK = 8;

/** The past periods the current one is compared with: same weekday for days, previous months for months. */
export function anomalyBaseline(history: HistoryEntry[], period: string, lookback = ANOMALY_LOOKBACK): HistoryEntry[] {
  const weekday = periodWeekday(period);
  return history
    .filter((entry) => entry.period < period && entry.period.length === period.length && (weekday === null || entry.weekday === weekday))
    .sort((a, b) => b.period.localeCompare(a.period))
    .slice(0, lookback);
}

async function checkAnomaly(input: GateInput): Promise<GateResult> {
  const { manifest } = input.package;
  const quality = input.config.quality;
  const history = await readReportHistory(input.home, manifest.partner, manifest.report);
  const baseline = anomalyBaseline(history, manifest.period);
  const current = reportFigures(manifest);
  const basis = periodWeekday(manifest.period) === null ? 'previous months' : 'same weekdays';
  if (baseline.length < quality.anomaly_min_history) {
    return {
      gate: 'anomaly',
      status: 'pass',
      detail: `not enough history: ${baseline.length} of ${quality.anomaly_min_history} ${basis} needed`,
      figures: { history: baseline.length, needed: quality.anomaly_min_history },
    };
  }
  const metrics: Record<string, { value: number; median: number; deviation: number }> = {};
  const outside: string[] = [];
  for (const metric of ['rows', 'units', 'revenue'] as const) {
    const value = current[metric];
    const past = baseline.map((entry) => entry[metric]).filter((item): item is number => typeof item === 'number');
    if (value === null || past.length < quality.anomaly_min_history) continue;
    const middle = median(past);
    if (middle === 0) continue;
    const deviation = (value - middle) / middle;
    metrics[metric] = { value, median: middle, deviation: Number(deviation.toFixed(4)) };
    if (Math.abs(deviation) > quality.anomaly_band) {
      outside.push(`${metric} ${value} is ${Math.abs(deviation * 100).toFixed(0)}% ${deviation < 0 ? 'below' : 'above'} the median ${middle} of the last ${past.length} ${basis}`);
    }
  }
  const figures = { band: quality.anomaly_band, history: baseline.length, periods: baseline.map((entry) => entry.period), metrics };
  if (outside.length) return { gate: 'anomaly', status: quality.anomaly_action === 'block' ? 'fail' : 'warn', detail: outside.join('; '), figures };
  return { gate: 'anomaly', status: 'pass', detail: `within ±${(quality.anomaly_band * 100).toFixed(0)}% of the median of the last ${baseline.length} ${basis}`, figures };
}

/** The partner's contracted columns of a report. */
export interface ReportContract {
  partner: string;
  report: string;
  columns: { name: string; type: string }[];
  created_at: string;
  run_id?: string;
}

function normaliseType(type: string): string {
  return type.trim().toUpperCase().replace(/\s+/g, '');
}

/** Differences between a contract and the columns delivered. */
export function compareColumns(contract: { name: string; type: string }[], actual: { name: string; type: string }[]) {
  const actualByName = new Map(actual.map((column) => [column.name, column]));
  const contractNames = new Set(contract.map((column) => column.name));
  const removed = contract.filter((column) => !actualByName.has(column.name)).map((column) => column.name);
  const retyped = contract
    .filter((column) => actualByName.has(column.name) && normaliseType(actualByName.get(column.name)!.type) !== normaliseType(column.type))
    .map((column) => `${column.name} ${column.type} -> ${actualByName.get(column.name)!.type}`);
  const added = actual.filter((column) => !contractNames.has(column.name)).map((column) => column.name);
  const kept = actual.filter((column) => contractNames.has(column.name)).map((column) => column.name);
  const expectedOrder = contract.filter((column) => actualByName.has(column.name)).map((column) => column.name);
  const reordered = kept.join('\u0000') !== expectedOrder.join('\u0000');
  return { removed, retyped, added, reordered };
}

async function checkContract(input: GateInput): Promise<GateResult> {
  const { manifest } = input.package;
  const path = contractPath(input.home, manifest.partner, manifest.report);
  let contract = await readJsonFile<ReportContract | null>(path, null);
  if (!contract) {
    const columns = input.declaredColumns ?? manifest.columns;
    contract = { partner: manifest.partner, report: manifest.report, columns, created_at: (input.now ?? new Date()).toISOString(), ...(input.runId ? { run_id: input.runId } : {}) };
    if (input.storeContract !== false) await writeJsonFile(path, contract);
    if (!input.declaredColumns) {
      return { gate: 'contract', status: 'pass', detail: `first build: contract of ${columns.length} columns recorded`, figures: { columns: columns.length, recorded: input.storeContract !== false } };
    }
  }
  const diff = compareColumns(contract.columns, manifest.columns);
  const figures = { contract_columns: contract.columns.length, columns: manifest.columns.length, ...diff };
  const breaking = [...diff.removed.map((name) => `removed ${name}`), ...diff.retyped.map((change) => `retyped ${change}`)];
  if (breaking.length) {
    return { gate: 'contract', status: 'fail', detail: `breaking change to the partner's contracted columns: ${breaking.join(', ')}${diff.added.length ? `; added ${diff.added.join(', ')}` : ''}`, figures };
  }
  if (diff.added.length || diff.reordered) {
    return { gate: 'contract', status: 'warn', detail: [diff.added.length ? `added columns ${diff.added.join(', ')}` : '', diff.reordered ? 'column order changed' : ''].filter(Boolean).join('; '), figures };
  }
  return { gate: 'contract', status: 'pass', detail: `${manifest.columns.length} columns match the contract`, figures };
}

/** True when at least one silver customers partition exists (the dictionary of the PII gate). */
async function hasSilverCustomers(home: string): Promise<boolean> {
  const dir = silverTableDir(home, 'customers');
  if (!existsSync(dir)) return false;
  return (await readdir(dir)).some((name) => name.startsWith('date=') && existsSync(join(dir, name, 'data.parquet')));
}

/**
 * Personal data in what the partner receives: every file of the package scanned column by
 * column after folding (formats and check digits), and every text value of gold matched
 * exactly against every silver customer's raw id, e-mail, CPF and name. Any hit fails the
 * gate; the detail names file, column and rule, never the value.
 */
async function checkPii(input: GateInput, duck: DuckSession): Promise<GateResult> {
  const { manifest, dir } = input.package;
  const directColumns = manifest.columns.filter((column) => classifyColumn(column.name, { dataset: `deliverable.${manifest.report}` }) === 'direct').map((column) => column.name);
  // Every file a partner receives, manifest included; SHA256SUMS holds only hashes.
  const names = (await readdir(dir)).filter((name) => name !== 'SHA256SUMS' && !name.startsWith('.')).sort();
  const byFile: Record<string, Partial<Record<PiiKind, number>>> = {};
  const byColumn: Record<string, PiiFindings> = {};
  const unscanned: string[] = [];
  let total = 0;
  const count = (findings: PiiFindings) => Object.values(findingsByKind(findings)).reduce((sum, n) => sum + (n ?? 0), 0);
  const formatOf = (name: string) => extname(name).slice(1).toLowerCase();
  // The gold rows: the package's Parquet file when it has one, else the gold file.
  const parquetName = manifest.files.find((file) => file.format === 'parquet' || file.name.endsWith('.parquet'))?.name;
  const gold = parquetName && names.includes(parquetName) ? join(dir, parquetName) : (input.goldPath ?? goldFile(input.home, manifest.partner, manifest.report, manifest.period));
  let dictionary: 'checked' | 'no silver customers' | 'no gold file' = 'checked';
  if (!(await hasSilverCustomers(input.home))) dictionary = 'no silver customers';
  else if (!existsSync(gold)) dictionary = 'no gold file';
  const customersSql = dictionary === 'checked' ? silverCustomersSql(silverTableDir(input.home, 'customers')) : null;
  // Workbooks are parsed in JavaScript while DuckDB scans the other files on its threads.
  const workbooks = new Map(names.filter((name) => formatOf(name) === 'xlsx').map((name) => [name, readXlsxValueCounts(join(dir, name))]));
  for (const pending of workbooks.values()) pending.catch(() => undefined);
  const scans: FileScan[] = [];
  let customers: PiiFindings = {};
  if (parquetName && names.includes(parquetName)) {
    const both = await scanGoldParquet(duck, gold, customersSql);
    scans.push(both.scan);
    customers = both.customers;
  } else if (customersSql) {
    customers = (await scanGoldParquet(duck, gold, customersSql)).customers;
  }
  for (const name of names) if (!workbooks.has(name) && name !== parquetName) scans.push(await scanFileForPii(duck, join(dir, name), formatOf(name)));
  for (const [name, pending] of workbooks) scans.push(await scanXlsxValueCounts(duck, join(dir, name), await pending));
  for (const scan of scans) {
    const name = basename(scan.file);
    if (!scan.scanned) unscanned.push(name);
    const hits = count(scan.findings);
    if (hits > 0) {
      byFile[name] = findingsByKind(scan.findings);
      byColumn[name] = scan.findings;
    }
    total += hits;
  }
  const customerHits = count(customers);
  total += customerHits;
  const figures = { files_scanned: names.length - unscanned.length, hits: total, by_file: byFile, by_column: byColumn, customers: customers, dictionary, direct_columns: directColumns, unscanned };
  if (total > 0 || directColumns.length) {
    const parts = Object.entries(byColumn).map(([name, findings]) => `${name}: ${describeFindings(findings)}`);
    if (customerHits) parts.push(`values of silver customers in gold: ${describeFindings(customers)}`);
    if (directColumns.length) parts.unshift(`personal columns ${directColumns.join(', ')}`);
    return { gate: 'pii', status: 'fail', detail: `personal data in the deliverable: ${parts.join('; ')}`, figures };
  }
  const note = dictionary === 'checked' ? '' : ` (${dictionary}: customers not matched)`;
  if (unscanned.length) return { gate: 'pii', status: 'warn', detail: `no personal data found${note}; could not scan ${unscanned.join(', ')}`, figures };
  return { gate: 'pii', status: 'pass', detail: `no personal data in ${names.length} files${note}`, figures };
}

async function checkKAnonymity(input: GateInput, duck: DuckSession): Promise<GateResult | null> {
  const { manifest, dir } = input.package;
  if (!manifest.columns.some((column) => column.name === 'customers_reached')) return null;
  const k = input.config.privacy.k;
  const parquet = manifest.files.find((file) => file.format === 'parquet' || file.name.endsWith('.parquet'));
  const source = parquet ? join(dir, parquet.name) : (input.goldPath ?? goldFile(input.home, manifest.partner, manifest.report, manifest.period));
  if (!existsSync(source)) return { gate: 'k-anonymity', status: 'fail', detail: `cannot verify k-anonymity: no Parquet file in the package and no gold file at ${source}`, figures: { k } };
  const hasUnits = manifest.columns.some((column) => column.name === 'units_sold');
  const [row] = await duck.json<{ cells: number; below_k: number; unsized: number; min_reached: number | null }>(`
    SELECT count(*)::BIGINT AS cells,
           count(*) FILTER (WHERE customers_reached < ${k})::BIGINT AS below_k,
           ${hasUnits ? `count(*) FILTER (WHERE customers_reached IS NULL AND units_sold IS NOT NULL)::BIGINT` : '0::BIGINT'} AS unsized,
           min(customers_reached) AS min_reached
    FROM read_parquet(${sqlString(source)}, hive_partitioning = false)`);
  const figures = { k, cells: Number(row?.cells ?? 0), below_k: Number(row?.below_k ?? 0), unsized: Number(row?.unsized ?? 0), min_customers_reached: row?.min_reached ?? null, cells_merged: manifest.summary?.cells_merged ?? null, cells_suppressed: manifest.summary?.cells_suppressed ?? null };
  if (figures.below_k > 0 || figures.unsized > 0) {
    const parts = [figures.below_k ? `${figures.below_k} cells have fewer than k=${k} customers (minimum ${figures.min_customers_reached})` : '', figures.unsized ? `${figures.unsized} cells share figures without a customer count` : ''].filter(Boolean);
    return { gate: 'k-anonymity', status: 'fail', detail: parts.join('; '), figures };
  }
  return { gate: 'k-anonymity', status: 'pass', detail: `all ${figures.cells} cells have at least k=${k} customers`, figures };
}
