import { describe, expect, it } from 'vitest';
import { localeFormat } from './locale.js';

describe('localeFormat', () => {
  it('pt-BR: money, sizes, dates, months, changes as a Brazilian reads them', () => {
    const fmt = localeFormat('pt-BR');
    expect(fmt.money('9383.31')).toBe('R$ 9.383,31');
    // Exact: a DECIMAL string never goes through a float.
    expect(fmt.money('123456789012345.67')).toBe('R$ 123.456.789.012.345,67');
    expect(fmt.bytes(149_414)).toBe('149,4 kB');
    expect(fmt.bytes(512)).toBe('512 bytes');
    expect(fmt.date('2026-12-01')).toBe('01/12/2026');
    expect(fmt.month('2026-12')).toBe('dezembro de 2026');
    expect(fmt.period('2026-02')).toBe('fevereiro de 2026');
    expect(fmt.integer('1564')).toBe('1.564');
    expect(fmt.change(0.0523)).toBe('+5,2%');
    expect(fmt.change(-0.1)).toBe('-10,0%');
    expect(fmt.points(0.012)).toBe('+1,2 p.p.');
    expect(fmt.percent(0.5418)).toBe('54,2%');
    expect(fmt.integer(null)).toBe('–');
  });

  it('en: the same figures the English way', () => {
    const fmt = localeFormat('en');
    expect(fmt.money('9383.31')).toBe('R$9,383.31');
    expect(fmt.bytes(149_414)).toBe('149.4 kB');
    expect(fmt.month('2026-12')).toBe('December 2026');
    expect(fmt.integer('1564')).toBe('1,564');
  });
});
