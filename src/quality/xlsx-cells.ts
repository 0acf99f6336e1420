import { type FileHandle, open } from 'node:fs/promises';
import { createInflateRaw } from 'node:zlib';

/**
 * Reads the cells of an XLSX file by streaming: the zip's central directory, then each
 * worksheet's XML inflated and parsed a row at a time. Nothing of the workbook is held in
 * memory but the shared-string table and one row; the PII gate scans a 100 MB workbook in
 * constant memory (an exceljs Workbook of the same file took gigabytes).
 */

/** One cell of a sheet row: its column (0-based), its text, and whether it is a number. */
export interface XlsxCell {
  column: number;
  value: string;
  numeric: boolean;
}

/** One row of one sheet; `row` is the 1-based row number. */
export interface XlsxRow {
  sheet: string;
  row: number;
  cells: XlsxCell[];
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The entries of a zip's central directory (ZIP64 sizes and offsets included). */
async function readZipEntries(handle: FileHandle): Promise<ZipEntry[]> {
  const { size } = await handle.stat();
  const tailLength = Math.min(size, 65_557);
  const tail = await readAt(handle, size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new Error('not a zip file (no end of central directory)');
  let count = tail.readUInt16LE(at + 10);
  let directorySize = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  if (at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
    const record = await readAt(handle, Number(tail.readBigUInt64LE(at - 20 + 8)), 56);
    count = Number(record.readBigUInt64LE(32));
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
  }
  const directory = await readAt(handle, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let offset = 0;
  for (let index = 0; index < count && offset + 46 <= directory.length; index++) {
    if (directory.readUInt32LE(offset) !== CENTRAL) throw new Error('corrupt zip central directory');
    const method = directory.readUInt16LE(offset + 10);
    let compressedSize = directory.readUInt32LE(offset + 20);
    const uncompressedSize = directory.readUInt32LE(offset + 24);
    const nameLength = directory.readUInt16LE(offset + 28);
    const extraLength = directory.readUInt16LE(offset + 30);
    const commentLength = directory.readUInt16LE(offset + 32);
    let localOffset = directory.readUInt32LE(offset + 42);
    const name = directory.toString('utf8', offset + 46, offset + 46 + nameLength);
    // ZIP64 extra field: the 64-bit values appear in this order, only for fields set to 0xFFFFFFFF.
    let extra = offset + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = directory.readUInt16LE(extra);
      const length = directory.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        if (uncompressedSize === 0xffffffff) field += 8;
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(directory.readBigUInt64LE(field));
          field += 8;
        }
        if (localOffset === 0xffffffff) localOffset = Number(directory.readBigUInt64LE(field));
      }
      extra += 4 + length;
    }
    entries.push({ name, method, compressedSize, localOffset });
    offset = extraEnd + commentLength;
  }
  return entries;
}

/** The entry's bytes, inflated, as a stream of UTF-8 text chunks. */
async function* entryText(handle: FileHandle, entry: ZipEntry): AsyncGenerator<string> {
  const header = await readAt(handle, entry.localOffset, 30);
  if (header.readUInt32LE(0) !== LOCAL) throw new Error(`corrupt zip entry ${entry.name}`);
  const start = entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (entry.method !== 0 && entry.method !== 8) throw new Error(`zip entry ${entry.name} uses compression method ${entry.method}`);
  const raw = handle.createReadStream({ start, end: start + entry.compressedSize - 1, autoClose: false, highWaterMark: 1 << 20 });
  const source = entry.method === 8 ? raw.pipe(createInflateRaw({ chunkSize: 1 << 20 })) : raw;
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source as AsyncIterable<Buffer>) yield decoder.decode(chunk, { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** XML character references and OOXML's `_xHHHH_` escapes (how a CR in a cell is written). */
export function decodeXmlText(text: string): string {
  if (!text.includes('&') && !text.includes('_x')) return text;
  return text
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/&(#x[0-9A-Fa-f]+|#\d+|lt|gt|amp|quot|apos);/g, (_, ref: string) => {
      if (ref[0] === '#') return String.fromCodePoint(ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
      return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[ref]!;
    });
}

/** Concatenated text of the `<t>` runs of a string item (phonetic runs left out). */
function runsText(xml: string): string {
  const start = xml.indexOf('<t');
  // The common case, one run: no regular expression.
  if (start >= 0 && xml.indexOf('<t', start + 2) < 0 && !xml.includes('<rPh')) {
    const open = xml.indexOf('>', start);
    if (xml[open - 1] === '/') return '';
    const close = xml.indexOf('</t>', open);
    return decodeXmlText(xml.slice(open + 1, close < 0 ? undefined : close));
  }
  let out = '';
  for (const match of xml.replace(/<rPh\b[\s\S]*?<\/rPh>/g, '').matchAll(/<t\b[^>]*?(?:\/>|>([\s\S]*?)<\/t>)/g)) out += match[1] ?? '';
  return decodeXmlText(out);
}

/**
 * Complete elements of `tag` from a stream of XML text, one at a time, keeping only the
 * unfinished tail between chunks.
 */
async function* elements(chunks: AsyncIterable<string>, tag: string): AsyncGenerator<string> {
  const pattern = new RegExp(`<${tag}\\b[^>]*?(?:/>|>[\\s\\S]*?</${tag}>)`, 'g');
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    pattern.lastIndex = 0;
    let end = 0;
    for (let match = pattern.exec(buffer); match; match = pattern.exec(buffer)) {
      yield match[0];
      end = pattern.lastIndex;
    }
    buffer = buffer.slice(end);
  }
}

function columnIndex(text: string, from: number): number {
  let index = 0;
  for (let at = from; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code < 65 || code > 90) break;
    index = index * 26 + (code - 64);
  }
  return index - 1;
}

