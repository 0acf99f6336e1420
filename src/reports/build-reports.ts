import { mkdir } from 'node:fs/promises';
import type { Logger } from 'winston';
import type { OutboxPackage } from '../render/package.js';
import { businessDate, previousMonth, yesterday } from '../dates.js';
import { ConfigError, InternalError } from '../errors.js';
import { withAtomicFile } from '../lake/atomic.js';
import { sqlIdentifier, sqlString, withDuck, type DuckSession } from '../lake/duckdb.js';
import { goldFile, outboxDir, reportsSpillDir } from '../lake/layout.js';
import { registerSecretValue, silentLogger } from '../log.js';
import type { PartnerConfig, ReportName } from '../partners/config.js';
import { renderPackage, type RenderFormat } from '../render/index.js';
import { checkPseudonymKey, resolvePseudonymKey } from '../secrets/pseudonym-key.js';
import { dailyAnalytic } from './daily-analytic/index.js';
import { monthlyByCity } from './monthly-by-city/index.js';
import { registerPseudonymFunction } from './pseudonym.js';
import { readReportSql, renderSql } from './sql.js';
import type { ReportDefinition, ReportOutput } from './types.js';

/** Every report the tool knows, by name. */
export const reportDefinitions: Record<ReportName, ReportDefinition> = {
  'daily-analytic': dailyAnalytic,
  'monthly-by-city': monthlyByCity,
};

export const reportNames = Object.keys(reportDefinitions) as ReportName[];

export function isReportName(value: string): value is ReportName {
  return Object.hasOwn(reportDefinitions, value);
}

export interface BuildReportsOptions {
  /** Lake home (absolute). */
  home: string;
  /** The partner's validated configuration. */
  config: PartnerConfig;
  /** Day of the daily report (YYYY-MM-DD); default yesterday in São Paulo. */
  date?: string;
  /** Month of the monthly report (YYYY-MM); default the month before today's in São Paulo. */
  month?: string;
  /**
   * Reports to build. Default: daily-analytic unless only `month` is given, plus
   * monthly-by-city when `month` is given; disabled reports are skipped. A report named
   * here must be enabled in the configuration.
   */
  reports?: ReportName[];
  logger?: Logger;
  /** The clock: default periods and generated_at. */
  now?: Date;
  /** Pseudonymization key (checked); default: resolvePseudonymKey, which never creates one. */
  secret?: string;
}

/** Gold against silver for one report and period (units as numbers, money as exact decimal strings). */
export interface Reconciliation {
  silver_units: number;
  silver_revenue: string;
  gold_units: number;
  gold_revenue: string;
  suppressed_units: number;
  suppressed_revenue: string;
}

export interface BuiltReport {
  report: ReportName;
  /** YYYY-MM-DD or YYYY-MM. */
  period: string;
  /** Path of the gold Parquet file. */
  gold: string;
  /** The silver files the report read (its lineage inputs). */
  inputs: string[];
  outbox: OutboxPackage;
  rows: number;
  reconciliation: Reconciliation;
  /** Wall time of this report (query, gold, rendering). */
  ms: number;
  /** Where that time went: the query and gold file, the whole rendering, and each format's own rendering (they overlap). */
  timings: { query_ms: number; render_ms: number; formats: Partial<Record<RenderFormat, number>> };
}

export interface BuildResult {
  partner: string;
  reports: BuiltReport[];
}

interface PlannedReport {
  definition: ReportDefinition;
  period: string;
}

