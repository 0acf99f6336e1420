import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { bronzeDir, type SourceTable } from '../lake/layout.js';
import { sqlIdentifier, sqlString, type DuckSession } from '../lake/duckdb.js';
import { normaliseColumnName, requiredColumns } from './schema.js';

export type BronzeFormat = 'csv' | 'jsonl' | 'parquet';
/** Encodings DuckDB's read_csv reads natively. */
export type BronzeEncoding = 'utf-8' | 'latin-1' | 'utf-16';

/** `_source.json` beside every bronze data file: how to read it and where it came from. */
export interface BronzeSource {
  /** Data file name inside the partition directory. */
  file: string;
  format: BronzeFormat;
  /** CSV only. */
  delimiter?: string;
  /** CSV only. */
  encoding?: BronzeEncoding;
  /** CSV only: the first line names the columns (always true today). */
  header?: boolean;
  /** Column names as they appear in the file. */
  columns: string[];
  /** Columns beyond the contract, as they appear in the file. */
  extra_columns: string[];
  rows: number;
  sha256: string;
  source: 'synthetic' | 'ingest' | string;
  /** When `file` is a UTF-8 copy made at ingest: the export as received, kept beside it. */
  original_file?: string;
  /** Encoding of `original_file` (windows-1252, which DuckDB cannot read). */
  original_encoding?: string;
  written_at: string;
}

/** How to read one data file. */
export interface ReadOptions {
  format: BronzeFormat;
  delimiter?: string;
  encoding?: BronzeEncoding;
  header?: boolean;
}

/** Reads `_source.json` of a bronze partition; a missing partition is a DataError with what to run. */
export async function readBronzeSource(home: string, table: SourceTable, date: string): Promise<{ dir: string; source: BronzeSource; dataPath: string }> {
  const dir = bronzeDir(home, table, date);
  let text: string;
  try {
    text = await readFile(join(dir, '_source.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DataError(`no bronze ${table} for ${date} (looked for ${join(dir, '_source.json')})`, {
        hint: `create it with \`dataprod generate --from ${date}\` or \`dataprod ingest --table ${table} --file <export> --date ${date}\``,
      });
    }
    throw error;
  }
  let source: BronzeSource;
  try {
    source = JSON.parse(text) as BronzeSource;
  } catch (error) {
    throw new DataError(`${join(dir, '_source.json')} is not valid JSON`, { cause: error, hint: `re-create the partition with \`dataprod ingest\` or \`dataprod generate --from ${date}\`` });
  }
  if (!source.file || !['csv', 'jsonl', 'parquet'].includes(source.format)) {
    throw new DataError(`${join(dir, '_source.json')} does not say which file to read or its format`, { hint: `re-create the partition with \`dataprod ingest\` or \`dataprod generate --from ${date}\`` });
  }
  return { dir, source, dataPath: join(dir, source.file) };
}

/** The table function reading a file, every value as it is in the file. */
export function readerSql(path: string, options: ReadOptions): string {
  switch (options.format) {
    case 'csv': {
      const args = [
        sqlString(path),
        'all_varchar = true',
        // Bronze paths contain date=D: that is our partition, not a column of the file.
        'hive_partitioning = false',
        `header = ${options.header === false ? 'false' : 'true'}`,
        ...(options.delimiter ? [`delim = ${sqlString(options.delimiter)}`] : []),
        ...(options.encoding ? [`encoding = ${sqlString(options.encoding)}`] : []),
      ];
      return `read_csv(${args.join(', ')})`;
    }
    case 'jsonl':
      return `read_ndjson_objects(${sqlString(path)})`;
    case 'parquet':
      return `read_parquet(${sqlString(path)}, hive_partitioning = false)`;
  }
}

/** Column names of a file as DuckDB sees them (for JSON lines: the keys, in first-seen order). */
export async function fileColumns(duck: DuckSession, path: string, options: ReadOptions): Promise<string[]> {
  if (options.format === 'jsonl') {
    const rows = await duck.all<{ key: string }>(
      `SELECT key FROM (SELECT unnest(json_keys(json)) AS key, row_number() OVER () AS n FROM ${readerSql(path, options)}) GROUP BY key ORDER BY min(n)`,
    );
    return rows.map((row) => row.key);
  }
  const rows = await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${readerSql(path, options)}`);
  return rows.map((row) => row.column_name);
}

/**
 * The field names of a CSV header line as written (quotes removed). DuckDB renames a
 * second `city` or `CITY` to `city_1` before anyone sees it, so duplicates are looked
 * for here, on the raw line.
 */
export function splitHeaderLine(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** SQL for one column of a file, as text (CSV is read all_varchar: no cast needed). */
export function columnText(original: string, format: BronzeFormat): string {
  if (format === 'jsonl') return `json_extract_string(json, ${sqlString(`$."${original.replaceAll('"', '\\"')}"`)})`;
  if (format === 'csv') return sqlIdentifier(original);
  return `CAST(${sqlIdentifier(original)} AS VARCHAR)`;
}

/** How the columns of a file map onto a table's contract. */
export interface ColumnMapping {
  /** Contract (canonical) name -> name in the file. */
  contract: Map<string, string>;
  /** Extra columns: canonical (trimmed, lower-case) name -> name in the file. */
  extra: Map<string, string>;
  /** Contract columns the file lacks. */
  missing: string[];
  /** Canonical names that more than one file column maps to. */
  ambiguous: string[];
}

/** Matches file columns to the contract, trimmed and case-insensitively. */
export function mapColumns(table: SourceTable, fileColumnNames: readonly string[]): ColumnMapping {
  const required = requiredColumns(table);
  const contract = new Map<string, string>();
  const extra = new Map<string, string>();
  const ambiguous: string[] = [];
  const found = new Map<string, string>();
  for (const original of fileColumnNames) {
    const name = normaliseColumnName(original);
    if (found.has(name)) ambiguous.push(name);
    else found.set(name, original);
  }
  // Contract columns in contract order, whatever the order in the file.
  for (const name of required) if (found.has(name)) contract.set(name, found.get(name)!);
  for (const [name, original] of found) if (!required.includes(name)) extra.set(name, original);
  return { contract, extra, missing: required.filter((name) => !contract.has(name)), ambiguous };
}

/** One line naming what is wrong with a file's columns, or undefined when they are usable. */
export function describeColumnProblem(table: SourceTable, mapping: ColumnMapping, where: string): DataError | undefined {
  if (mapping.missing.length > 0) {
    return new DataError(`${where} lacks required ${table} column${mapping.missing.length > 1 ? 's' : ''} ${mapping.missing.join(', ')}`, {
      hint: `re-export it with the columns ${requiredColumns(table).join(', ')} or rename its header; names match ignoring case and spaces`,
    });
  }
  if (mapping.ambiguous.length > 0) {
    return new DataError(`${where}: ambiguous column ${mapping.ambiguous.join(', ')}: more than one column has that name (ignoring case and spaces)`, {
      hint: 'rename or drop the duplicate columns in the export',
    });
  }
  return undefined;
}

/** How to read a file's columns as text: the table function and, per canonical name, the SQL of its value. */
export interface TextSource {
  from: string;
  columns: Map<string, string>;
}

/** Every contract column then every extra column (canonical names) of a file, as text. */
export function textSource(path: string, options: ReadOptions, mapping: ColumnMapping): TextSource {
  const columns = new Map<string, string>();
  for (const [name, original] of [...mapping.contract, ...mapping.extra]) columns.set(name, columnText(original, options.format));
  return { from: readerSql(path, options), columns };
}
