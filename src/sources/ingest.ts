import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Logger } from 'winston';
import {
  describeColumnProblem,
  fileColumns,
  mapColumns,
  readerSql,
  splitHeaderLine,
  type BronzeEncoding,
  type BronzeFormat,
  type BronzeSource,
  type ReadOptions,
} from '../cleaning/bronze.js';
import { DataError, UsageError } from '../errors.js';
import { replaceDirAtomic } from '../lake/atomic.js';
import { withDuck } from '../lake/duckdb.js';
import { bronzeDir, type SourceTable } from '../lake/layout.js';
import { silentLogger } from '../log.js';

export interface IngestFileOptions {
  /** Lake home. */
  home: string;
  /** Which source table the file is an export of. */
  table: SourceTable;
  /** Path of the export file. */
  file: string;
  /** The day (YYYY-MM-DD) the export belongs to: its bronze partition. */
  date: string;
  /** File format; detected from the extension and content when absent. */
  format?: BronzeFormat;
  /** CSV delimiter; detected from the header line among , ; | and tab when absent. */
  delimiter?: string;
  /** CSV encoding; detected (UTF-16 BOM, valid UTF-8, else latin-1) when absent. */
  encoding?: BronzeEncoding;
  /** Warnings (extra columns) go here. */
  logger?: Logger;
}

/** What `ingestFile` wrote; also what `dataprod ingest --json` prints. */
export interface IngestResult {
  table: SourceTable;
  date: string;
  /** The export as given. */
  source_file: string;
  /** The copy in bronze. */
  path: string;
  format: BronzeFormat;
  delimiter?: string;
  /** As read: windows-1252 when the export needed its UTF-8 copy. */
  encoding?: BronzeEncoding | 'windows-1252';
  rows: number;
  /** Column names as in the file. */
  columns: string[];
  /** Columns beyond the contract, kept and carried to silver as text. */
  extra_columns: string[];
  sha256: string;
}

const DELIMITERS = [',', ';', '|', '\t'];
const SAMPLE_BYTES = 64 * 1024;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readSample(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function hasUtf16Bom(sample: Buffer): boolean {
  return sample.length >= 2 && ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff));
}

/** Format from the extension, then from the content (Parquet magic, a JSON object per line). */
export function detectFormat(file: string, sample: Buffer): BronzeFormat {
  const extension = extname(file).toLowerCase();
  if (extension === '.parquet' || (sample.length >= 4 && sample.subarray(0, 4).toString('latin1') === 'PAR1')) return 'parquet';
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  if (!hasUtf16Bom(sample) && sample.toString('utf8').trimStart().startsWith('{')) return 'jsonl';
  return 'csv';
}

/** Whole-file check: valid UTF-8 (an optional BOM) or not; UTF-16 by its BOM. */
export async function detectEncoding(path: string, sample: Buffer): Promise<BronzeEncoding> {
  if (hasUtf16Bom(sample)) return 'utf-16';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of createReadStream(path)) decoder.decode(chunk as Buffer, { stream: true });
    decoder.decode();
    return 'utf-8';
  } catch {
    // Not UTF-8: Brazilian exports from Excel and older systems are windows-1252/latin-1.
    return 'latin-1';
  }
}

/** The first line of the file as text in its encoding. */
function headerLine(sample: Buffer, encoding: BronzeEncoding): string {
  const text =
    encoding === 'utf-16'
      ? new TextDecoder(sample[0] === 0xfe ? 'utf-16be' : 'utf-16le').decode(sample)
      : encoding === 'latin-1'
        ? sample.toString('latin1')
        : sample.toString('utf8');
  return text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
}

/** The candidate delimiter that splits the header line into the most fields (outside quotes). */
export function detectDelimiter(header: string): string {
  const counts = new Map(DELIMITERS.map((delimiter) => [delimiter, 0]));
  let quoted = false;
  for (const char of header) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  let best = ',';
  for (const [delimiter, count] of counts) if (count > counts.get(best)!) best = delimiter;
  return best;
}

/** True when a latin-1 file uses bytes 0x80-0x9f, which only windows-1252 gives a meaning. */
async function hasWindows1252Bytes(path: string): Promise<boolean> {
  for await (const chunk of createReadStream(path)) {
    for (const byte of chunk as Buffer) if (byte >= 0x80 && byte <= 0x9f) return true;
  }
  return false;
}

/** `clientes.csv` -> `clientes.utf-8.csv`: the readable copy beside the export. */
function utf8CopyName(name: string): string {
  const extension = extname(name);
  return `${name.slice(0, name.length - extension.length)}.utf-8${extension || '.csv'}`;
}

