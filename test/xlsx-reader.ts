// A small XLSX reader for tests, written apart from src/render/xlsx.ts on purpose: it reads
// the zip's central directory and the sheet XML as the format defines them, so a test
// checks the file, not the writer's own idea of it. LibreOffice and openpyxl are the
// outside readers (src/render/xlsx-readers.test.ts).
import { readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

export interface XlsxCell {
  /** A1-style reference. */
  ref: string;
  /** Number, boolean, text (inline or shared) or null for an empty cell. */
  value: number | boolean | string | null;
  /** The cell's number format code ("General" when none). */
  numFmt: string;
  bold: boolean;
}

export interface XlsxSheet {
  name: string;
  /** Rows in order, each a dense array from column A. */
  rows: (XlsxCell | undefined)[][];
  frozenRows: number;
  widths: number[];
}

/** Every entry of a zip file, inflated, keyed by name. */
export async function readZipEntries(path: string): Promise<Map<string, Buffer>> {
  const zip = await readFile(path);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error(`${path}: no end of central directory`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let index = 0; index < count; index += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${path}: bad central header`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const offset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28);
    const data = zip.subarray(dataAt, dataAt + compressed);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const BUILTIN_FORMATS: Record<number, string> = { 0: 'General', 1: '0', 2: '0.00', 3: '#,##0', 4: '#,##0.00', 14: 'mm-dd-yy' };

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

function unescapeXml(text: string): string {
  return text
    .replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, entity: string) =>
      entity === 'lt' ? '<' : entity === 'gt' ? '>' : entity === 'quot' ? '"' : entity === 'apos' ? "'" : entity === 'amp' ? '&' : String.fromCodePoint(entity[1] === 'x' ? parseInt(entity.slice(2), 16) : Number(entity.slice(1))),
    )
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function columnIndex(ref: string): number {
  const letters = /^[A-Z]+/.exec(ref)![0];
  return [...letters].reduce((sum, letter) => sum * 26 + letter.charCodeAt(0) - 64, 0) - 1;
}

/** Reads every sheet of a workbook: names, cells with their formats, frozen rows, widths. */
export async function readXlsx(path: string): Promise<XlsxSheet[]> {
  const entries = await readZipEntries(path);
  const text = (name: string) => entries.get(name)?.toString('utf8') ?? '';
  const styles = text('xl/styles.xml');
  const formats = new Map(Object.entries(BUILTIN_FORMATS).map(([id, code]) => [Number(id), code]));
  for (const match of styles.matchAll(/<numFmt [^>]*>/g)) formats.set(Number(attribute(match[0], 'numFmtId')), unescapeXml(attribute(match[0], 'formatCode')!));
  const fonts = [...(/<fonts[^>]*>([\s\S]*?)<\/fonts>/.exec(styles)?.[1] ?? '').matchAll(/<font>([\s\S]*?)<\/font>|<font\/>/g)].map((match) => (match[1] ?? '').includes('<b/>'));
  const xfs = [...(/<cellXfs[^>]*>([\s\S]*?)<\/cellXfs>/.exec(styles)?.[1] ?? '').matchAll(/<xf [^>]*>/g)].map((match) => ({
    numFmt: formats.get(Number(attribute(match[0], 'numFmtId') ?? 0)) ?? 'General',
    bold: fonts[Number(attribute(match[0], 'fontId') ?? 0)] ?? false,
  }));
  const shared = [...text('xl/sharedStrings.xml').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((match) => unescapeXml([...match[1]!.matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join('')));
  const rels = new Map([...text('xl/_rels/workbook.xml.rels').matchAll(/<Relationship [^>]*>/g)].map((match) => [attribute(match[0], 'Id')!, attribute(match[0], 'Target')!]));
  const sheets: XlsxSheet[] = [];
  for (const match of text('xl/workbook.xml').matchAll(/<sheet [^>]*>/g)) {
    const xml = text(`xl/${rels.get(attribute(match[0], 'r:id')!)!}`);
    const rows: (XlsxCell | undefined)[][] = [];
    for (const row of xml.matchAll(/<row([^>]*?)(?:\/>|>([\s\S]*?)<\/row>)/g)) {
      const cells: (XlsxCell | undefined)[] = [];
      for (const cell of (row[2] ?? '').matchAll(/<c([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
        const tag = cell[1]!;
        const ref = attribute(tag, 'r')!;
        const type = attribute(tag, 't') ?? 'n';
        const body = cell[2] ?? '';
        const raw = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
        const inline = [...body.matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join('');
        const value = type === 'inlineStr' ? unescapeXml(inline) : raw === undefined ? null : type === 's' ? shared[Number(raw)]! : type === 'b' ? raw === '1' : type === 'str' ? unescapeXml(raw) : Number(raw);
        const style = xfs[Number(attribute(tag, 's') ?? 0)] ?? { numFmt: 'General', bold: false };
        cells[columnIndex(ref)] = { ref, value, numFmt: style.numFmt, bold: style.bold };
      }
      rows[Number(attribute(row[1]!, 'r')) - 1] = cells;
    }
    const pane = /<pane [^>]*>/.exec(xml)?.[0];
    sheets.push({
      name: unescapeXml(attribute(match[0], 'name')!),
      rows: Array.from(rows, (row) => row ?? []),
      frozenRows: pane && attribute(pane, 'state') === 'frozen' ? Number(attribute(pane, 'ySplit') ?? 0) : 0,
      widths: [...xml.matchAll(/<col [^>]*>/g)].map((col) => Number(attribute(col[0], 'width'))),
    });
  }
  return sheets;
}

/** Excel's day serial as the UTC date it stands for (serials from 1900-03-01 on). */
export function excelSerialToDate(serial: number): Date {
  return new Date(Date.UTC(1899, 11, 30) + Math.round(serial * 86_400_000));
}
