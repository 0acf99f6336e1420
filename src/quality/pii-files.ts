import { extname } from 'node:path';
import { type DuckSession, sqlIdentifier, sqlString } from '../lake/duckdb.js';
import { type PiiFindings, matchCustomers, scanValuesForPii } from './pii-match.js';
import { forEachXlsxCell } from './xlsx-cells.js';

/** What one file's scan found; values themselves are never kept (they are the leak). */
export interface FileScan {
  file: string;
  format: string;
  /** False when the format is not one the scan reads (then it is reported, not passed silently). */
  scanned: boolean;
  findings: PiiFindings;
}

/**
 * Every distinct value of every column of a relation, as text, with its count:
 * `vals(col, val, n)`. One pass with a grouping set per column, then an unpivot of the
 * (much smaller) result: six times cheaper than unpivoting every row first.
 */
async function distinctValuesSql(duck: DuckSession, relation: string): Promise<string> {
  const columns = (await duck.json<{ column_name: string }>(`DESCRIBE SELECT * FROM ${relation}`)).map((column) => column.column_name);
  if (columns.length === 0) return `SELECT NULL::VARCHAR AS col, NULL::VARCHAR AS val, 0::BIGINT AS n WHERE false`;
  const list = columns.map(sqlIdentifier);
  const grouped = `SELECT ${list.join(', ')}, count(*)::BIGINT AS dp_n FROM ${relation} GROUP BY GROUPING SETS (${list.map((column) => `(${column})`).join(', ')})`;
  return `SELECT col, val, dp_n AS n FROM (UNPIVOT (SELECT CAST(COLUMNS(* EXCLUDE dp_n) AS VARCHAR), dp_n FROM (${grouped})) ON COLUMNS(* EXCLUDE dp_n) INTO NAME col VALUE val)`;
}

/**
 * The relation a deliverable is read through, per format. CSV is parsed as CSV (quoted
 * fields may hold CR or LF), every field as text; JSON by DuckDB's reader.
 */
function fileRelation(path: string, format: string): string | null {
  const file = sqlString(path);
  switch (format) {
    case 'csv':
    case 'tsv':
      return `read_csv(${file}, header = true, all_varchar = true, hive_partitioning = false, max_line_size = 16777216)`;
    case 'jsonl':
    case 'ndjson':
    case 'json':
      return `read_json(${file}, hive_partitioning = false)`;
    case 'parquet':
      return `read_parquet(${file}, hive_partitioning = false)`;
    default:
      return null;
  }
}

function wholeFileSql(path: string): string {
  return `SELECT ${sqlString(path.split('/').pop()!)} AS col, content AS val, 1 AS n FROM read_text(${sqlString(path)})`;
}

// Cells that cannot hold personal data once folded: pseudonyms (long hex) and numbers of
// fewer than 10 digits. Dropping them in JavaScript keeps the table small.
function isLongHex(value: string): boolean {
  if (value.length < 24) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i) | 0x20;
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false;
  }
  return true;
}
function isLongInteger(value: string): boolean {
  let digits = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
    else if (!(i === 0 && code === 45)) return false;
  }
  return digits >= 10;
}
function worthScanning(value: string, numeric: boolean): boolean {
  // Numbers with a fraction (amounts, date and time serials) are blanked by the scan anyway.
  return numeric ? isLongInteger(value) : !isLongHex(value);
}

/** Distinct values per column of an XLSX file and how often each occurs. */
export type XlsxValueCounts = Map<string, Map<string, number>>;

/**
 * Streams an XLSX file's cells (pure JavaScript, so it overlaps DuckDB's own scans) into
 * distinct values per column with their counts; columns named by each sheet's header row.
 */
export async function readXlsxValueCounts(path: string): Promise<XlsxValueCounts> {
  const counts: XlsxValueCounts = new Map();
  // Per sheet: column index -> header name, and column index -> value counts.
  let sheet = '';
  let headers: string[] = [];
  let byColumn: Map<string, number>[] = [];
  const columnCounts = (column: number): Map<string, number> => {
    let values = byColumn[column];
    if (!values) {
      const name = headers[column] ?? `column ${column + 1}`;
      values = counts.get(name) ?? new Map();
      counts.set(name, values);
      byColumn[column] = values;
    }
    return values;
  };
  await forEachXlsxCell(path, (cellSheet, row, column, value, numeric) => {
    if (cellSheet !== sheet) {
      sheet = cellSheet;
      headers = [];
      byColumn = [];
    }
    if (row === 1) {
      headers[column] = value;
      // The header row is scanned too: a column name can leak as well as a value.
      bump(counts, '(header)', value);
      return;
    }
    if (!worthScanning(value, numeric)) return;
    const values = columnCounts(column);
    values.set(value, (values.get(value) ?? 0) + 1);
  }, { minNumericLength: 10 });
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
  if (format === 'txt' || format === 'md' || format === 'html') return { file: path, format, scanned: true, findings: await scanValuesForPii(duck, wholeFileSql(path)) };
  const relation = fileRelation(path, format);
  if (!relation) return { file: path, format, scanned: false, findings: {} };
  try {
    return { file: path, format, scanned: true, findings: await scanValuesForPii(duck, await distinctValuesSql(duck, relation)) };
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

/**
 * A Parquet file of gold rows scanned once for both checks: its distinct (column, value)
 * pairs go to a temporary table, then the format rules run over every column and, when
 * `customersSql` is given, the customer dictionary over its text columns.
 */
export async function scanGoldParquet(duck: DuckSession, path: string, customersSql: string | null): Promise<{ scan: FileScan; customers: PiiFindings }> {
  const table = `pii_gold_${++tableSerial}`;
  const columns = await duck.json<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)}, hive_partitioning = false)`);
  const text = new Set(columns.filter((column) => column.column_type === 'VARCHAR').map((column) => column.column_name));
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdentifier(table)} AS ${await distinctValuesSql(duck, fileRelation(path, 'parquet')!)}`);
  try {
    const findings = await scanValuesForPii(duck, `SELECT col, val, n FROM ${sqlIdentifier(table)}`);
    const textList = [...text].map(sqlString).join(', ');
    const customers = customersSql && text.size ? await matchCustomers(duck, `SELECT col, val, n FROM ${sqlIdentifier(table)} WHERE col IN (${textList})`, customersSql) : {};
    return { scan: { file: path, format: 'parquet', scanned: true, findings }, customers };
  } finally {
    await duck.run(`DROP TABLE IF EXISTS ${sqlIdentifier(table)}`);
  }
}
