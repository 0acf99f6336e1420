import { UsageError } from './errors.js';

/** "The day" of a sale or a run is always the calendar day in São Paulo. */
export const BUSINESS_TIME_ZONE = 'America/Sao_Paulo';

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const isoMonth = /^\d{4}-\d{2}$/;

/** YYYY-MM-DD of `now` in São Paulo. */
export function businessDate(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: BUSINESS_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Adds days to a YYYY-MM-DD date (calendar arithmetic, no time zone involved). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Yesterday in São Paulo: the default day a run reports on. */
export function yesterday(now: Date): string {
  return addDays(businessDate(now), -1);
}

/** YYYY-MM of the month before the given one. */
export function previousMonth(month: string): string {
  const d = new Date(`${month}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

/** Every day of a month, as YYYY-MM-DD. */
export function daysOfMonth(month: string): string[] {
  const days: string[] = [];
  for (let day = `${month}-01`; day.startsWith(month); day = addDays(day, 1)) days.push(day);
  return days;
}

/** Years a date flag may name: outside them a typo (9999-12-31) would loop for ever or overflow. */
export const FIRST_YEAR = 2000;
export const LAST_YEAR = 2100;

/** Inclusive list of days from `from` to `to`; both are checked before the loop. */
export function dateRange(from: string, to: string): string[] {
  parseDate(from, '--from');
  parseDate(to, '--to');
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`, { hint: 'give the earlier date to --from' });
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/** Validates a YYYY-MM-DD flag value (a real calendar date). */
export function parseDate(value: string, flag = '--date'): string {
  if (!isoDate.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a date`, { hint: `use YYYY-MM-DD, e.g. ${flag} 2026-11-20` });
  }
  checkYear(value, flag);
  return value;
}

/** Validates a YYYY-MM flag value. */
export function parseMonth(value: string, flag = '--month'): string {
  const month = Number(value.slice(5, 7));
  if (!isoMonth.test(value) || month < 1 || month > 12) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a month`, { hint: `use YYYY-MM, e.g. ${flag} 2026-10` });
  }
  checkYear(value, flag);
  return value;
}

function checkYear(value: string, flag: string): void {
  const year = Number(value.slice(0, 4));
  if (year < FIRST_YEAR || year > LAST_YEAR) {
    throw new UsageError(`${flag} ${value} is outside the years ${FIRST_YEAR}-${LAST_YEAR}`, { hint: `give a date between ${FIRST_YEAR}-01-01 and ${LAST_YEAR}-12-31` });
  }
}
