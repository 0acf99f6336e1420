import { isValidCnpj, isValidCpf, isValidMobilePhone } from '@brazilian-utils/brazilian-utils';
import { extname } from 'node:path';
import { type DuckSession, sqlString } from '../lake/duckdb.js';

/** Kinds of personal data the scan reports. */
export type PiiKind = 'email' | 'cpf' | 'cnpj' | 'phone' | 'cep';

interface PiiPattern {
  kind: PiiKind;
  /** Name of the pattern, so candidates that need a check digit test can be told apart. */
  id: string;
  /** RE2 (DuckDB) and JavaScript agree on this subset: classes, \b, \d, (?:...), {n}. */
  regex: string;
  /** Candidates must also pass this (check digits), else they are just numbers. */
  validate?: (value: string) => boolean;
}

/**
 * What counts as personal data in a deliverable. Bare 11- or 14-digit numbers count only
 * when their check digits make them a CPF or CNPJ; formatted ones always count. Bare
 * 8-digit CEPs are not matched: too many ordinary numbers look like them (20261120), and
 * a raw cep column is caught by the column-name check instead.
 */
export const piiPatterns: PiiPattern[] = [
  { kind: 'email', id: 'email', regex: '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}' },
  { kind: 'cpf', id: 'cpf-formatted', regex: '\\b\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}\\b' },
  { kind: 'cpf', id: 'cpf-digits', regex: '\\b\\d{11}\\b', validate: (value) => isValidCpf(value) },
  { kind: 'cnpj', id: 'cnpj-formatted', regex: '\\b\\d{2}\\.\\d{3}\\.\\d{3}/\\d{4}-\\d{2}\\b' },
  { kind: 'cnpj', id: 'cnpj-digits', regex: '\\b\\d{14}\\b', validate: (value) => isValidCnpj(value) },
  // One alternation, so one phone is one match: (11) 98765-4321, +55 11 98765-4321,
  // +5511987654321, 11 98765-4321, and bare 11987654321 when its area code is real and it
  // is not a valid CPF (then it counts as a CPF).
  {
    kind: 'phone',
    id: 'phone',
    regex: '(?:\\+55\\s?)?\\(\\d{2}\\)\\s?9?\\d{4}-?\\d{4}|\\+55\\s?\\d{2}\\s?9?\\d{4}-?\\d{4}|\\b\\d{2} 9\\d{4}-\\d{4}\\b|\\b[1-9]{2}9\\d{8}\\b',
    validate: (value) => !/^\d{11}$/.test(value) || (isValidMobilePhone(value) && !isValidCpf(value)),
  },
  { kind: 'cep', id: 'cep-formatted', regex: '\\b\\d{5}-\\d{3}\\b' },
];

/** Hits per kind in one file; values themselves are never kept (they are the leak). */
export interface PiiScanResult {
  file: string;
  format: string;
  /** False when the format could not be read (then it is reported, not passed silently). */
  scanned: boolean;
  hits: Partial<Record<PiiKind, number>>;
  total: number;
}

function emptyResult(file: string, format: string, scanned: boolean): PiiScanResult {
  return { file, format, scanned, hits: {}, total: 0 };
}

function addHits(result: PiiScanResult, kind: PiiKind, count: number): void {
  if (count <= 0) return;
  result.hits[kind] = (result.hits[kind] ?? 0) + count;
  result.total += count;
}

/** The SQL relation of text lines to scan, per format. */
function linesSql(path: string, format: string): string | null {
  const file = sqlString(path);
  switch (format) {
    case 'csv':
    case 'txt':
    case 'tsv':
    case 'jsonl':
    case 'ndjson':
      // Every line as one VARCHAR: no delimiter or quote handling, so nothing hides in a field.
      return `SELECT line FROM read_csv(${file}, columns = {'line': 'VARCHAR'}, header = false, hive_partitioning = false, delim = E'\\x01', quote = '', escape = '', auto_detect = false, max_line_size = 16777216)`;
    case 'json':
      return `SELECT content AS line FROM read_text(${file})`;
    case 'parquet':
      // Every value of every column, as text.
      return `SELECT val AS line FROM (UNPIVOT (SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet(${file}, hive_partitioning = false)) ON COLUMNS(*) INTO NAME col VALUE val)`;
    default:
      return null;
  }
}

/**
 * Scans one deliverable file for personal data, set-based in DuckDB: CSV/JSON as text
 * lines, Parquet as every value cast to text. Only distinct candidates that need a check
 * digit test come back to JavaScript. XLSX is streamed from its sheet XML.
 */
export async function scanFileForPii(duck: DuckSession, path: string, format = extname(path).slice(1).toLowerCase()): Promise<PiiScanResult> {
  if (format === 'xlsx') return scanXlsx(path);
  const lines = linesSql(path, format);
  if (!lines) return emptyResult(path, format, false);
  const matches = piiPatterns
    .map((pattern) => `SELECT ${sqlString(pattern.id)} AS id, unnest(regexp_extract_all(line, ${sqlString(pattern.regex)})) AS value FROM lines`)
    .join(' UNION ALL ');
  const rows = await duck.json<{ id: string; value: string; n: number }>(
    `WITH lines AS (${lines}) SELECT id, value, count(*)::BIGINT AS n FROM (${matches}) GROUP BY ALL`,
  );
  const result = emptyResult(path, format, true);
  const byId = new Map(piiPatterns.map((pattern) => [pattern.id, pattern]));
  for (const row of rows) {
    const pattern = byId.get(row.id)!;
    if (pattern.validate && !pattern.validate(row.value)) continue;
    addHits(result, pattern.kind, Number(row.n));
  }
  return result;
}

/** Scans text in JavaScript with the same patterns (used for XLSX cell text). */
export function scanTextForPii(text: string): Partial<Record<PiiKind, number>> {
  const hits: Partial<Record<PiiKind, number>> = {};
  for (const pattern of piiPatterns) {
    for (const match of text.matchAll(new RegExp(pattern.regex, 'g'))) {
      if (pattern.validate && !pattern.validate(match[0])) continue;
      hits[pattern.kind] = (hits[pattern.kind] ?? 0) + 1;
    }
  }
  return hits;
}

async function scanXlsx(path: string): Promise<PiiScanResult> {
  const result = emptyResult(path, 'xlsx', true);
  const { readXlsxRows } = await import('./xlsx-cells.js');
  // Streamed a row at a time from the sheet XML: the workbook is never loaded whole.
  for await (const row of readXlsxRows(path)) {
    const text = row.cells.map((cell) => cell.value).join('\t');
    for (const [kind, count] of Object.entries(scanTextForPii(text))) addHits(result, kind as PiiKind, count);
  }
  return result;
}