/** The value of attribute `name` of the open tag in text[from, to), or undefined. */
function attribute(text: string, name: string, from: number, to: number): string | undefined {
  const key = ` ${name}="`;
  const at = text.indexOf(key, from);
  if (at < 0 || at >= to) return undefined;
  const start = at + key.length;
  return text.slice(start, text.indexOf('"', start));
}

function isTagEnd(code: number): boolean {
  // space, tab, CR, LF, '>' or '/'
  return code === 32 || code === 9 || code === 13 || code === 10 || code === 62 || code === 47;
}

/** Called for every cell with a value: sheet part name, 1-based row, 0-based column. */
export type XlsxCellVisitor = (sheet: string, row: number, column: number, value: string, numeric: boolean) => void;

/**
 * The cells of one worksheet from its XML text, by a scanner over `<row>` and `<c>` tags
 * (indexOf, no regular expressions, no object per cell: a 2M-transaction day is 8M cells).
 */
async function scanSheet(chunks: AsyncIterable<string>, sheet: string, shared: string[], visit: XlsxCellVisitor, minNumericLength: number): Promise<void> {
  let buffer = '';
  let rowNumber = 0;
  let position = 0;
  for await (const chunk of chunks) {
    buffer = buffer.length ? buffer + chunk : chunk;
    let at = 0;
    for (;;) {
      const lt = buffer.indexOf('<', at);
      if (lt < 0) {
        at = buffer.length;
        break;
      }
      const gt = buffer.indexOf('>', lt);
      if (gt < 0) break;
      const second = buffer.charCodeAt(lt + 1);
      if (second === 99 /* c */ && isTagEnd(buffer.charCodeAt(lt + 2))) {
        const selfClosing = buffer.charCodeAt(gt - 1) === 47;
        let bodyStart = gt + 1;
        let bodyEnd = gt + 1;
        if (!selfClosing) {
          bodyEnd = buffer.indexOf('</c>', gt);
          if (bodyEnd < 0) break;
          at = bodyEnd + 4;
        } else at = gt + 1;
        // Column from the reference's letters (r="AB12"), else the next position.
        const r = buffer.indexOf(' r="', lt);
        let column = position;
        if (r >= 0 && r < gt) {
          column = 0;
          for (let i = r + 4; ; i++) {
            const code = buffer.charCodeAt(i);
            if (code < 65 || code > 90) break;
            column = column * 26 + (code - 64);
          }
          column -= 1;
        }
        position = column + 1;
        if (selfClosing) continue;
        const type = attribute(buffer, 't', lt, gt) ?? 'n';
        if (type === 'inlineStr') {
          visit(sheet, rowNumber, column, runsText(buffer.slice(bodyStart, bodyEnd)), false);
          continue;
        }
        const v = buffer.indexOf('<v', bodyStart);
        if (v < 0 || v >= bodyEnd) continue;
        const open = buffer.indexOf('>', v);
        if (buffer.charCodeAt(open - 1) === 47) continue;
        bodyStart = open + 1;
        const valueEnd = buffer.indexOf('</v>', bodyStart);
        if (type === 'n' && valueEnd - bodyStart < minNumericLength) continue;
        const raw = buffer.slice(bodyStart, valueEnd);
        visit(sheet, rowNumber, column, type === 's' ? (shared[Number(raw)] ?? '') : decodeXmlText(raw), type === 'n');
        continue;
      }
      if (second === 114 /* r */ && buffer.startsWith('<row', lt) && isTagEnd(buffer.charCodeAt(lt + 4))) {
        const number = attribute(buffer, 'r', lt, gt);
        rowNumber = number ? Number(number) : rowNumber + 1;
        position = 0;
      }
      at = gt + 1;
    }
    buffer = at >= buffer.length ? '' : buffer.slice(at);
  }
}

/**
 * Visits every cell with a value of every worksheet, streamed; sheets in the order of their
 * part names. Number cells shorter than `minNumericLength` characters are skipped unread.
 */
export async function forEachXlsxCell(path: string, visit: XlsxCellVisitor, options: { minNumericLength?: number } = {}): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const entries = await readZipEntries(handle);
    const shared: string[] = [];
    const sharedEntry = entries.find((entry) => entry.name === 'xl/sharedStrings.xml');
    if (sharedEntry) for await (const item of elements(entryText(handle, sharedEntry), 'si')) shared.push(runsText(item));
    const sheets = entries
      .filter((entry) => /^xl\/worksheets\/[^/]+\.xml$/.test(entry.name))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    if (sheets.length === 0) throw new Error('no worksheet in the workbook');
    for (const entry of sheets) await scanSheet(entryText(handle, entry), entry.name.slice('xl/worksheets/'.length, -'.xml'.length), shared, visit, options.minNumericLength ?? 0);
  } finally {
    await handle.close();
  }
}

/** Every non-empty row of every worksheet, collected (for small files and tests). */
export async function readXlsxRows(path: string): Promise<XlsxRow[]> {
  const rows: XlsxRow[] = [];
  await forEachXlsxCell(path, (sheet, row, column, value, numeric) => {
    let last = rows.at(-1);
    if (!last || last.sheet !== sheet || last.row !== row) rows.push((last = { sheet, row, cells: [] }));
    last.cells.push({ column, value, numeric });
  });
  return rows;
}
