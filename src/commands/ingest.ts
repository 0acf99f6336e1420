import type { BronzeEncoding, BronzeFormat } from '../cleaning/bronze.js';
import { yesterday } from '../dates.js';
import { UsageError } from '../errors.js';
import { isSourceTable, sourceTables } from '../lake/layout.js';
import { ingestFile, type IngestResult } from '../sources/ingest.js';
import type { CommandContext, CommandResult } from './context.js';

export interface IngestOptions {
  /** customers, products or transactions. */
  table: string;
  /** The export file (absolute, or relative to the current directory). */
  file: string;
  /** The day it belongs to (YYYY-MM-DD); default: yesterday in São Paulo. */
  date?: string;
  /** csv, jsonl or parquet; default: detected. */
  format?: BronzeFormat;
  /** CSV delimiter (one character, or "tab"); default: detected. */
  delimiter?: string;
  /** CSV encoding (utf-8, latin-1, utf-16 and common aliases); default: detected. */
  encoding?: string;
}

const ENCODINGS: Record<string, BronzeEncoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'latin-1': 'latin-1',
  latin1: 'latin-1',
  'iso-8859-1': 'latin-1',
  'iso8859-1': 'latin-1',
  // A file with windows-1252's extra characters (curly quotes, dashes, euro: 0x80-0x9f) is
  // transcoded to UTF-8 by ingest; without them the two encodings are the same.
  'windows-1252': 'latin-1',
  cp1252: 'latin-1',
  'utf-16': 'utf-16',
  utf16: 'utf-16',
  'utf-16le': 'utf-16',
  'utf-16be': 'utf-16',
};

function parseEncoding(value: string): BronzeEncoding {
  const encoding = ENCODINGS[value.trim().toLowerCase()];
  if (!encoding) throw new UsageError(`--encoding ${JSON.stringify(value)} is not supported`, { hint: 'use utf-8, latin-1 (also windows-1252) or utf-16' });
  return encoding;
}

function parseDelimiter(value: string): string {
  const delimiter = value === 'tab' || value === '\\t' ? '\t' : value;
  if (delimiter.length !== 1) throw new UsageError(`--delimiter ${JSON.stringify(value)} must be one character`, { hint: 'e.g. --delimiter ";" or --delimiter tab' });
  return delimiter;
}

/** `dataprod ingest`: a real export into bronze, unchanged, after checking its columns. */
export async function ingest(options: IngestOptions, context: CommandContext): Promise<CommandResult<IngestResult>> {
  if (!isSourceTable(options.table)) {
    throw new UsageError(`--table ${JSON.stringify(options.table)} is not a source table`, { hint: `use one of ${sourceTables.join(', ')}` });
  }
  const result = await ingestFile({
    home: context.home,
    table: options.table,
    file: options.file,
    date: options.date ?? yesterday(context.now),
    format: options.format,
    delimiter: options.delimiter === undefined ? undefined : parseDelimiter(options.delimiter),
    encoding: options.encoding === undefined ? undefined : parseEncoding(options.encoding),
    logger: context.logger,
  });
  const how = result.format === 'csv' ? `csv, delimiter ${JSON.stringify(result.delimiter)}, ${result.encoding}` : result.format;
  const lines = [
    `ingested ${result.rows} ${result.table} rows for ${result.date} (${how})`,
    `  into ${result.path}`,
    `  sha256 ${result.sha256}`,
    ...(result.extra_columns.length > 0 ? [`  extra columns kept: ${result.extra_columns.join(', ')}`] : []),
    `next: dataprod clean --date ${result.date}`,
  ];
  return { data: result, text: lines.join('\n') };
}
