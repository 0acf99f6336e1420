import { isValidCnpj, isValidCpf } from '@brazilian-utils/brazilian-utils';
import { type DuckSession, sqlString } from '../lake/duckdb.js';

/**
 * Personal data in text values, matched after normalisation rather than by format: case,
 * accents, spaces and punctuation are folded away, so `529 982 247 25`, `cpf52998224725`
 * and `529.982.247-25` are the same CPF, and `011 98765-4321` the same phone as
 * `(11) 98765-4321`. The scan is set-based in DuckDB over (column, value) pairs; only the
 * distinct digit runs that need a check-digit or area-code test come back to JavaScript.
 * Findings name the column and the rule, never the value (the value is the leak).
 */

/** Kinds of personal data the scan reports. */
export type PiiKind = 'email' | 'cpf' | 'cnpj' | 'phone' | 'cep' | 'customer';

/** The rule that matched; a customer-* rule is an exact match against silver customers. */
export type PiiRule = 'email' | 'cpf' | 'cnpj' | 'phone' | 'cep' | 'customer-id' | 'customer-email' | 'customer-cpf' | 'customer-name';

export const ruleKind: Record<PiiRule, PiiKind> = {
  email: 'email',
  cpf: 'cpf',
  cnpj: 'cnpj',
  phone: 'phone',
  cep: 'cep',
  'customer-id': 'customer',
  'customer-email': 'customer',
  'customer-cpf': 'customer',
  'customer-name': 'customer',
};

/** Hits per column and rule. */
export type PiiFindings = Record<string, Partial<Record<PiiRule, number>>>;

/**
 * Brazilian area codes (DDD) in use, from ANATEL's numbering plan. A digit run is a phone
 * only when it starts with one of these (after an optional 0, carrier code or +55).
 */
export const brazilianAreaCodes: ReadonlySet<string> = new Set(
  '11 12 13 14 15 16 17 18 19 21 22 24 27 28 31 32 33 34 35 37 38 41 42 43 44 45 46 47 48 49 51 53 54 55 61 62 63 64 65 66 67 68 69 71 73 74 75 77 79 81 82 83 84 85 86 87 88 89 91 92 93 94 95 96 97 98 99'.split(' '),
);

/** A national number: DDD + 9 and 8 digits (mobile) or DDD + 2..5 and 7 digits (landline). */
function isNationalPhone(digits: string): boolean {
  if (!brazilianAreaCodes.has(digits.slice(0, 2))) return false;
  if (digits.length === 11) return digits[2] === '9';
  if (digits.length === 10) return digits[2]! >= '2' && digits[2]! <= '5';
  return false;
}

/** True when the digits are a Brazilian phone in any dialling form: national, 0 + national, 0 + carrier + national, 55 + national. */
export function isBrazilianPhone(digits: string): boolean {
  const forms = [digits];
  if (digits.startsWith('0')) forms.push(digits.slice(1), digits.slice(3));
  if (digits.startsWith('55')) forms.push(digits.slice(2));
  if (digits.startsWith('055')) forms.push(digits.slice(3));
  return forms.some(isNationalPhone);
}

/** What a run of 10 to 14 digits (separators already folded away) is, if anything. */
export function classifyDigits(digits: string): 'cpf' | 'cnpj' | 'phone' | null {
  if (digits.length === 11 && isValidCpf(digits)) return 'cpf';
  if (digits.length === 14 && isValidCnpj(digits)) return 'cnpj';
  return isBrazilianPhone(digits) ? 'phone' : null;
}

/** True for a valid CNPJ, numeric or alphanumeric (the format Brazil issues from July 2026). */
export function isAnyValidCnpj(value: string): boolean {
  return isValidCnpj(value.toUpperCase(), { version: 2 });
}

/**
 * SQL that folds a lower-cased, accent-free value before matching: dates, times, amounts
 * and hash or UUID tokens (pseudonyms) are blanked first, because folding their separators away
 * would glue their digits into numbers that look like a CPF or phone.
 */
function blankNoiseSql(expression: string): string {
  const patterns = [
    '[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ t][0-9]{2}(?::[0-9]{2}){0,2}(?:\\.[0-9]+)?)?(?:z|[+-][0-9]{2}(?::?[0-9]{2})?)?',
    '\\b[0-9]{2}/[0-9]{2}/[0-9]{4}\\b',
    '\\b[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]+)?)?\\b',
    '\\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\b',
    '\\b[0-9a-f]{24,}\\b',
    // Amounts with decimals (1.234.567,89 or 1234567.5): money, not a phone.
    '\\b[0-9]+(?:[.,][0-9]{3})*[.,][0-9]{1,2}\\b',
  ];
  return patterns.reduce((sql, pattern) => `regexp_replace(${sql}, ${sqlString(pattern)}, ' ', 'g')`, expression);
}