/** Which reports to build for which periods, from the options and the configuration. */
export function planReports(options: Pick<BuildReportsOptions, 'config' | 'date' | 'month' | 'reports' | 'now'>): PlannedReport[] {
  const now = options.now ?? new Date();
  const { config } = options;
  const explicit = options.reports !== undefined;
  const wanted: ReportName[] = options.reports ?? [
    ...(options.date !== undefined || options.month === undefined ? (['daily-analytic'] as const) : []),
    ...(options.month !== undefined ? (['monthly-by-city'] as const) : []),
  ];
  const planned: PlannedReport[] = [];
  for (const name of new Set(wanted)) {
    if (!isReportName(name)) throw new ConfigError(`unknown report "${String(name)}"`, { hint: `reports are: ${reportNames.join(', ')}` });
    const settings = config.reports[name];
    if (!settings || settings.enabled === false) {
      if (!explicit) continue;
      throw new ConfigError(`report ${name} is not enabled for partner ${config.partner}`, {
        hint: `add reports.${name} with enabled: true to the partner configuration`,
      });
    }
    const definition = reportDefinitions[name];
    const period = definition.periodKind === 'day' ? (options.date ?? yesterday(now)) : (options.month ?? previousMonth(businessDate(now).slice(0, 7)));
    planned.push({ definition, period });
  }
  return planned;
}

/**
 * silver -> gold -> outbox for a partner: runs each report's SQL, writes gold Parquet
 * atomically, checks its schema against the report's declared columns and its totals
 * against silver (an independent query), then renders the outbox package with
 * manifest.json and SHA256SUMS. Missing silver is a DataError naming the days to clean.
 */
export async function buildReports(options: BuildReportsOptions): Promise<BuildResult> {
  const logger = options.logger ?? silentLogger();
  const now = options.now ?? new Date();
  const { config, home } = options;
  const planned = planReports({ ...options, now });
  if (planned.length === 0) {
    logger.info(`nothing to build for ${config.partner}: no enabled report matches`);
    return { partner: config.partner, reports: [] };
  }
  // Checked wherever it came from: an HMAC under a short key maps back to every id by brute force.
  const secret =
    options.secret !== undefined
      ? checkPseudonymKey(options.secret, 'the key given to buildReports', config.partner)
      : (await resolvePseudonymKey({ partner: config.partner, name: config.privacy.pseudonymization_secret, home })).key;
  // A key handed in directly (tests, a caller that resolved it) is masked in logs like any other.
  registerSecretValue(secret);
  // DuckDB spills large sorts and joins here; it creates only the last path component.
  const tempDirectory = reportsSpillDir(home);
  await mkdir(tempDirectory, { recursive: true });
  return withDuck(
    async (duck) => {
      await registerPseudonymFunction(duck, secret);
      const reports: BuiltReport[] = [];
      for (const { definition, period } of planned) reports.push(await buildOne(duck, definition, period, { ...options, logger, now }));
      return { partner: config.partner, reports };
    },
    { tempDirectory },
  );
}

