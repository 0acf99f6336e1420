import { describe, expect, it } from 'vitest';
import { InternalError } from '../errors.js';
import { withDuck } from '../lake/duckdb.js';
import { renderSql } from './sql.js';

describe('renderSql', () => {
  it('turns every placeholder into a literal: strings quoted, lists, numbers, NULL', () => {
    const sql = renderSql('SELECT {{brand}}, {{brands}}, {{k}}, {{maker}}, {{brand}}', { brand: "O'Neil", brands: ['Hungry', "it's"], k: 11, maker: null });
    expect(sql).toBe("SELECT 'O''Neil', ['Hungry', 'it''s']::VARCHAR[], 11, NULL, 'O''Neil'");
  });

  it('cannot be broken out of by a hostile value', async () => {
    const sql = renderSql('SELECT {{value}} AS v', { value: "x'; DROP TABLE t; --" });
    const rows = await withDuck((duck) => duck.all<{ v: string }>(sql));
    expect(rows).toEqual([{ v: "x'; DROP TABLE t; --" }]);
  });

  it('fails loudly on a placeholder without a value or a value without a placeholder', () => {
    expect(() => renderSql('SELECT {{missing}}', {})).toThrow(InternalError);
    expect(() => renderSql('SELECT 1', { unused: 'x' })).toThrow(/never used: unused/);
    expect(() => renderSql('SELECT {{n}}', { n: Number.NaN })).toThrow(InternalError);
  });

  it('types an empty list so DuckDB accepts it', async () => {
    const rows = await withDuck((duck) => duck.json(renderSql('SELECT len({{items}}) AS n', { items: [] })));
    expect(rows).toEqual([{ n: '0' }]);
  });
});
