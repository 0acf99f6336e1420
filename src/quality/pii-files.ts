import { extname } from 'node:path';
import { type DuckSession, sqlIdentifier, sqlString } from '../lake/duckdb.js';
import { type PiiFindings, matchCustomers, scanValuesForPii } from './pii-match.js';
import { readXlsxRows } from './xlsx-cells.js';

/** What one file's scan found; values themselves are never kept (they are the leak). */
export interface FileScan {
  file: string;
  format: string;
  /** False when the format is not one the scan reads (then it is reported, not passed silently). */
  scanned: boolean;
  findings: PiiFindings;
}

/** Every value of every column as text, `vals(col, val, n)`, from a relation DuckDB reads. */
function unpivotSql(relation: string): string {
  return `SELECT col, val, 1 AS n FROM (UNPIVOT (SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ${relation}) ON COLUMNS(*) INTO NAME col VALUE val)`;
}

/**
 * The relation of (column, value) pairs of a deliverable, per format. CSV is parsed as
 * CSV (quoted fields may hold CR or LF), every field as text; JSON by DuckDB's reader;
 * a file that parses as neither (manifest, text) is scanned whole as one value.
 */
function fileValuesSql(path: string, format: string): string | null {
  const file = sqlString(path);
  switch (format) {
    case 'csv':
    case 'tsv':
      return unpivotSql(`read_csv(${file}, header = true, all_varchar = true, hive_partitioning = false, max_line_size = 16777216)`);
    case 'jsonl':
    case 'ndjson':
    case 'json':
      return unpivotSql(`read_json(${file}, hive_partitioning = false, maximum_object_size = 268435456)`);
    case 'parquet':
      return unpivotSql(`read_parquet(${file}, hive_partitioning = false)`);
    case 'txt':
    case 'md':
      return wholeFileSql(path);
    default:
      return null;
  }
}

function wholeFileSql(path: string): string {
  return `SELECT ${sqlString(path.split('/').pop()!)} AS col, content AS val, 1 AS n FROM read_text(${sqlString(path)})`;
}

// Cells that cannot hold personal data once folded: pseudonyms (long hex) and numbers of
// fewer than 10 digits. Dropping them in JavaScript keeps the table small.
const hexToken = /^[0-9a-fA-F]{24,}$/;
function worthScanning(value: string, numeric: boolean): boolean {
  if (numeric) return value.replace(/[^0-9]/g, '').length >= 10;
  return !hexToken.test(value);
}

/** Distinct values per column of an XLSX file and how often each occurs. */
export type XlsxValueCounts = Map<string, Map<string, number>>;

/**
 * Streams an XLSX file's cells (pure JavaScript, so it overlaps DuckDB's own scans) into
 * distinct values per column with their counts; columns named by each sheet's header row.
 */
export async function readXlsxValueCounts(path: string): Promise<XlsxValueCounts> {
  const counts: XlsxValueCounts = new Map();
  let headers: string[] = [];
  let sheet = '';
  for await (const row of readXlsxRows(path)) {
    if (row.sheet !== sheet || row.row === 1) {
      sheet = row.sheet;
      headers = [];
      for (const cell of row.cells) headers[cell.column] = cell.value;
      // The header row is scanned too: a column name can leak as well as a value.
      for (const cell of row.cells) bump(counts, '(header)', cell.value);
      continue;
    }
    for (const cell of row.cells) if (worthScanning(cell.value, cell.numeric)) bump(counts, headers[cell.column] ?? `column ${cell.column + 1}`, cell.value);
  }
  return counts;
}

let tableSerial = 0;

/** Scans the value counts of an XLSX file, through a temporary table `(col, val, n)`. */
export async function scanXlsxValueCounts(duck: DuckSession, path: string, counts: XlsxValueCounts): Promise<FileScan> {
  const table = `pii_xlsx_${++tableSerial}`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdentifier(table)} (col VARCHAR, val VARCHAR, n BIGINT)`);
  try {
    const appender = await duck.connection.createAppender(table);
    try {
      for (const [column, values] of counts) {
        for (const [value, n] of values) {
          appender.appendVarchar(column);
          appender.appendVarchar(value);
          appender.appendBigInt(BigInt(n));
          appender.endRow();
        }
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    return { file: path, format: 'xlsx', scanned: true, findings: await scanValuesForPii(duck, `SELECT col, val, n FROM ${sqlIdentifier(table)}`) };
  } finally {
    await duck.run(`DROP TABLE IF EXISTS ${sqlIdentifier(table)}`);
  }
}

function bump(counts: XlsxValueCounts, column: string, value: string): void {
  let values = counts.get(column);
  if (!values) counts.set(column, (values = new Map()));
  values.set(value, (values.get(value) ?? 0) + 1);
}

/**
 * Scans one deliverable file for personal data, column by column. Calls on one session
 * must not overlap; to overlap XLSX parsing with other scans, use readXlsxValueCounts.
 */
export async function scanFileForPii(duck: DuckSession, path: string, format = extname(path).slice(1).toLowerCase()): Promise<FileScan> {
  if (format === 'xlsx') return scanXlsxValueCounts(duck, path, await readXlsxValueCounts(path));
  const values = fileValuesSql(path, format);
  if (!values) return { file: path, format, scanned: false, findings: {} };
  try {
    return { file: path, format, scanned: true, findings: await scanValuesForPii(duck, values) };
  } catch (error) {
    // Not the tabular file its name says (a manifest, a hand-written note): scan it whole.
    if (format === 'parquet') throw error;
    return { file: path, format, scanned: true, findings: await scanValuesForPii(duck, wholeFileSql(path)) };
  }
}

/** Every silver customer (all partitions), the dictionary the gold values are checked against. */
export function silverCustomersSql(silverCustomersDir: string): string {
  return `SELECT DISTINCT customer_id, name, email, cpf FROM read_parquet(${sqlString(`${silverCustomersDir}/date=*/data.parquet`)}, hive_partitioning = false, union_by_name = true)`;
}

/** Text values of a gold Parquet file matched exactly against every silver customer. */
export async function matchGoldAgainstCustomers(duck: DuckSession, goldPath: string, customersSql: string): Promise<PiiFindings> {
  const columns = await duck.json<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(goldPath)}, hive_partitioning = false)`);
  const text = columns.filter((column) => column.column_type === 'VARCHAR').map((column) => column.column_name);
  if (text.length === 0) return {};
  const values = `SELECT col, val, 1 AS n FROM (UNPIVOT (SELECT ${text.map(sqlIdentifier).join(', ')} FROM read_parquet(${sqlString(goldPath)}, hive_partitioning = false)) ON COLUMNS(*) INTO NAME col VALUE val)`;
  return matchCustomers(duck, values, customersSql);
}
