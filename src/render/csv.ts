import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { ConfigError } from '../errors.js';
import { sqlIdentifier, sqlString } from '../lake/duckdb.js';
import type { CsvOptions, RenderColumn, RenderInput } from './types.js';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * OWASP's CSV-injection rule: a text cell starting with one of these is a formula (or
 * becomes one) when Excel or LibreOffice opens the file, so it gets a leading `'`.
 */
export const CSV_FORMULA_TRIGGERS = ['=', '+', '-', '@', '\t', '\r'] as const;

/** What the manifest says about it, for the partner and the data dictionary. */
export const CSV_FORMULA_ESCAPING = {
  rule: 'owasp-csv-injection',
  prefix: "'",
  triggers: [...CSV_FORMULA_TRIGGERS],
  applies_to: 'text columns of the .csv file only; numbers, dates and times are never prefixed; Parquet, JSON, XLSX (string cells) and the API carry the raw value',
} as const;

const triggerList = CSV_FORMULA_TRIGGERS.map((trigger) => (trigger === '\t' ? 'chr(9)' : trigger === '\r' ? 'chr(13)' : sqlString(trigger))).join(', ');

/** The SQL expression that renders one column as CSV text. */
function csvExpression(column: RenderColumn, options: CsvOptions): string {
  const name = sqlIdentifier(column.name);
  const type = column.type.toUpperCase();
  // A decimal comma for Brazilian Excel; DuckDB's own text form keeps the full scale (1.50).
  if (type.startsWith('DECIMAL') || type === 'DOUBLE' || type === 'FLOAT') {
    return options.decimal_mark === ',' ? `replace(CAST(${name} AS VARCHAR), '.', ',') AS ${name}` : `CAST(${name} AS VARCHAR) AS ${name}`;
  }
  if (type === 'DATE') return `strftime(${name}, '%Y-%m-%d') AS ${name}`;
  if (type.startsWith('TIMESTAMP')) return `strftime(${name}, '%Y-%m-%dT%H:%M:%S%z') AS ${name}`;
  if (type === 'VARCHAR' || type.startsWith('VARCHAR(') || type === 'TEXT') {
    return `CASE WHEN left(${name}, 1) IN (${triggerList}) THEN '''' || ${name} ELSE ${name} END AS ${name}`;
  }
  return name;
}

/** Checks the CSV settings can produce a readable file. */
export function validateCsvOptions(options: CsvOptions): void {
  if (options.delimiter.length !== 1 || options.delimiter === '"' || options.delimiter === '\n' || options.delimiter === '\r') {
    throw new ConfigError(`render.csv.delimiter ${JSON.stringify(options.delimiter)} cannot separate CSV fields`, { hint: 'use ";" (Brazilian Excel), "," or a tab' });
  }
}

/**
 * CSV through DuckDB's writer: a header row, fields quoted with '"' only when they hold the
 * delimiter, a quote or a line break (quotes doubled), NULL as an empty field, dates ISO
 * (YYYY-MM-DD), times HH:MM:SS, decimals with the configured mark. When the decimal mark is
 * also the delimiter, the writer quotes those fields, so the file still parses. Text that
 * a spreadsheet would run as a formula is prefixed with `'` (CSV_FORMULA_ESCAPING).
 */
export async function renderCsv(input: RenderInput, options: CsvOptions): Promise<void> {
  validateCsvOptions(options);
  const select = input.columns.map((column) => csvExpression(column, options)).join(', ');
  const body = options.bom ? `${input.target}.body` : input.target;
  await input.duck.run(
    `COPY (SELECT ${select} FROM read_parquet(${sqlString(input.source)})) TO ${sqlString(body)} ` +
      `(FORMAT csv, HEADER true, DELIMITER ${sqlString(options.delimiter)}, QUOTE '"', ESCAPE '"', NULLSTR '')`,
  );
  if (!options.bom) return;
  try {
    const out = createWriteStream(input.target);
    out.write(UTF8_BOM);
    await pipeline(createReadStream(body), out);
  } finally {
    await rm(body, { force: true });
  }
}