const emailPattern = '[a-z0-9._%+-]+@[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.[a-z]{2,}';
const cpfFormatted = '\\b[0-9]{3}\\.[0-9]{3}\\.[0-9]{3}-[0-9]{2}\\b';
const cnpjFormatted = '\\b[0-9]{2}\\.[0-9]{3}\\.[0-9]{3}/[0-9]{4}-[0-9]{2}\\b';
const cepFormatted = '\\b[0-9]{5}-[0-9]{3}\\b';
// Alphanumeric CNPJ: 12 letters or digits, 2 check digits, in its mask or bare.
const cnpjAlphanumeric = '\\b[a-z0-9]{2}[. ]?[a-z0-9]{3}[. ]?[a-z0-9]{3}[/ ]?[a-z0-9]{4}[- ]?[0-9]{2}\\b';

/**
 * The folded forms of `vals(col, val, n)` (n: how many times the value occurs), distinct
 * per column, pseudonyms (long hex) dropped before grouping: `low` (lower case,
 * no accents), `clean` (noise blanked), `compact` (only letters and digits), `spaced`
 * (every run of other characters one space).
 */
export function foldedValuesSql(valuesSql: string): string {
  return `
    folded_raw AS (SELECT col, lower(strip_accents(val)) AS low, sum(n)::BIGINT AS n FROM (${valuesSql})
                   WHERE val IS NOT NULL AND val <> '' AND NOT (length(val) >= 24 AND ltrim(val, '0123456789abcdefABCDEF') = '') GROUP BY ALL),
    folded AS (SELECT col, low, n, clean, regexp_replace(clean, '[^a-z0-9]', '', 'g') AS compact, trim(regexp_replace(clean, '[^a-z0-9]+', ' ', 'g')) AS spaced
               FROM (SELECT col, low, n, ${blankNoiseSql('low')} AS clean FROM folded_raw))`;
}

/** Matches of the format rules: (col, rule, candidate, n); candidates need a JavaScript test. */
function formatMatchesSql(): string {
  const extract = (rule: string, column: string, pattern: string) =>
    `SELECT col, ${sqlString(rule)} AS rule, unnest(regexp_extract_all(${column}, ${sqlString(pattern)})) AS candidate, n FROM folded`;
  return [
    extract('email', 'low', emailPattern),
    extract('cpf-formatted', 'clean', cpfFormatted),
    extract('cnpj-formatted', 'clean', cnpjFormatted),
    extract('cep', 'clean', cepFormatted),
    `SELECT col, 'cnpj-alphanumeric' AS rule, candidate, n FROM (${extract('x', 'clean', cnpjAlphanumeric)}) WHERE regexp_matches(candidate, '[a-z]') AND regexp_matches(left(regexp_replace(candidate, '[^a-z0-9]', '', 'g'), 12), '[0-9]')`,
    `SELECT col, 'digits' AS rule, candidate, n FROM (${extract('x', 'compact', '[0-9]+')}) WHERE length(candidate) BETWEEN 10 AND 14`,
  ].join('\nUNION ALL ');
}

function add(findings: PiiFindings, column: string, rule: PiiRule, count: number): void {
  if (count <= 0) return;
  const byRule = (findings[column] ??= {});
  byRule[rule] = (byRule[rule] ?? 0) + count;
}

/**
 * Scans `vals(col, val, n)` (any SQL relation with those columns) for e-mails,
 * CPFs, CNPJs (numeric and alphanumeric), phones and CEPs, after folding.
 */
export async function scanValuesForPii(duck: DuckSession, valuesSql: string): Promise<PiiFindings> {
  const rows = await duck.json<{ col: string; rule: string; candidate: string; n: number }>(
    `WITH ${foldedValuesSql(valuesSql)} SELECT col, rule, candidate, sum(n)::BIGINT AS n FROM (${formatMatchesSql()}) GROUP BY ALL`,
  );
  const findings: PiiFindings = {};
  for (const row of rows) {
    const count = Number(row.n);
    switch (row.rule) {
      case 'email':
      case 'cep':
        add(findings, row.col, row.rule, count);
        break;
      // A formatted number counts even with wrong check digits; a valid one is counted by its digits.
      case 'cpf-formatted':
        if (!isValidCpf(row.candidate)) add(findings, row.col, 'cpf', count);
        break;
      case 'cnpj-formatted':
        if (!isValidCnpj(row.candidate)) add(findings, row.col, 'cnpj', count);
        break;
      case 'cnpj-alphanumeric':
        if (isAnyValidCnpj(row.candidate.replace(/[^a-z0-9]/g, ''))) add(findings, row.col, 'cnpj', count);
        break;
      case 'digits': {
        const kind = classifyDigits(row.candidate);
        if (kind) add(findings, row.col, kind, count);
        break;
      }
    }
  }
  return findings;
}

