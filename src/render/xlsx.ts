import { rm } from 'node:fs/promises';
import { InternalError } from '../errors.js';
import { sqlIdentifier, sqlString } from '../lake/duckdb.js';
import type { RenderColumn, RenderInput } from './types.js';
import { ZipWriter } from './zip.js';

/** Data rows one Excel sheet can hold (1 048 576 rows, less the header). */
export const XLSX_MAX_DATA_ROWS = 1_048_575;

/**
 * Deflate level of the workbook. Level 1 writes a 621k-row day about 3x faster than the
 * default 6 for a file about 25% larger; delivery is a local copy or one upload, so speed wins.
 */
const DEFLATE_LEVEL = 1;

const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Style index 1 is the bold header; number formats follow from index 2. */
const HEADER_STYLE = 1;

interface ColumnPlan {
  /** SQL producing the cell's XML (empty for NULL); `rs` is the row number as text. */
  cell: (letter: string) => string;
  numFmt?: string;
  /** SQL for the length of the value as shown, for the column width. */
  shownLength: string;
}

/** Characters XML 1.0 cannot carry, and text Excel would read as its own _xHHHH_ escape. */
const NEEDS_OOXML_ESCAPE = String.raw`[\x00-\x08\x0B\x0C\x0D\x0E-\x1F\x{FFFE}\x{FFFF}]|_x[0-9A-Fa-f]{4}_`;

/**
 * SQL escaping a text for an XML element: & < > always; the rare control character the
 * ECMA-376 way (_x000B_), after escaping a literal "_xHHHH_" as "_x005F_xHHHH_" so Excel
 * shows it as written. Both run only on the rows that need them (DuckDB's CASE selects).
 */
function xmlText(expression: string): string {
  const basic = `replace(replace(replace(${expression}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')`;
  let rare = `regexp_replace(${basic}, '_(x[0-9A-Fa-f]{4}_)', '_x005F_\\1', 'g')`;
  const codes = [...Array.from({ length: 32 }, (_, code) => code).filter((code) => code !== 9 && code !== 10), 0xfffe, 0xffff];
  for (const code of codes) rare = `replace(${rare}, chr(${code}), '_x${code.toString(16).toUpperCase().padStart(4, '0')}_')`;
  return `CASE WHEN regexp_matches(${expression}, '${NEEDS_OOXML_ESCAPE}') THEN ${rare} ELSE ${basic} END`;
}

/** A literal text for XML written from TypeScript (headers, sheet names). */
function xmlEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function stringCell(value: string): (letter: string) => string {
  // xml:space="preserve" only where it matters: on every cell it would add a sixth to the sheet.
  return (letter) =>
    `'<c r="${letter}' || rs || '" t="inlineStr"><is>' || CASE WHEN left(${value}, 1) <= ' ' OR right(${value}, 1) <= ' ' THEN '<t xml:space="preserve">' ELSE '<t>' END || ${xmlText(value)} || '</t></is></c>'`;
}

/**
 * How a DuckDB type becomes a typed Excel cell, as SQL over the gold column: numbers stay
 * numbers (DuckDB's text of a DECIMAL is exact: 1234.50), dates and times become Excel
 * serials with a date format, everything else inline text.
 */
