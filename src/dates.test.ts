import { describe, expect, it } from 'vitest';
import { dateRange, parseDate, parseMonth } from './dates.js';
import { UsageError } from './errors.js';

describe('date flags (issue 8, observation 6)', () => {
  it('refuses years outside 2000-2100 before any loop: 9999-12-31 returns at once', () => {
    const started = Date.now();
    expect(() => dateRange('2026-11-01', '9999-12-31')).toThrow(UsageError);
    expect(() => dateRange('2026-11-01', '9999-12-31')).toThrow(/--to 9999-12-31 is outside the years 2000-2100/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(() => parseDate('1999-12-31')).toThrow(/outside the years/);
    expect(() => parseMonth('2101-01')).toThrow(/outside the years/);
    expect(() => dateRange('2026-11-02', '2026-11-01')).toThrow(/after --to/);
  });

  it('keeps ordinary ranges and bounds', () => {
    expect(dateRange('2100-12-30', '2100-12-31')).toEqual(['2100-12-30', '2100-12-31']);
    expect(parseDate('2000-01-01')).toBe('2000-01-01');
    expect(dateRange('2026-02-27', '2026-03-01')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });
});
