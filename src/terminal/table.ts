/**
 * Tables for people at a terminal: plain aligned columns (no box characters, which turn
 * into unreadable grids once a terminal wraps them) that fit the terminal's width.
 *
 * Short columns (ids, statuses, numbers) keep their width; when the line is too long, the
 * columns marked `wrap` (sentences: details, hints, errors) are narrowed and wrapped at
 * word boundaries inside their own column. When even that cannot fit, each row is printed
 * as a record of `heading  value` lines. A sentence is never split across two columns.
 */

/** How `--format` asks for a table to be printed. */
export type TableFormat = 'table' | 'plain';

/** Options of a terminal table. */
export interface TableOptions {
  /** Column headings. */
  head: string[];
  /** Indexes of columns holding sentences: wrapped within the column instead of cut. */
  wrap?: number[];
  /** Line width to fit; defaults to the terminal's, or 100 when output is not a terminal. */
  width?: number;
  /** `plain`: tab-separated, no heading rule and no fitting, for `cut` and `awk`. */
  format?: TableFormat;
}

const GAP = '  ';
const MIN_COLUMN = 6;
const MIN_WRAP_COLUMN = 16;

/** Characters a string takes on screen (code points; the tool prints no wide CJK text). */
function displayWidth(text: string): number {
  return [...text].length;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** Wraps at spaces; a word longer than the column is cut into pieces of the column's width. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      let rest = word;
      while (displayWidth(rest) > width) {
        if (line) {
          lines.push(line);
          line = '';
        }
        const chars = [...rest];
        lines.push(chars.slice(0, width).join(''));
        rest = chars.slice(width).join('');
      }
      if (!rest) continue;
      if (!line) line = rest;
      else if (displayWidth(line) + 1 + displayWidth(rest) <= width) line += ` ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** The terminal width to fit: the terminal's, else $COLUMNS (as shells set it), else 100 for pipes and files. */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns >= 20 ? columns : 100;
}

/**
 * Each column's width so the whole line fits `width`: sentence columns are narrowed (widest
 * first, down to a readable minimum), the others keep their width. Undefined when even
 * that does not fit: the rows are then printed as records instead.
 */
function fitColumns(natural: number[], head: string[], wrap: Set<number>, width: number): number[] | undefined {
  const widths = [...natural];
  const total = () => widths.reduce((sum, value) => sum + value, 0) + GAP.length * (widths.length - 1);
  const floor = (index: number) => Math.min(natural[index]!, Math.max(MIN_WRAP_COLUMN, displayWidth(head[index]!)));
  while (total() > width) {
    const widest = widths
      .map((_, index) => index)
      .filter((index) => wrap.has(index) && widths[index]! > floor(index))
      .sort((a, b) => widths[b]! - widths[a]!)[0];
    if (widest === undefined) return undefined;
    widths[widest]! -= 1;
  }
  return widths;
}

/** One block per row, `heading  value` lines with values wrapped to what is left of the width. */
function renderRecords(head: string[], cells: string[][], width: number): string {
  const keyWidth = Math.max(...head.map(displayWidth));
  const valueWidth = Math.max(MIN_COLUMN, width - keyWidth - GAP.length);
  return cells
    .map((row) =>
      row
        .flatMap((cell, index) =>
          wrapText(cell, valueWidth).map((line, lineIndex) => `${padEnd(lineIndex === 0 ? head[index]! : '', keyWidth)}${GAP}${line}`.trimEnd()),
        )
        .join('\n'),
    )
    .join('\n\n');
}

/** Renders rows as a table that fits the terminal (see the module comment). */
export function renderTable(rows: (string | number | null | undefined)[][], options: TableOptions): string {
  const cells = rows.map((row) => options.head.map((_, index) => String(row[index] ?? '')));
  if (options.format === 'plain') {
    return [options.head, ...cells].map((row) => row.map((cell) => cell.replace(/[\t\n]+/g, ' ')).join('\t')).join('\n');
  }
  const wrap = new Set(options.wrap ?? []);
  const natural = options.head.map((title, index) =>
    Math.max(displayWidth(title), ...cells.map((row) => Math.max(...row[index]!.split('\n').map(displayWidth)))),
  );
  const width = options.width ?? terminalWidth();
  const widths = fitColumns(natural, options.head, wrap, width);
  if (!widths) return renderRecords(options.head, cells, width);
  const last = widths.length - 1;
  const format = (row: string[]): string[] => {
    const columns = row.map((cell, index) => (wrap.has(index) ? wrapText(cell, widths[index]!) : cell.split('\n')));
    const height = Math.max(...columns.map((lines) => lines.length));
    return Array.from({ length: height }, (_, line) =>
      columns
        .map((lines, index) => (index === last ? (lines[line] ?? '') : padEnd(lines[line] ?? '', widths[index]!)))
        .join(GAP)
        .trimEnd(),
    );
  };
  const heading = format(options.head);
  const rule = widths.map((value) => '─'.repeat(value)).join(GAP);
  return [...heading, rule, ...cells.flatMap(format)].join('\n');
}
