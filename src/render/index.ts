import { join } from 'node:path';
import type { OutboxPackage, PackageFile, PackageManifest } from './package.js';
import { InternalError } from '../errors.js';
import { replaceDirAtomic } from '../lake/atomic.js';
import { sqlString, type DuckSession } from '../lake/duckdb.js';
import { CSV_FORMULA_ESCAPING, renderCsv, validateCsvOptions } from './csv.js';
import { renderJson } from './json.js';
import { hashFile, writeManifestAndSums } from './manifest.js';
import { renderParquet, type ParquetCompression } from './parquet.js';
import { readToolVersion } from './tool-version.js';
import { formatExtension, type CsvOptions, type RenderColumn, type RenderFormat } from './types.js';
import { XLSX_MAX_DATA_ROWS, renderXlsx } from './xlsx.js';

export type { CsvOptions, RenderColumn, RenderFormat } from './types.js';
export { hashFile, parseSha256Sums, MANIFEST, SHA256SUMS } from './manifest.js';
export { readToolVersion } from './tool-version.js';

export interface RenderPackageOptions {
  duck: DuckSession;
  /** Gold Parquet file to render (columns in contract order). */
  source: string;
  /** Final outbox directory; it is replaced as a whole (a re-build leaves no stale file). */
  dir: string;
  partner: string;
  report: string;
  /** YYYY-MM-DD or YYYY-MM. */
  period: string;
  formats: readonly RenderFormat[];
  columns: readonly RenderColumn[];
  csv: CsvOptions;
  /** Codec of the Parquet file (default snappy, which every reader takes). */
  parquetCompression?: ParquetCompression;
  /** Report figures for the manifest (units, revenue, merged and suppressed cells...). */
  summary: Record<string, number | string | null>;
  /** Above this many rows the XLSX file is left out (default: Excel's one-sheet limit). */
  xlsxMaxRows?: number;
  /** The clock for generated_at. */
  now: Date;
  /** When given, receives each format's own milliseconds of rendering (benchmarks). */
  timings?: Map<RenderFormat, number>;
  /**
   * Writes the package's documents (insights, data dictionary) into the temporary
   * directory and returns their manifest entries; they are listed after the data files.
   */
  documents?: (dir: string) => Promise<PackageFile[]>;
}

/** `<partner>_<report>_<period>.<ext>`: the name a partner sees. */
export function packageFileName(partner: string, report: string, period: string, format: RenderFormat): string {
  return `${partner}_${report}_${period}.${formatExtension[format]}`;
}

/**
 * Renders one outbox package: a file per format, then manifest.json (files with bytes,
 * SHA-256, format and rows; columns and types; period; summary; generated_at; tool
 * version), then SHA256SUMS. Built in a temporary sibling directory and renamed into
 * place, so a reader (or a delivery) never sees half a package.
 */
export async function renderPackage(options: RenderPackageOptions): Promise<OutboxPackage> {
  validateCsvOptions(options.csv);
  const formats = [...new Set(options.formats)];
  const [{ rows: sourceRows }] = (await options.duck.all<{ rows: bigint }>(`SELECT count(*) AS rows FROM read_parquet(${sqlString(options.source)})`)) as [{ rows: bigint }];
  const rows = Number(sourceRows);
  const manifest = await replaceDirAtomic(options.dir, async (tmp) => {
    const omitted: string[] = [];
    const render = async (format: RenderFormat, duck: DuckSession): Promise<PackageFile | undefined> => {
      const started = performance.now();
      const name = packageFileName(options.partner, options.report, options.period, format);
      const target = join(tmp, name);
      const input = { duck, source: options.source, target, columns: options.columns, title: options.report };
      if (format === 'csv') await renderCsv(input, options.csv);
      else if (format === 'parquet') await renderParquet(input, options.parquetCompression);
      else if (format === 'json') await renderJson(input);
      else if (format === 'xlsx') {
        // XLSX is for people opening Excel, which shows at most one sheet of 1,048,575 rows;
        // past that the workbook helps nobody and costs minutes, so it is left out and the
        // manifest says why (CSV, Parquet and JSON carry every row).
        if (rows > (options.xlsxMaxRows ?? XLSX_MAX_DATA_ROWS)) {
          omitted.push(`xlsx left out: ${rows} rows exceed Excel's ${XLSX_MAX_DATA_ROWS} rows a sheet; use the CSV or Parquet file`);
          return undefined;
        }
        const written = await renderXlsx(input);
        if (written !== rows) throw new InternalError(`${name}: wrote ${written} rows, gold has ${rows}`);
      } else throw new InternalError(`unknown format ${String(format)}`);
      options.timings?.set(format, performance.now() - started);
      return { name, ...(await hashFile(target)), format, rows };
    };
    // CSV, Parquet and JSON are DuckDB COPYs, one after another on this connection, each on
    // all of DuckDB's threads; the XLSX writer runs alongside on a connection of its own
    // (its deflate on libuv's threads), so the longest format, not the sum, sets the time.
    // Each COPY reads the gold Parquet again: that read is a small part of a COPY (zstd
    // Parquet decodes at several hundred MB/s), smaller than materialising it once would cost.
    const copies = formats.filter((format) => format !== 'xlsx');
    const xlsx = formats.includes('xlsx') ? (rows > (options.xlsxMaxRows ?? XLSX_MAX_DATA_ROWS) ? options.duck : await options.duck.branch()) : undefined;
    const results = new Map<RenderFormat, PackageFile | undefined>();
    const settled = await Promise.allSettled([
      (async () => {
        for (const format of copies) results.set(format, await render(format, options.duck));
      })(),
      (async () => {
        if (!xlsx) return;
        try {
          results.set('xlsx', await render('xlsx', xlsx));
        } finally {
          if (xlsx !== options.duck) xlsx.close();
        }
      })(),
    ]);
    for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
    const files = formats.map((format) => results.get(format)).filter((file): file is PackageFile => file !== undefined);
    if (options.documents) files.push(...(await options.documents(tmp)));
    const manifest: PackageManifest = {
      partner: options.partner,
      report: options.report,
      period: options.period,
      rows,
      files,
      columns: options.columns.map((column) => ({ name: column.name, type: column.type })),
      summary: omitted.length > 0 ? { ...options.summary, formats_omitted: omitted.join('; ') } : options.summary,
      generated_at: options.now.toISOString(),
      tool_version: readToolVersion(),
      ...(formats.includes('csv') ? { csv_formula_escaping: { ...CSV_FORMULA_ESCAPING, triggers: [...CSV_FORMULA_ESCAPING.triggers] } } : {}),
    };
    await writeManifestAndSums(tmp, manifest);
    return manifest;
  });
  return { dir: options.dir, manifest };
}