async function buildOne(
  duck: DuckSession,
  definition: ReportDefinition,
  period: string,
  options: BuildReportsOptions & { logger: Logger; now: Date },
): Promise<BuiltReport> {
  const started = Date.now();
  const { config, home, logger } = options;
  logger.info(`building ${definition.name} ${period} for ${config.partner}`);
  const output = await definition.run({ duck, home, config, period, logger });
  await checkSchema(duck, definition, output);

  const gold = goldFile(home, config.partner, definition.name, period);
  const columns = definition.columns.map((column) => sqlIdentifier(column.name)).join(', ');
  // Reconciled on the written file before it takes the gold name: a report that does not
  // add up never replaces the last good gold.
  const reconciliation = await withAtomicFile(gold, async (tmp) => {
    await duck.run(`COPY (SELECT ${columns} FROM ${sqlIdentifier(output.table)}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    return reconcile(duck, definition, output, tmp, config);
  });
  const rows = Number((await duck.all<{ rows: bigint }>(`SELECT count(*) AS rows FROM read_parquet(${sqlString(gold)})`))[0]!.rows);
  const settings = config.reports[definition.name]!;
  const queried = Date.now();
  const formatTimings = new Map<RenderFormat, number>();
  const summary = {
    rows,
    units: reconciliation.gold_units,
    revenue: reconciliation.gold_revenue,
    ...output.summary,
    ...reconciliation,
  };
  const { writePackageDocuments } = await import('../notify/insights/index.js');
  const outbox = await renderPackage({
    duck,
    source: gold,
    dir: outboxDir(home, config.partner, definition.name, period),
    partner: config.partner,
    report: definition.name,
    period,
    formats: settings.formats,
    columns: definition.columns,
    csv: config.render.csv,
    parquetCompression: config.render.parquet.compression,
    summary,
    now: options.now,
    timings: formatTimings,
    documents: (dir) => writePackageDocuments(dir, { duck, home, config, report: definition.name, period, gold, columns: definition.columns, summary }),
  });
  const ms = Date.now() - started;
  const timings = { query_ms: queried - started, render_ms: Date.now() - queried, formats: Object.fromEntries([...formatTimings].map(([format, took]) => [format, Math.round(took)])) };
  logger.info(`${definition.name} ${period}: ${rows} rows, ${outbox.manifest.files.length} files in ${outbox.dir} (${ms} ms)`);
  return { report: definition.name, period, gold, inputs: output.reads, outbox, rows, reconciliation, ms, timings };
}

/** The report's table must have exactly the declared columns, in order, with the declared types. */
async function checkSchema(duck: DuckSession, definition: ReportDefinition, output: ReportOutput): Promise<void> {
  const actual = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sqlIdentifier(output.table)}`);
  const got = actual.map((column) => `${column.column_name} ${column.column_type}`).join(', ');
  const want = definition.columns.map((column) => `${column.name} ${column.type}`).join(', ');
  if (got !== want) {
    throw new InternalError(`${definition.name}: the query's columns differ from the declared contract: got [${got}], declared [${want}]`, {
      hint: 'fix the report SQL or its index.ts; a contract change needs the partner to agree',
    });
  }
}

const reconcileSql = new URL('./silver-totals.sql', import.meta.url);

/** Gold (read back from the written file) + suppressed must equal silver, to the unit and the cent. */
async function reconcile(duck: DuckSession, definition: ReportDefinition, output: ReportOutput, gold: string, config: PartnerConfig): Promise<Reconciliation> {
  const { scope } = output;
  const sql = renderSql(
    await readReportSql(reconcileSql),
    {
      transactions_files: scope.transactionFiles,
      products_files: scope.productFiles,
      brands: config.products.brands,
      manufacturer: config.products.manufacturer ?? null,
      from: scope.from,
      to: scope.to,
    },
    'silver-totals.sql',
  );
  const [silver] = await duck.json<{ units: string; revenue: string }>(sql);
  const units = sqlIdentifier(definition.totals.units);
  const revenue = sqlIdentifier(definition.totals.revenue);
  const [goldTotals] = await duck.json<{ units: string; revenue: string }>(
    `SELECT CAST(coalesce(sum(${units}), 0) AS BIGINT) AS units, CAST(coalesce(sum(${revenue}), 0) AS DECIMAL(38,2)) AS revenue FROM read_parquet(${sqlString(gold)})`,
  );
  const [expected] = await duck.json<{ units: string; revenue: string }>(
    `SELECT CAST(${BigInt(goldTotals!.units) + output.suppressed.units} AS BIGINT) AS units, CAST(${sqlString(goldTotals!.revenue)} AS DECIMAL(38,2)) + CAST(${sqlString(output.suppressed.revenue)} AS DECIMAL(38,2)) AS revenue`,
  );
  const result: Reconciliation = {
    silver_units: Number(silver!.units),
    silver_revenue: String(silver!.revenue),
    gold_units: Number(goldTotals!.units),
    gold_revenue: String(goldTotals!.revenue),
    suppressed_units: Number(output.suppressed.units),
    suppressed_revenue: String(output.suppressed.revenue),
  };
  if (String(expected!.units) !== String(silver!.units) || String(expected!.revenue) !== String(silver!.revenue)) {
    throw new InternalError(
      `${definition.name}: gold does not reconcile with silver: units ${result.gold_units} + suppressed ${result.suppressed_units} vs silver ${result.silver_units}; revenue ${result.gold_revenue} + suppressed ${result.suppressed_revenue} vs silver ${result.silver_revenue}`,
      { hint: 'this is a bug in the report SQL: rerun with --verbose and report it; nothing was delivered' },
    );
  }
  return result;
}
