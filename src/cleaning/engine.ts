import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { DataError, InternalError } from '../errors.js';
import { withAtomicFile, writeFileAtomic } from '../lake/atomic.js';
import { DuckSession, sqlIdentifier as id, sqlString } from '../lake/duckdb.js';
import { quarantineFile, silverFile, silverTableDir, sourceTables, type SourceTable, qualitySummaryFile, cleaningSpillDir } from '../lake/layout.js';
import { silentLogger } from '../log.js';
import { describeColumnProblem, fileColumns, mapColumns, readBronzeSource, textSource } from './bronze.js';
import { compileTablePlan, validateRuleSet } from './compile.js';
import { registerCleaningFunctions } from './functions.js';
import { cleaningRules } from './rules.js';
import type { CleaningRule, RuleCounts, TableSummary } from './types.js';

export type { TableSummary, RuleCounts } from './types.js';

export interface CleanDaysOptions {
  /** Lake home. */
  home: string;
  /** Days to clean (YYYY-MM-DD), each in full: products, customers, then transactions. */
  days: readonly string[];
  /** Where progress lines go; silent when absent. */
  logger?: Logger;
  /** Only these tables (still in the order products, customers, transactions). */
  tables?: readonly SourceTable[];
  /** The rule set; defaults to the library in rules.ts (tests pass their own). */
  rules?: readonly CleaningRule[];
  /** Called before each table/day, e.g. to update a progress line. */
  onProgress?: (detail: string) => void;
}

/** The `--json` shape of `dataprod clean`: totals over the days cleaned, and each day. */
export interface CleanResult {
  tables: Partial<Record<SourceTable, TableSummary>>;
  days: Record<string, Partial<Record<SourceTable, TableSummary>>>;
}

export interface CleanTableDayOptions {
  home: string;
  table: SourceTable;
  date: string;
  /** An open session with the cleaning functions registered (see openCleaningSession). */
  duck: DuckSession;
  rules?: readonly CleaningRule[];
  logger?: Logger;
}

/** A DuckDB session ready for cleaning: São Paulo time zone and the cleaning functions. */
export async function openCleaningSession(home: string): Promise<DuckSession> {
  // Spill beside the lake, not in the current directory (DuckDB's default for in-memory).
  const duck = await DuckSession.open({ tempDirectory: cleaningSpillDir(home) });
  // The TIMESTAMPTZ casts of the rules read offset-less times as São Paulo local time.
  await duck.run(`SET TimeZone = 'America/Sao_Paulo'`);
  registerCleaningFunctions(duck.connection);
  return duck;
}

/** Silver partitions of a table on or before a day, oldest first. */
async function silverFilesUpTo(home: string, table: SourceTable, date: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(silverTableDir(home, table));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((name) => /^date=\d{4}-\d{2}-\d{2}$/.test(name) && name.slice(5) <= date)
    .sort()
    .map((name) => silverFile(home, table, name.slice(5)));
}

async function existing(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    try {
      await access(path);
      out.push(path);
    } catch {
      // a partition directory without data.parquet (interrupted write): skip it
    }
  }
  return out;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/**
 * Cleans one table for one day: bronze -> silver + quarantine, and the quality summary in
 * <home>/_meta/quality/<table>/date=D.json. Re-running replaces both partitions.
 */
