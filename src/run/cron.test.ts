import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { cronToOnCalendar, nextCronTime, parseCron, previousCronTime } from './cron.js';

describe('parseCron', () => {
  it('expands stars, lists, ranges, steps and names; Sunday is 0 or 7', () => {
    const schedule = parseCron('*/15 6,18 1-3 jan,jul 7');
    expect(schedule.minutes).toEqual([0, 15, 30, 45]);
    expect(schedule.hours).toEqual([6, 18]);
    expect(schedule.daysOfMonth).toEqual([1, 2, 3]);
    expect(schedule.months).toEqual([1, 7]);
    expect(schedule.daysOfWeek).toEqual([0]);
    expect(parseCron('0 0 * * 1-5/2').daysOfWeek).toEqual([1, 3, 5]);
    expect(parseCron('5/20 * * * *').minutes).toEqual([5, 25, 45]);
  });

  it('rejects bad expressions with a ConfigError naming the field', () => {
    expect(() => parseCron('30 6 * *')).toThrow(ConfigError);
    expect(() => parseCron('61 6 * * *')).toThrow(/minute field "61" is not 0-59/);
    expect(() => parseCron('0 5-2 * * *')).toThrow(/backwards range/);
    expect(() => parseCron('0 0 * * mon/0')).toThrow(/bad step/);
  });
});

describe('nextCronTime in America/Sao_Paulo (UTC-3, no DST since 2019)', () => {
  it('finds the daily run later today or tomorrow', () => {
    // 09:00 UTC = 06:00 in São Paulo: today's 06:30 is still ahead.
    expect(nextCronTime('30 6 * * *', new Date('2026-11-21T09:00:00Z')).toISOString()).toBe('2026-11-21T09:30:00.000Z');
    expect(nextCronTime('30 6 * * *', new Date('2026-11-21T09:30:00Z')).toISOString()).toBe('2026-11-22T09:30:00.000Z');
    // 02:00 UTC on the 22nd is still the 21st in São Paulo.
    expect(nextCronTime('30 6 * * *', new Date('2026-11-22T02:00:00Z')).toISOString()).toBe('2026-11-22T09:30:00.000Z');
  });

  it('finds the monthly run on the 1st, across a year end', () => {
    expect(nextCronTime('0 7 1 * *', new Date('2026-11-21T12:00:00Z')).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(nextCronTime('0 7 1 * *', new Date('2026-12-01T10:00:00Z')).toISOString()).toBe('2027-01-01T10:00:00.000Z');
    expect(previousCronTime('0 7 1 * *', new Date('2026-11-21T12:00:00Z'))!.toISOString()).toBe('2026-11-01T10:00:00.000Z');
  });

  it('combines day-of-month and day-of-week like cron (either matches), and handles Feb 29', () => {
    // 2026-11-21 is a Saturday: the next "1st or Monday" is Monday the 23rd.
    expect(nextCronTime('0 8 1 * 1', new Date('2026-11-21T12:00:00Z')).toISOString()).toBe('2026-11-23T11:00:00.000Z');
    expect(nextCronTime('0 0 29 2 *', new Date('2026-03-01T00:00:00Z')).toISOString()).toBe('2028-02-29T03:00:00.000Z');
  });

  it('honours other time zones, including a DST change', () => {
    // New York moves to UTC-4 on 2027-03-14.
    expect(nextCronTime('30 6 * * *', new Date('2027-03-13T12:00:00Z'), 'America/New_York').toISOString()).toBe('2027-03-14T10:30:00.000Z');
    expect(nextCronTime('30 6 * * *', new Date('2027-03-12T12:00:00Z'), 'America/New_York').toISOString()).toBe('2027-03-13T11:30:00.000Z');
  });
});

describe('cronToOnCalendar', () => {
  it('writes systemd calendar events with the time zone', () => {
    expect(cronToOnCalendar('30 6 * * *')).toEqual(['*-*-* 06:30:00 America/Sao_Paulo']);
    expect(cronToOnCalendar('0 7 1 * *')).toEqual(['*-*-01 07:00:00 America/Sao_Paulo']);
    expect(cronToOnCalendar('*/15 8-18 * * 1-5')).toEqual(['Mon,Tue,Wed,Thu,Fri *-*-* 08..18:00/15:00 America/Sao_Paulo']);
    expect(cronToOnCalendar('0 7 1 * 1')).toEqual(['*-*-01 07:00:00 America/Sao_Paulo', 'Mon *-*-* 07:00:00 America/Sao_Paulo']);
    expect(cronToOnCalendar('0 6,18 * 1,7 *')).toEqual(['*-01,07-* 06,18:00:00 America/Sao_Paulo']);
  });
});