function planColumn(column: RenderColumn, styleOf: (numFmt: string) => number): ColumnPlan {
  const name = sqlIdentifier(column.name);
  const type = column.type.toUpperCase();
  const numeric = (value: string, numFmt: string | undefined, shownLength: string): ColumnPlan => {
    const style = numFmt ? ` s="${styleOf(numFmt)}"` : '';
    return {
      cell: (letter) => `CASE WHEN ${name} IS NULL THEN '' ELSE '<c r="${letter}' || rs || '"${style}><v>' || ${value} || '</v></c>' END`,
      ...(numFmt ? { numFmt } : {}),
      shownLength,
    };
  };
  const text = `CAST(${name} AS VARCHAR)`;
  const decimal = /^DECIMAL\(\d+,\s*(\d+)\)$/.exec(type);
  if (decimal) {
    const scale = Number(decimal[1]);
    // Format codes are locale-neutral: Excel shows a decimal comma on a Brazilian machine.
    const numFmt = scale > 0 ? `#,##0.${'0'.repeat(scale)}` : '#,##0';
    return numeric(text, numFmt, `length(${text}) + length(${text}) // 4`);
  }
  if (['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT'].includes(type)) return numeric(text, '0', `length(${text})`);
  if (type === 'DOUBLE' || type === 'FLOAT') {
    // inf and NaN have no cell form; they are left empty as NULL is.
    const plan = numeric(text, undefined, `length(${text})`);
    return { ...plan, cell: (letter) => `CASE WHEN NOT isfinite(${name}) THEN '' ELSE ${plan.cell(letter)} END` };
  }
  if (type === 'BOOLEAN') {
    return { cell: (letter) => `CASE WHEN ${name} IS NULL THEN '' ELSE '<c r="${letter}' || rs || '" t="b"><v>' || CASE WHEN ${name} THEN '1' ELSE '0' END || '</v></c>' END`, shownLength: '5' };
  }
  if (type === 'DATE') {
    // Excel's day 1 is 1900-01-01, and it counts a 29 February 1900 that never was; so the
    // serial is days since 1899-12-30 from March 1900 on, since 1899-12-31 before. Earlier
    // dates have no serial and are written as text.
    const serial = `CAST(CASE WHEN ${name} >= DATE '1900-03-01' THEN ${name} - DATE '1899-12-30' ELSE ${name} - DATE '1899-12-31' END AS VARCHAR)`;
    const dated = numeric(serial, 'yyyy-mm-dd', '10');
    return { ...dated, cell: (letter) => `CASE WHEN ${name} < DATE '1900-01-01' THEN ${stringCell(`strftime(${name}, '%Y-%m-%d')`)(letter)} ELSE ${dated.cell(letter)} END` };
  }
  // A time of day is a fraction of a day.
  if (type === 'TIME') return numeric(`CAST(epoch_us(${name}) / 86400000000 AS VARCHAR)`, 'hh:mm:ss', '8');
  if (type === 'TIMESTAMP' || type === 'TIMESTAMP WITH TIME ZONE' || type === 'TIMESTAMPTZ') {
    // Wall-clock time (São Paulo for a TIMESTAMPTZ: the session's zone), as days since 1899-12-30.
    const wall = `CAST(${name} AS TIMESTAMP)`;
    const serial = `CAST(epoch_us(${wall}) / 86400000000 + 25569 AS VARCHAR)`;
    const stamped = numeric(serial, 'yyyy-mm-dd hh:mm:ss', '19');
    return { ...stamped, cell: (letter) => `CASE WHEN ${wall} < TIMESTAMP '1900-03-01' THEN ${stringCell(`strftime(${wall}, '%Y-%m-%d %H:%M:%S')`)(letter)} ELSE ${stamped.cell(letter)} END` };
  }
  return { cell: (letter) => `CASE WHEN ${name} IS NULL THEN '' ELSE ${stringCell(text)(letter)} END`, shownLength: `length(${text})` };
}

