import { BUSINESS_TIME_ZONE } from '../dates.js';

/**
 * What a partner reads is formatted in the partner's locale with Intl: numbers, money
 * (R$ 9.383,31), percentages, dates (01/12/2026, dezembro de 2026) and sizes (149,4 kB).
 * Column names are the contract's and are never translated.
 */

/** Locales a partner can choose (config `locale`). */
export const partnerLocales = ['pt-BR', 'en'] as const;
export type PartnerLocale = (typeof partnerLocales)[number];
export const DEFAULT_LOCALE: PartnerLocale = 'pt-BR';

export interface LocaleFormat {
  locale: PartnerLocale;
  /** 12.345 */
  integer(value: unknown): string;
  /** A decimal with up to `digits` fraction digits. */
  decimal(value: unknown, digits?: number): string;
  /** R$ 9.383,31; an exact decimal string is formatted without going through a float. */
  money(value: unknown): string;
  /** 0.1234 -> 12,3% */
  percent(value: number | null | undefined, digits?: number): string;
  /** A relative change with its sign: 0.052 -> +5,2% */
  change(value: number | null | undefined): string;
  /** A difference in percentage points with its sign: 0.012 -> +1,2 p.p. */
  points(value: number | null | undefined): string;
  /** YYYY-MM-DD -> 01/12/2026 */
  date(day: string): string;
  /** YYYY-MM -> dezembro de 2026 */
  month(month: string): string;
  /** YYYY-MM -> dez. 2026 (axis labels) */
  shortMonth(month: string): string;
  /** YYYY-MM-DD -> 01/12 (axis labels) */
  shortDate(day: string): string;
  /** A period of either kind, long form. */
  period(period: string): string;
  /** 149,4 kB */
  bytes(bytes: number): string;
}

const DASH = '–';

/** Intl puts a no-break space after R$; plain text and tests read better with a space. */
function spaces(text: string): string {
  return text.replace(/[\u00a0\u202f]/g, ' ');
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (typeof value === 'number' && !Number.isFinite(value));
}

/** Noon UTC of a calendar day: formatting it in any zone of the Americas gives the same day. */
function calendarDay(day: string): Date {
  return new Date(`${day}T12:00:00Z`);
}

export function isPartnerLocale(value: unknown): value is PartnerLocale {
  return typeof value === 'string' && (partnerLocales as readonly string[]).includes(value);
}

/** The formatters of one locale. */
export function localeFormat(locale: PartnerLocale = DEFAULT_LOCALE): LocaleFormat {
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: 'BRL' });
  const dayFormat = new Intl.DateTimeFormat(locale, { timeZone: BUSINESS_TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric' });
  const shortDay = new Intl.DateTimeFormat(locale, { timeZone: BUSINESS_TIME_ZONE, day: '2-digit', month: '2-digit' });
  const monthFormat = new Intl.DateTimeFormat(locale, { timeZone: BUSINESS_TIME_ZONE, month: 'long', year: 'numeric' });
  const shortMonth = new Intl.DateTimeFormat(locale, { timeZone: BUSINESS_TIME_ZONE, month: 'short', year: 'numeric' });
  const percentWith = (digits: number, sign: boolean) =>
    new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits, ...(sign ? { signDisplay: 'exceptZero' as const } : {}) });
  const format: LocaleFormat = {
    locale,
    integer: (value) => {
      if (isBlank(value)) return DASH;
      // Strings of digits (BIGINT as DuckDB hands them over) are formatted exactly.
      const text = String(value).trim();
      return /^-?\d+$/.test(text) ? integer.format(BigInt(text)) : Number.isFinite(Number(text)) ? integer.format(Math.round(Number(text))) : text;
    },
    decimal: (value, digits = 2) => (isBlank(value) ? DASH : new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(Number(value))),
    money: (value) => {
      if (isBlank(value)) return DASH;
      const text = String(value).trim();
      // Intl formats a decimal string exactly (no float in between), so the e-mail shows the files' figure.
      if (/^-?\d+(\.\d+)?$/.test(text)) return spaces(money.format(text as unknown as number));
      return Number.isFinite(Number(text)) ? spaces(money.format(Number(text))) : text;
    },
    percent: (value, digits = 1) => (isBlank(value) ? DASH : spaces(percentWith(digits, false).format(value!))),
    change: (value) => (isBlank(value) ? DASH : spaces(percentWith(1, true).format(value!))),
    points: (value) => {
      if (isBlank(value)) return DASH;
      const number = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(value! * 100);
      return `${number} ${locale === 'pt-BR' ? 'p.p.' : 'pp'}`;
    },
    date: (day) => dayFormat.format(calendarDay(day)),
    month: (month) => monthFormat.format(calendarDay(`${month}-15`)),
    shortMonth: (month) => spaces(shortMonth.format(calendarDay(`${month}-15`))),
    shortDate: (day) => shortDay.format(calendarDay(day)),
    period: (period) => (period.length === 7 ? format.month(period) : format.date(period)),
    bytes: (bytes) => {
      if (!Number.isFinite(bytes)) return DASH;
      const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
      let value = bytes;
      let unit = 0;
      while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit += 1;
      }
      return spaces(new Intl.NumberFormat(locale, { style: 'unit', unit: units[unit]!, unitDisplay: 'short', maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value));
    },
  };
  return format;
}
