// The workbook as outside programs read it: LibreOffice (soffice, headless) and Python's
// openpyxl. LibreOffice is required in CI (.ci/run installs libreoffice-calc-nogui) and
// skipped locally without it; openpyxl is checked when some python3 has it (.ci/run
// installs Debian's python3-openpyxl).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { DuckSession, sqlString } from '../lake/duckdb.js';
import { renderXlsx } from './xlsx.js';

const columns = [
  { name: 'name', type: 'VARCHAR' },
  { name: 'price', type: 'DECIMAL(12,2)' },
  { name: 'day', type: 'DATE' },
  { name: 'at', type: 'TIME' },
  { name: 'units', type: 'BIGINT' },
  { name: 'ok', type: 'BOOLEAN' },
];

// Text that XML or Excel would mangle: markup, a literal _xHHHH_, a control character,
// edge spaces, accents and a line break.
const SOURCE_SQL = `
  SELECT * FROM (VALUES
    (1, 'Pão & <Queijo>', CAST(1234.50 AS DECIMAL(12,2)), DATE '2026-11-20', TIME '09:05:00', CAST(14 AS BIGINT), true),
    (2, 'code _x0041_ here', CAST(-0.05 AS DECIMAL(12,2)), DATE '1999-12-31', TIME '23:30:15', CAST(9007199254740 AS BIGINT), false),
    (3, 'bell' || chr(7) || ' and  spaced ', NULL, NULL, NULL, NULL, NULL),
    (4, E'two\\nlines', CAST(0 AS DECIMAL(12,2)), DATE '2026-01-01', TIME '00:00:00', CAST(-3 AS BIGINT), true)
  ) AS t(ord, name, price, day, "at", units, ok)
  ORDER BY ord`;

// Comma, double quote, UTF-8 (76), from line 1, en-US (1033), cells as shown (their formats).
const CSV_FILTER = 'csv:Text - txt - csv (StarCalc):44,34,76,1,,1033,false,true,true';

function hasSoffice(): boolean {
  return spawnSync('soffice', ['--version'], { stdio: 'ignore' }).status === 0;
}

function pythonWithOpenpyxl(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

const soffice = hasSoffice();
const python = pythonWithOpenpyxl();
if (!soffice && process.env.CI === 'true') throw new Error('CI needs soffice (Debian package libreoffice-calc-nogui) for the XLSX reader test');

let home: string;
let cleanup: () => Promise<void>;
let workbook: string;

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-xlsx-readers-'));
  const duck = await DuckSession.open({ threads: 2 });
  try {
    const source = join(home, 'source.parquet');
    await duck.run(`COPY (SELECT * EXCLUDE (ord) FROM (${SOURCE_SQL})) TO ${sqlString(source)} (FORMAT parquet)`);
    workbook = join(home, 'report.xlsx');
    expect(await renderXlsx({ duck, source, target: workbook, columns, title: 'daily-analytic' })).toBe(4);
  } finally {
    duck.close();
  }
});
afterAll(async () => {
  await cleanup?.();
});

describe('XLSX read by other programs', () => {
  it.skipIf(!soffice)('LibreOffice opens it and shows every cell with its format', async () => {
    // A profile of its own, so a running LibreOffice or a first-start dialog cannot interfere.
    const profile = pathToFileURL(join(home, 'lo-profile')).href;
    execFileSync('soffice', [`-env:UserInstallation=${profile}`, '--headless', '--convert-to', CSV_FILTER, '--outdir', home, workbook], { stdio: 'pipe', timeout: 120_000 });
    const csv = await readFile(join(home, 'report.csv'), 'utf8');
    expect(csv.split('\n').slice(0, 3)).toEqual(['name,price,day,at,units,ok', 'Pão & <Queijo>,"1,234.50",2026-11-20,09:05:00,14,TRUE', 'code _x0041_ here,-0.05,1999-12-31,23:30:15,9007199254740,FALSE']);
    expect(csv).toContain('"two\nlines",0.00,2026-01-01,00:00:00,-3,TRUE');
    // The bell is not XML; it reaches LibreOffice escaped, and comes back as itself.
    expect(csv).toContain('bell\u0007 and  spaced ,,,,,');
  }, 150_000);

  it.skipIf(!python)('openpyxl reads typed values, formats, the frozen header and widths', () => {
    const script = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
rows = [[None if c.value is None else (c.value.isoformat() if hasattr(c.value, 'isoformat') else c.value) for c in row] for row in ws.iter_rows()]
print(json.dumps({'title': ws.title, 'freeze': ws.freeze_panes, 'bold': ws['A1'].font.b, 'formats': [c.number_format for c in ws[2]],
  'width': ws.column_dimensions['A'].width, 'rows': rows}, default=str))
`;
    const out = JSON.parse(execFileSync(python!, ['-c', script, workbook], { encoding: 'utf8' }));
    expect(out).toMatchObject({ title: 'daily-analytic', freeze: 'A2', bold: true, formats: ['General', '#,##0.00', 'yyyy-mm-dd', 'hh:mm:ss', '0', 'General'] });
    expect(out.width).toBeGreaterThanOrEqual(17);
    // openpyxl 3.0 leaves ECMA-376 escapes in inline strings as written (_x005F_x0041_,
    // _x0007_); Excel and LibreOffice decode them (see the LibreOffice test). Either is taken.
    const decoded = (text: string) => text.replace(/_x([0-9A-F]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    const rows = out.rows.map((row: unknown[]) => row.map((value) => (typeof value === 'string' ? decoded(value) : value)));
    expect(rows).toEqual([
      ['name', 'price', 'day', 'at', 'units', 'ok'],
      ['Pão & <Queijo>', 1234.5, '2026-11-20T00:00:00', '09:05:00', 14, true],
      ['code _x0041_ here', -0.05, '1999-12-31T00:00:00', '23:30:15', 9007199254740, false],
      ['bell\u0007 and  spaced ', null, null, null, null, null],
      ['two\nlines', 0, '2026-01-01T00:00:00', '00:00:00', -3, true],
    ]);
  });

  it('the test found what it needs in CI', () => {
    if (process.env.CI === 'true') expect(soffice).toBe(true);
    expect(existsSync(workbook)).toBe(true);
  });
});