/** A, B, ... Z, AA, AB ... */
export function columnLetter(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

/** Sheet names: at most 31 characters, none of : \ / ? * [ ]. */
function sheetName(title: string, index: number): string {
  const clean = title.replace(/[:\\/?*[\]]/g, '_') || 'Sheet';
  const suffix = index === 1 ? '' : ` (${index})`;
  return clean.slice(0, 31 - suffix.length) + suffix;
}

function stylesXml(numFmts: readonly string[]): string {
  const formats = numFmts.map((code, index) => `<numFmt numFmtId="${164 + index}" formatCode="${xmlEscape(code)}"/>`).join('');
  const xfs = numFmts.map((_, index) => `<xf numFmtId="${164 + index}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`).join('');
  return (
    `${XML_DECLARATION}<styleSheet xmlns="${MAIN_NS}">` +
    (numFmts.length > 0 ? `<numFmts count="${numFmts.length}">${formats}</numFmts>` : '') +
    `<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
    `<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
    `<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
    `<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
    `<cellXfs count="${2 + numFmts.length}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>${xfs}</cellXfs>` +
    `<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
    `</styleSheet>`
  );
}

function workbookParts(names: readonly string[]): Record<string, string> {
  const sheets = names.map((name, index) => `<sheet name="${xmlEscape(name)}" sheetId="${index + 1}" r:id="rId${index + 1}"/>`).join('');
  const sheetRels = names.map((_, index) => `<Relationship Id="rId${index + 1}" Type="${REL_NS}/worksheet" Target="worksheets/sheet${index + 1}.xml"/>`).join('');
  const sheetTypes = names.map((_, index) => `<Override PartName="/xl/worksheets/sheet${index + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`).join('');
  return {
    '[Content_Types].xml':
      `${XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
      `<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
      `<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>${sheetTypes}</Types>`,
    '_rels/.rels':
      `${XML_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      `<Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    'xl/workbook.xml': `${XML_DECLARATION}<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><bookViews><workbookView/></bookViews><sheets>${sheets}</sheets></workbook>`,
    'xl/_rels/workbook.xml.rels':
      `${XML_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheetRels}` +
      `<Relationship Id="rId${names.length + 1}" Type="${REL_NS}/styles" Target="styles.xml"/></Relationships>`,
  };
}

/**
 * XLSX written by this project in one pass: DuckDB turns each gold row into its sheet XML
 * (on its own threads), the rows stream through deflate into the zip, and memory stays
 * constant whatever the row count. A sheet named after the report, a bold frozen header
 * row, column widths from the longest value, typed cells with number formats (money with
 * 2 decimals, shares with 4, dates yyyy-mm-dd), text as inline strings. Same rows, same
 * bytes: the delivery ledger recognises content it already sent by its SHA-256, so nothing
 * in the file depends on the clock. Past `maxRowsPerSheet` the rows continue on
 * "<title> (2)", "<title> (3)"...; returns the data rows written.
 */
export async function renderXlsx(input: RenderInput, options: { maxRowsPerSheet?: number } = {}): Promise<number> {
  const perSheet = options.maxRowsPerSheet ?? XLSX_MAX_DATA_ROWS;
  const numFmts: string[] = [];
  const styleOf = (numFmt: string) => {
    if (!numFmts.includes(numFmt)) numFmts.push(numFmt);
    return HEADER_STYLE + 1 + numFmts.indexOf(numFmt);
  };
  const plans = input.columns.map((column) => planColumn(column, styleOf));
  const source = `read_parquet(${sqlString(input.source)}, file_row_number = true)`;

  const lengths = plans.map((plan, index) => `coalesce(max(${plan.shownLength}), 0) AS w${index}`);
  const [measured] = (await input.duck.all<Record<string, bigint | number>>(`SELECT count(*) AS n${lengths.length > 0 ? `, ${lengths.join(', ')}` : ''} FROM ${source}`)) as [Record<string, bigint | number>];
  const total = Number(measured.n);
  const widths = input.columns.map((column, index) => Math.min(60, Math.max(8, column.name.length + 2, Number(measured[`w${index}`]) + 2)));
  const names = Array.from({ length: Math.max(1, Math.ceil(total / perSheet)) }, (_, index) => sheetName(input.title, index + 1));

  const head =
    `${XML_DECLARATION}<worksheet xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
    `<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>` +
    `<sheetFormatPr defaultRowHeight="15"/>` +
    (widths.length > 0 ? `<cols>${widths.map((width, index) => `<col min="${index + 1}" max="${index + 1}" width="${width}" customWidth="1"/>`).join('')}</cols>` : '') +
    `<sheetData><row r="1">${input.columns.map((column, index) => `<c r="${columnLetter(index)}1" s="${HEADER_STYLE}" t="inlineStr"><is><t xml:space="preserve">${xmlEscape(column.name)}</t></is></c>`).join('')}</row>`;
  const tail = '</sheetData></worksheet>';

  const cells = plans.map((plan, index) => plan.cell(columnLetter(index)));
  const rowXml = `'<row r="' || rs || '">' || ${cells.length > 0 ? cells.join(' || ') : "''"} || '</row>'`;
  const result = await input.duck.connection.stream(
    `SELECT ${rowXml} AS xml, file_row_number AS i FROM (SELECT *, CAST(file_row_number % ${perSheet} + 2 AS VARCHAR) AS rs FROM ${source})`,
  );

  // One query feeds every sheet in turn: a chunk that straddles a sheet's end leaves its
  // remainder for the next sheet.
  let pending: string[] = [];
  let written = 0;
  let done = false;
  async function* sheetRows(): AsyncGenerator<string> {
    yield head;
    let inSheet = 0;
    while (inSheet < perSheet) {
      if (pending.length === 0) {
        if (done) break;
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) {
          done = true;
          break;
        }
        // The r attributes come from the file's row numbers; Excel refuses rows out of order.
        const numbers = chunk.getColumnValues(1) as bigint[];
        const first = Number(numbers[0]);
        if (first !== written || Number(numbers.at(-1)) !== first + numbers.length - 1) throw new InternalError(`${input.target}: DuckDB returned rows ${first}.. where ${written} was next`);
        pending = chunk.getColumnValues(0) as string[];
      }
      const take = Math.min(pending.length, perSheet - inSheet);
      yield take === pending.length ? pending.join('') : pending.slice(0, take).join('');
      pending = take === pending.length ? [] : pending.slice(take);
      inSheet += take;
      written += take;
    }
    yield tail;
  }

  const zip = await ZipWriter.create(input.target, { level: DEFLATE_LEVEL });
  try {
    const parts = workbookParts(names);
    for (const name of ['[Content_Types].xml', '_rels/.rels', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels']) await zip.add(name, parts[name]!);
    // Styles are known once every column is planned, before any row is written.
    await zip.add('xl/styles.xml', stylesXml(numFmts));
    for (let index = 0; index < names.length; index += 1) await zip.add(`xl/worksheets/sheet${index + 1}.xml`, sheetRows());
    await zip.close();
  } catch (error) {
    await zip.abort();
    await rm(input.target, { force: true });
    throw error;
  }
  if (written !== total) throw new InternalError(`${input.target}: wrote ${written} rows, the gold file has ${total}`);
  return written;
}
