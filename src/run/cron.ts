import { ConfigError } from '../errors.js';
import { BUSINESS_TIME_ZONE } from '../dates.js';

/**
 * A small evaluator for the 5-field cron subset the schedules use (minute hour
 * day-of-month month day-of-week; `*`, numbers, lists, ranges, steps; Sunday is 0 or 7),
 * in a named time zone. Vixie cron semantics: when both day fields are restricted, a day
 * matching either one runs.
 */
export interface CronSchedule {
  expression: string;
  minutes: number[];
  hours: number[];
  daysOfMonth: number[];
  months: number[];
  daysOfWeek: number[];
  /** Whether the day-of-month / day-of-week field was `*` (changes how they combine). */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

const fields = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const names: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12, sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function parseField(text: string, field: (typeof fields)[number], expression: string): number[] {
  const bad = (why: string): ConfigError =>
    new ConfigError(`schedule "${expression}": ${field.name} field "${text}" ${why}`, { hint: 'use 5 fields: minute hour day-of-month month day-of-week, e.g. "30 6 * * *"' });
  const values = new Set<number>();
  const number = (part: string): number => {
    const value = names[part.toLowerCase()] ?? (/^\d+$/.test(part) ? Number(part) : NaN);
    if (!Number.isInteger(value) || value < field.min || value > field.max) throw bad(`is not ${field.min}-${field.max}`);
    return value;
  };
  for (const item of text.split(',')) {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw bad('has a bad step');
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [field.min, field.max];
    else if (range!.includes('-')) {
      const [a, b] = range!.split('-');
      [from, to] = [number(a!), number(b!)];
      if (from > to) throw bad('has a backwards range');
    } else {
      from = number(range!);
      to = stepText === undefined ? from : field.max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/** Parses a 5-field cron expression; a ConfigError names the bad field. */
export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new ConfigError(`schedule "${expression}" has ${parts.length} fields, expected 5`, { hint: 'minute hour day-of-month month day-of-week, e.g. "0 7 1 * *"' });
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((part, index) => parseField(part, fields[index]!, expression)) as [number[], number[], number[], number[], number[]];
  return {
    expression,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek: [...new Set(daysOfWeek.map((day) => day % 7))].sort((a, b) => a - b),
    anyDayOfMonth: parts[2] === '*',
    anyDayOfWeek: parts[4] === '*',
  };
}

/** Wall-clock parts of an instant in a time zone. */
function wallClock(instant: Date, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(instant);
  const get = (type: string): number => Number(parts.find((part) => part.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute') };
}

/** The instant a wall-clock time in a zone denotes (the earlier one in a DST overlap). */
function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  let instant = guess;
  // Two passes converge for every real offset change.
  for (let pass = 0; pass < 2; pass++) {
    const seen = wallClock(new Date(instant), timeZone);
    const offset = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute) - instant;
    instant = guess - offset;
  }
  return new Date(instant);
}

function dayMatches(schedule: CronSchedule, year: number, month: number, day: number): boolean {
  if (!schedule.months.includes(month)) return false;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const domOk = schedule.daysOfMonth.includes(day);
  const dowOk = schedule.daysOfWeek.includes(weekday);
  if (schedule.anyDayOfMonth && schedule.anyDayOfWeek) return true;
  if (schedule.anyDayOfMonth) return dowOk;
  if (schedule.anyDayOfWeek) return domOk;
  return domOk || dowOk;
}

/** The first time strictly after `after` that the schedule fires, in `timeZone` (São Paulo by default). */
export function nextCronTime(expression: string | CronSchedule, after: Date, timeZone = BUSINESS_TIME_ZONE): Date {
  const schedule = typeof expression === 'string' ? parseCron(expression) : expression;
  const start = wallClock(after, timeZone);
  // Walk calendar days in the zone; five years covers any valid expression (Feb 29).
  let cursor = Date.UTC(start.year, start.month - 1, start.day);
  for (let index = 0; index < 366 * 5; index++, cursor += 86_400_000) {
    const date = new Date(cursor);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!dayMatches(schedule, year, month, day)) continue;
    for (const hour of schedule.hours) {
      for (const minute of schedule.minutes) {
        const instant = zonedInstant(year, month, day, hour, minute, timeZone);
        if (instant.getTime() > after.getTime()) return instant;
      }
    }
  }
  throw new ConfigError(`schedule "${schedule.expression}" never fires`, { hint: 'check the day-of-month and month fields (e.g. 31 in a 30-day month)' });
}

/** The latest time at or before `before` that the schedule fired (for "is a run overdue?"). */
export function previousCronTime(expression: string | CronSchedule, before: Date, timeZone = BUSINESS_TIME_ZONE): Date | null {
  const schedule = typeof expression === 'string' ? parseCron(expression) : expression;
  const start = wallClock(before, timeZone);
  let cursor = Date.UTC(start.year, start.month - 1, start.day);
  for (let index = 0; index < 366 * 5; index++, cursor -= 86_400_000) {
    const date = new Date(cursor);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!dayMatches(schedule, year, month, day)) continue;
    for (const hour of [...schedule.hours].reverse()) {
      for (const minute of [...schedule.minutes].reverse()) {
        const instant = zonedInstant(year, month, day, hour, minute, timeZone);
        if (instant.getTime() <= before.getTime()) return instant;
      }
    }
  }
  return null;
}

function calendarField(values: number[], min: number, pad: number, text: string): string {
  if (text === '*') return '*';
  const fmt = (value: number): string => String(value).padStart(pad, '0');
  // A step from the start (*/15): systemd's start/step form.
  const step = /^\*\/(\d+)$/.exec(text) ?? /^(\d+)\/(\d+)$/.exec(text);
  if (step) return step.length === 2 ? `${fmt(min)}/${step[1]}` : `${fmt(Number(step[1]))}/${step[2]}`;
  // Consecutive runs as a..b ranges, the rest listed.
  const runs: string[] = [];
  for (let index = 0; index < values.length; ) {
    let end = index;
    while (end + 1 < values.length && values[end + 1] === values[end]! + 1) end++;
    runs.push(end - index >= 2 ? `${fmt(values[index]!)}..${fmt(values[end]!)}` : values.slice(index, end + 1).map(fmt).join(','));
    index = end + 1;
  }
  return runs.join(',');
}

const weekdayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * The systemd OnCalendar= equivalent of a cron expression, with the zone appended
 * ("30 6 * * *" -> "*-*-* 06:30:00 America/Sao_Paulo"). A cron line that restricts both
 * day fields (either matches) has no single OnCalendar form: two are returned.
 */
export function cronToOnCalendar(expression: string, timeZone = BUSINESS_TIME_ZONE): string[] {
  const schedule = parseCron(expression);
  const parts = expression.trim().split(/\s+/) as [string, string, string, string, string];
  const minute = calendarField(schedule.minutes, 0, 2, parts[0]);
  const hour = calendarField(schedule.hours, 0, 2, parts[1]);
  const month = calendarField(schedule.months, 1, 2, parts[3]);
  const dayOfMonth = calendarField(schedule.daysOfMonth, 1, 2, parts[2]);
  const weekdays = schedule.daysOfWeek.map((day) => weekdayNames[day]).join(',');
  const time = `${hour}:${minute}:00`;
  if (schedule.anyDayOfMonth && schedule.anyDayOfWeek) return [`*-${month}-* ${time} ${timeZone}`];
  if (schedule.anyDayOfWeek) return [`*-${month}-${dayOfMonth} ${time} ${timeZone}`];
  if (schedule.anyDayOfMonth) return [`${weekdays} *-${month}-* ${time} ${timeZone}`];
  return [`*-${month}-${dayOfMonth} ${time} ${timeZone}`, `${weekdays} *-${month}-* ${time} ${timeZone}`];
}
