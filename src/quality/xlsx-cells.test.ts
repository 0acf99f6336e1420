import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { writeTestXlsx } from '../../test/xlsx-fixture.js';
import { sqlString, withDuck } from '../lake/duckdb.js';
import { renderXlsx } from '../render/xlsx.js';
import { decodeXmlText, type XlsxRow, readXlsxRows } from './xlsx-cells.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ home, cleanup } = await makeTempHome());
});
afterEach(async () => cleanup());

const collect = (path: string): Promise<XlsxRow[]> => readXlsxRows(path);

describe('readXlsxRows', () => {
  it('streams inline and shared strings, numbers, escapes and line breaks', async () => {
    for (const sharedStrings of [false, true]) {
      const path = join(home, `t-${sharedStrings}.xlsx`);
      await writeTestXlsx(path, [['city', 'note', 'units'], ['São Paulo', 'a < b & "c"\r\nnext', 3], ['Itu', null, 4.5]], { sharedStrings });
      const rows = await collect(path);
      expect(rows.map((row) => row.row)).toEqual([1, 2, 3]);
      expect(rows[1]!.cells).toEqual([
        { column: 0, value: 'São Paulo', numeric: false },
        { column: 1, value: 'a < b & "c"\r\nnext', numeric: false },
        { column: 2, value: '3', numeric: true },
      ]);
      expect(rows[2]!.cells.map((cell) => cell.column)).toEqual([0, 2]);
    }
    expect(decodeXmlText('&#x41;&#66;_x000D_&amp;lt;')).toBe('AB\r&lt;');
  });

  it("reads the project's own rendered workbook", async () => {
    const source = join(home, 'gold.parquet');
    const target = join(home, 'out.xlsx');
    await withDuck(async (duck) => {
      await duck.run(`COPY (SELECT 'Campinas' AS city, 3::INTEGER AS units, DATE '2026-11-20' AS sale_date UNION ALL SELECT 'Itu', 4, DATE '2026-11-21') TO ${sqlString(source)} (FORMAT parquet)`);
      await renderXlsx({ duck, source, target, columns: [{ name: 'city', type: 'VARCHAR' }, { name: 'units', type: 'INTEGER' }, { name: 'sale_date', type: 'DATE' }], title: 'daily' });
    });
    const rows = await collect(target);
    expect(rows[0]!.cells.map((cell) => cell.value)).toEqual(['city', 'units', 'sale_date']);
    expect(rows.slice(1).map((row) => row.cells.slice(0, 2).map((cell) => cell.value))).toEqual([['Campinas', '3'], ['Itu', '4']]);
  });

  it('refuses a file that is not a zip', async () => {
    const path = join(home, 'bad.xlsx');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, 'city;units\n'));
    await expect(collect(path)).rejects.toThrow(/not a zip/);
  });
});