export async function cleanTableDay(options: CleanTableDayOptions): Promise<TableSummary> {
  const { home, table, date, duck } = options;
  const rules = options.rules ?? cleaningRules;
  const logger = options.logger ?? silentLogger();
  const { source, dataPath } = await readBronzeSource(home, table, date);
  const readOptions = { format: source.format, delimiter: source.delimiter, encoding: source.encoding, header: source.header };

  let columns: string[];
  try {
    columns = source.format === 'jsonl' && source.columns?.length ? source.columns : await fileColumns(duck, dataPath, readOptions);
  } catch (error) {
    throw new DataError(`cannot read bronze ${table} file ${dataPath}: ${firstLine(error)}`, { cause: error, hint: `re-create the partition with \`dataprod ingest --table ${table} --date ${date}\` or \`dataprod generate --from ${date}\`` });
  }
  const mapping = mapColumns(table, columns);
  const problem = describeColumnProblem(table, mapping, `bronze file ${dataPath}`);
  if (problem) throw problem;
  const plan = compileTablePlan(table, { contract: [...mapping.contract.keys()], extra: [...mapping.extra.keys()] }, rules, date, textSource(dataPath, readOptions, mapping));

  const temps = ['checked', 'dup', 'candidates', ...plan.references.map((ref) => ref.tableName)];
  const dropTemps = async () => {
    for (const name of temps) await duck.run(`DROP TABLE IF EXISTS ${id(name)}`);
  };
  await dropTemps();
  // Step timings go to the debug log: they are what the benchmark compares.
  let mark = Date.now();
  const step = (name: string) => {
    const now = Date.now();
    logger.debug(`clean ${table} ${date}: ${name} ${now - mark} ms`);
    mark = now;
  };
  try {
    for (const reference of plan.references) {
      const files = await existing(await silverFilesUpTo(home, reference.table, date));
      if (files.length === 0) {
        throw new DataError(`cannot check ${table} of ${date}: no silver ${reference.table} on or before ${date}`, {
          hint: `clean ${reference.table} first: \`dataprod clean --date ${date}\` cleans products, customers and transactions in order`,
        });
      }
      await duck.run(
        `CREATE TEMP TABLE ${id(reference.tableName)} AS SELECT DISTINCT CAST(${id(reference.column)} AS VARCHAR) AS k FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true, hive_partitioning = false) WHERE k IS NOT NULL`,
      );
    }
    step('references');
    try {
      await duck.run(plan.checkedSql);
    } catch (error) {
      throw new DataError(`cannot read bronze ${table} file ${dataPath}: ${firstLine(error)}`, {
        cause: error,
        hint: `fix the export and ingest it again: \`dataprod ingest --table ${table} --date ${date} --file <export>\``,
      });
    }
    step('read and check');
    // Only `checked` needs the file's order (its rowid is the row number); from here on,
    // letting DuckDB reorder saves work.
    await duck.run('SET preserve_insertion_order = false');
    for (const sql of plan.dupSql) await duck.run(sql);
    step('duplicates');

    const rowsSilver = await withAtomicFile(silverFile(home, table, date), (tmp) => copyCount(duck, plan.silverSelect, tmp));
    step('write silver');
    const rowsQuarantined = await withAtomicFile(quarantineFile(home, table, date), (tmp) => copyCount(duck, plan.quarantineSelect, tmp));
    step('write quarantine');
    const countRows = await duck.all(plan.summarySelect);
    step('summary');
    const counts = plan.readCounts(countRows);
    if (typeof source.rows === 'number' && source.rows > 0 && source.rows !== counts.rowsIn) {
      logger.warn(`bronze ${table} ${date}: _source.json says ${source.rows} rows, the file has ${counts.rowsIn}`);
    }

    const summary: TableSummary = {
      rows_in: counts.rowsIn,
      rows_silver: rowsSilver,
      rows_quarantined: rowsQuarantined,
      rows_duplicate: counts.duplicates,
      rules: counts.rules,
    };
    // Nothing is lost: every row read is in silver, in quarantine, or counted as a duplicate.
    if (summary.rows_in !== summary.rows_silver + summary.rows_quarantined + summary.rows_duplicate) {
      throw new InternalError(
        `clean ${table} ${date}: rows do not add up (in ${summary.rows_in}, silver ${summary.rows_silver}, quarantined ${summary.rows_quarantined}, duplicate ${summary.rows_duplicate})`,
        { hint: 'this is a bug in the cleaning engine: report it with the bronze partition' },
      );
    }
    await writeFileAtomic(
      qualitySummaryFile(home, table, date),
      `${JSON.stringify({ table, date, ...summary, bronze: { file: source.file, sha256: source.sha256, source: source.source }, written_at: new Date().toISOString() }, null, 2)}\n`,
    );
    logger.info(
      `clean ${table} ${date}: ${summary.rows_in} in, ${summary.rows_silver} silver, ${summary.rows_quarantined} quarantined, ${summary.rows_duplicate} duplicate`,
    );
    return summary;
  } finally {
    await duck.run('SET preserve_insertion_order = true');
    await dropTemps();
  }
}

async function copyCount(duck: DuckSession, select: string, path: string): Promise<number> {
  const rows = await duck.all<{ Count: bigint }>(`COPY (${select}) TO ${sqlString(path)} (FORMAT parquet)`);
  return Number(rows[0]?.Count ?? 0);
}

/** Adds a summary into a running total (same rules, counts summed). */
export function addSummary(total: TableSummary | undefined, day: TableSummary): TableSummary {
  const out: TableSummary = total ?? { rows_in: 0, rows_silver: 0, rows_quarantined: 0, rows_duplicate: 0, rules: {} };
  out.rows_in += day.rows_in;
  out.rows_silver += day.rows_silver;
  out.rows_quarantined += day.rows_quarantined;
  out.rows_duplicate += day.rows_duplicate;
  for (const [rule, counts] of Object.entries(day.rules)) {
    const target: RuleCounts = (out.rules[rule] ??= {});
    for (const [name, value] of Object.entries(counts) as [keyof RuleCounts, number][]) target[name] = (target[name] ?? 0) + value;
  }
  return out;
}

/**
 * Cleans each day in order (products, customers, then transactions of that day, so the
 * reference checks see that day's silver). A missing bronze partition stops with a
 * DataError saying what to run.
 */
export async function cleanDays(options: CleanDaysOptions): Promise<CleanResult> {
  const rules = options.rules ?? cleaningRules;
  validateRuleSet(rules);
  const tables = sourceTables.slice().sort(byCleanOrder).filter((table) => !options.tables || options.tables.includes(table));
  const result: CleanResult = { tables: {}, days: {} };
  const duck = await openCleaningSession(options.home);
  try {
    for (const date of options.days) {
      const day: Partial<Record<SourceTable, TableSummary>> = {};
      for (const table of tables) {
        options.onProgress?.(`${date}: ${table}`);
        const summary = await cleanTableDay({ home: options.home, table, date, duck, rules, logger: options.logger });
        day[table] = summary;
        result.tables[table] = addSummary(result.tables[table], summary);
      }
      result.days[date] = day;
    }
  } finally {
    duck.close();
  }
  return result;
}

const CLEAN_ORDER: readonly SourceTable[] = ['products', 'customers', 'transactions'];
function byCleanOrder(a: SourceTable, b: SourceTable): number {
  return CLEAN_ORDER.indexOf(a) - CLEAN_ORDER.indexOf(b);
}