/** A UTF-8 copy of a file in a private temporary directory. */
async function transcodeToUtf8(path: string, encoding: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dataprod-ingest-'));
  const target = join(dir, basename(path));
  const decoder = new TextDecoder(encoding);
  const out = createWriteStream(target);
  try {
    for await (const chunk of createReadStream(path)) {
      if (!out.write(decoder.decode(chunk as Buffer, { stream: true }))) await once(out, 'drain');
    }
    out.end(decoder.decode());
    await finished(out);
  } catch (error) {
    out.destroy();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return target;
}

async function removeTranscoded(path: string | undefined): Promise<void> {
  if (path) await rm(dirname(path), { recursive: true, force: true });
}

function looksBinary(sample: Buffer): boolean {
  return sample.includes(0);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/**
 * Brings a real export into bronze unchanged: `<home>/bronze/<table>/date=D/<file name>`
 * plus `_source.json` (how to read it, its columns, rows and SHA-256). The file is read
 * once with DuckDB first, so a file that cannot be read, or lacks required columns, never
 * reaches bronze. Re-ingesting a day replaces its partition.
 */
export async function ingestFile(options: IngestFileOptions): Promise<IngestResult> {
  const { file, table, date } = options;
  const logger = options.logger ?? silentLogger();
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new UsageError(`--file ${file} is not a file`, { hint: 'give the path of the export file itself' });
    size = info.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`--file ${file} does not exist`, { hint: 'check the path; a relative path is taken from the current directory' });
    throw new DataError(`cannot read ${file}: ${firstLine(error)}`, { cause: error, hint: 'check the file permissions' });
  }
  const name = basename(file);
  if (name === '_source.json') throw new UsageError(`--file ${file}: _source.json is the name bronze uses for its own record`, { hint: 'rename the export' });
  if (size === 0) throw new DataError(`${file} is empty`, { hint: `re-export the ${table} data; a day without rows still needs the header line` });

  let sample: Buffer;
  try {
    sample = await readSample(file);
  } catch (error) {
    throw new DataError(`cannot read ${file}: ${firstLine(error)}`, { cause: error, hint: 'check the file permissions' });
  }
  const format = options.format ?? detectFormat(file, sample);
  if (format !== 'parquet' && !hasUtf16Bom(sample) && looksBinary(sample)) {
    throw new DataError(`${file} is not a text file (binary content)`, { hint: 'export the data as CSV, JSON lines or Parquet' });
  }
  const read: ReadOptions = { format };
  if (format === 'csv') {
    read.encoding = options.encoding ?? (await detectEncoding(file, sample));
    read.delimiter = options.delimiter ?? detectDelimiter(headerLine(sample, read.encoding));
    read.header = true;
  } else if (format === 'jsonl' && (options.encoding ?? 'utf-8') !== 'utf-8') {
    throw new UsageError(`--encoding ${options.encoding} applies to CSV only: JSON lines are UTF-8`, { hint: 'convert the file to UTF-8 or drop --encoding' });
  }

  let readPath = file;
  let transcoded: string | undefined;
  if (format === 'csv' && read.encoding === 'latin-1' && (await hasWindows1252Bytes(file))) {
    // Curly quotes, dashes and the euro sign of windows-1252 (0x80-0x9f) are control codes
    // in latin-1 and DuckDB refuses them: read a UTF-8 copy, keep the export as it came.
    transcoded = await transcodeToUtf8(file, 'windows-1252');
    readPath = transcoded;
    read.encoding = 'utf-8';
  }
  if (format === 'csv') {
    const raw = splitHeaderLine(headerLine(transcoded ? await readSample(transcoded) : sample, read.encoding!), read.delimiter!);
    const mapping = mapColumns(table, raw);
    if (mapping.ambiguous.length > 0) {
      await removeTranscoded(transcoded);
      throw describeColumnProblem(table, { ...mapping, missing: [] }, `${file}`)!;
    }
  }

  const described = `${file} (${format}${read.delimiter ? `, delimiter ${JSON.stringify(read.delimiter)}` : ''}${read.encoding ? `, ${read.encoding}` : ''})`;
  const { columns, rows } = await withDuck(async (duck) => {
    try {
      const names = await fileColumns(duck, readPath, read);
      const [{ n }] = (await duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${readerSql(readPath, read)}`)) as [{ n: bigint }];
      return { columns: names, rows: Number(n) };
    } catch (error) {
      await removeTranscoded(transcoded);
      throw new DataError(`cannot read ${described}: ${firstLine(error)}`, {
        cause: error,
        hint: format === 'csv' ? 'check the export, or say how to read it with --delimiter and --encoding' : `check that the file really is ${format}, or pass --format`,
      });
    }
  }, { threads: 2 });

  const mapping = mapColumns(table, columns);
  const problem = describeColumnProblem(table, mapping, described);
  if (problem) {
    await removeTranscoded(transcoded);
    throw problem;
  }
  const extra = [...mapping.extra.values()];
  if (extra.length > 0) logger.warn(`${name}: extra column${extra.length > 1 ? 's' : ''} ${extra.join(', ')} kept in bronze and carried to silver as text`);
  if (rows === 0) logger.warn(`${name}: no rows (header only)`);

  const sha256 = await sha256Of(file);
  const dir = bronzeDir(options.home, table, date);
  const source: BronzeSource = {
    file: name,
    format,
    ...(format === 'csv' ? { delimiter: read.delimiter, encoding: read.encoding, header: true } : {}),
    columns,
    extra_columns: extra,
    rows,
    sha256,
    source: 'ingest',
    written_at: new Date().toISOString(),
    ...(transcoded ? { file: utf8CopyName(name), original_file: name, original_encoding: 'windows-1252' } : {}),
  };
  try {
    await replaceDirAtomic(dir, async (tmp) => {
      await copyFile(file, join(tmp, name));
      if (transcoded) await copyFile(transcoded, join(tmp, utf8CopyName(name)));
      await writeFile(join(tmp, '_source.json'), `${JSON.stringify(source, null, 2)}\n`);
    });
  } finally {
    await removeTranscoded(transcoded);
  }
  logger.info(`ingested ${rows} ${table} rows for ${date} from ${name} into ${dir}`);
  return {
    table,
    date,
    source_file: file,
    path: join(dir, name),
    format,
    ...(format === 'csv' ? { delimiter: read.delimiter, encoding: transcoded ? 'windows-1252' : read.encoding } : {}),
    rows,
    columns,
    extra_columns: extra,
    sha256,
  };
}