/** Shortest customer id, e-mail or name (folded) matched: shorter terms hit ordinary words. */
const MIN_TERM_LENGTH = 6;

/**
 * Exact matches of every silver customer's raw customer_id, e-mail, CPF and full name
 * inside the folded text values of `vals(col, val, n)`: a dictionary join in DuckDB. Ids,
 * e-mails and CPFs are matched with spaces and punctuation folded away (a 6-character
 * prefix join, then `contains`); names word by word (first-word join, then whole words),
 * so "Ana Lima" is found in "Campinas ana  LIMA C0000042" but not in "Santana Limeira".
 */
export async function matchCustomers(duck: DuckSession, valuesSql: string, customersSql: string): Promise<PiiFindings> {
  const rows = await duck.json<{ col: string; rule: PiiRule; n: number }>(`
    WITH ${foldedValuesSql(valuesSql)},
    customers AS (${customersSql}),
    terms AS (
      SELECT DISTINCT rule, term FROM (
        SELECT 'customer-id' AS rule, regexp_replace(lower(strip_accents(customer_id)), '[^a-z0-9]', '', 'g') AS term FROM customers
        UNION ALL SELECT 'customer-email', regexp_replace(lower(strip_accents(email)), '[^a-z0-9]', '', 'g') FROM customers
        UNION ALL SELECT 'customer-cpf', regexp_replace(cpf, '[^0-9]', '', 'g') FROM customers
      ) WHERE length(term) >= ${MIN_TERM_LENGTH}),
    names AS (
      SELECT DISTINCT term, split_part(term, ' ', 1) AS first FROM (
        SELECT trim(regexp_replace(lower(strip_accents(name)), '[^a-z0-9]+', ' ', 'g')) AS term FROM customers)
      WHERE contains(term, ' ') AND length(term) >= ${MIN_TERM_LENGTH}),
    grams AS (SELECT DISTINCT col, compact, n, substr(compact, i, ${MIN_TERM_LENGTH}) AS gram
              FROM (SELECT col, compact, n, unnest(range(1, length(compact) - ${MIN_TERM_LENGTH - 2})) AS i FROM folded WHERE length(compact) >= ${MIN_TERM_LENGTH})),
    words AS (SELECT DISTINCT col, spaced, n, unnest(string_split(spaced, ' ')) AS word FROM folded WHERE contains(spaced, ' ')),
    hits AS (
      SELECT DISTINCT g.col, t.rule, g.compact AS value, g.n FROM grams g JOIN terms t ON g.gram = left(t.term, ${MIN_TERM_LENGTH}) WHERE contains(g.compact, t.term)
      UNION ALL
      SELECT DISTINCT w.col, 'customer-name', w.spaced, w.n FROM words w JOIN names m ON w.word = m.first WHERE contains(' ' || w.spaced || ' ', ' ' || m.term || ' '))
    SELECT col, rule, sum(n)::BIGINT AS n FROM hits GROUP BY ALL`);
  const findings: PiiFindings = {};
  for (const row of rows) add(findings, row.col, row.rule, Number(row.n));
  return findings;
}

/** Findings of several scans added together. */
export function mergeFindings(...all: PiiFindings[]): PiiFindings {
  const out: PiiFindings = {};
  for (const findings of all) for (const [column, rules] of Object.entries(findings)) for (const [rule, count] of Object.entries(rules)) add(out, column, rule as PiiRule, count ?? 0);
  return out;
}

/** Hits per kind, for the figures and the metrics. */
export function findingsByKind(findings: PiiFindings): Partial<Record<PiiKind, number>> {
  const out: Partial<Record<PiiKind, number>> = {};
  for (const rules of Object.values(findings)) for (const [rule, count] of Object.entries(rules)) out[ruleKind[rule as PiiRule]] = (out[ruleKind[rule as PiiRule]] ?? 0) + (count ?? 0);
  return out;
}

/** "city: cpf 2, customer-name 1" — columns and rules, never values. */
export function describeFindings(findings: PiiFindings): string {
  return Object.entries(findings)
    .map(([column, rules]) => `${column} (${Object.entries(rules).sort(([a], [b]) => a.localeCompare(b)).map(([rule, count]) => `${rule} ${count}`).join(', ')})`)
    .join(', ');
}
