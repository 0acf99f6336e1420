import { createRequire } from 'node:module';
import { sqlIdentifier, sqlString } from '../lake/duckdb.js';
import type { RenderColumn, RenderInput } from './types.js';

const MICROSECONDS_PER_DAY = 86_400_000_000;

type CellValue = string | number | Date | null;

interface ColumnWriter {
  numFmt?: string;
  width: number;
  convert: (value: unknown) => CellValue;
}

/** How a DuckDB type becomes a typed Excel cell: numbers stay numbers, dates stay dates. */
function columnWriter(column: RenderColumn): ColumnWriter {
  const type = column.type.toUpperCase();
  const width = Math.max(10, column.name.length + 2);
  const decimal = /^DECIMAL\(\d+,\s*(\d+)\)$/.exec(type);
  if (decimal) {
    const scale = Number(decimal[1]);
    // Format codes are locale-neutral: Excel shows a decimal comma on a Brazilian machine.
    return { numFmt: scale > 0 ? `#,##0.${'0'.repeat(scale)}` : '#,##0', width, convert: (value) => (value === null ? null : Number(value)) };
  }
  if (['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UBIGINT', 'UINTEGER'].includes(type)) {
    return { numFmt: '0', width, convert: (value) => (value === null ? null : Number(value)) };
  }
  if (type === 'DOUBLE' || type === 'FLOAT') return { width, convert: (value) => (value === null ? null : Number(value)) };
  // DuckDB hands DATE as a Date at UTC midnight; exceljs turns it into the same day serial.
  if (type === 'DATE') return { numFmt: 'yyyy-mm-dd', width: Math.max(width, 12), convert: (value) => (value === null ? null : (value as Date)) };
  // TIME arrives as microseconds since midnight; Excel stores a time as a fraction of a day.
  if (type === 'TIME') return { numFmt: 'hh:mm:ss', width, convert: (value) => (value === null ? null : Number(value) / MICROSECONDS_PER_DAY) };
  return { width: Math.max(width, 16), convert: (value) => (value === null ? null : String(value)) };
}

/** Data rows one Excel sheet can hold (1 048 576 rows, less the header). */
export const XLSX_MAX_DATA_ROWS = 1_048_575;

/** Date written into the workbook properties and zip entries (fixed: see renderXlsx). */
const XLSX_FIXED_DATE = new Date('2000-01-01T00:00:00Z');

type ZipAppend = (source: unknown, data: Record<string, unknown>) => unknown;

/**
 * exceljs' streaming writer appends zip entries through archiver without a date, so each
 * gets the current time; some are appended inside its constructor. This pins the date on
 * archiver's append while the writer is constructed, then on the writer's own archive.
 */
function withPinnedZipDates<T extends object>(create: () => T): T {
  const requireFromExcel = createRequire(createRequire(import.meta.url).resolve('exceljs'));
  const archiver = requireFromExcel('archiver') as (format: string) => object;
  const prototype = Object.getPrototypeOf(archiver('zip')) as { append: ZipAppend };
  const append = prototype.append;
  const pinned = function (this: unknown, source: unknown, data: Record<string, unknown>) {
    return append.call(this, source, { ...data, date: XLSX_FIXED_DATE });
  };
  prototype.append = pinned;
  try {
    const writer = create();
    const zip = (writer as { zip?: { append: ZipAppend } }).zip;
    if (zip) zip.append = pinned.bind(zip);
    return writer;
  } finally {
    prototype.append = append;
  }
}

/**
 * XLSX with exceljs' streaming writer (rows are committed as they come, so a large day does
 * not sit in memory): a sheet named after the report, a bold frozen header row, typed
 * cells with number formats (money with 2 decimals, shares with 4, dates yyyy-mm-dd).
 * Past Excel's row limit the rows continue on "<title> (2)", "<title> (3)"...
 */
export async function renderXlsx(input: RenderInput, options: { maxRowsPerSheet?: number } = {}): Promise<number> {
  const { default: ExcelJS } = await import('exceljs');
  const perSheet = options.maxRowsPerSheet ?? XLSX_MAX_DATA_ROWS;
  const writers = input.columns.map(columnWriter);
  // Same rows, same bytes: the delivery ledger recognises content it already sent by its
  // SHA-256, so the workbook's dates and the zip entries' times must not be "now".
  const workbook = withPinnedZipDates(() => new ExcelJS.stream.xlsx.WorkbookWriter({ filename: input.target, useStyles: true, useSharedStrings: false }));
  workbook.created = XLSX_FIXED_DATE;
  workbook.modified = XLSX_FIXED_DATE;
  const addSheet = (index: number) => {
    const name = index === 1 ? input.title.slice(0, 31) : `${input.title.slice(0, 31 - ` (${index})`.length)} (${index})`;
    const sheet = workbook.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = input.columns.map((column, position) => ({
      header: column.name,
      key: column.name,
      width: writers[position]!.width,
      ...(writers[position]!.numFmt ? { style: { numFmt: writers[position]!.numFmt } } : {}),
    }));
    sheet.getRow(1).font = { bold: true };
    sheet.getRow(1).commit();
    return sheet;
  };
  let sheets = 1;
  let sheet = addSheet(sheets);
  let inSheet = 0;
  const select = input.columns.map((column) => sqlIdentifier(column.name)).join(', ');
  const result = await input.duck.connection.stream(`SELECT ${select} FROM read_parquet(${sqlString(input.source)})`);
  let rows = 0;
  for await (const chunk of result.yieldRowsJs()) {
    for (const values of chunk) {
      if (inSheet === perSheet) {
        sheet.commit();
        sheets += 1;
        sheet = addSheet(sheets);
        inSheet = 0;
      }
      sheet.addRow(values.map((value, index) => writers[index]!.convert(value))).commit();
      inSheet += 1;
      rows += 1;
    }
  }
  sheet.commit();
  await workbook.commit();
  return rows;
}
