import type { SourceTable } from '../lake/layout.js';
import { BRAZILIAN_UFS, PRODUCT_CODE_REGEX, TRANSACTION_STATUSES } from './schema.js';
import type { CleaningRule, NullRule } from './types.js';

/*
 * The rule library. Order matters only among repairs of one column (they chain: trim,
 * then case, then parsing). The engine groups the rest by kind: repairs, then
 * validations, null handling and references in one pass, then deduplication.
 *
 * Near-duplicates (a row that differs from another only by case or spaces) are not exact
 * duplicates; after trim and case repairs they have the same business key, so the key
 * rule keeps the latest and counts the other as a duplicate.
 *
 * Timestamps: a value without an offset is São Paulo local time; the engine's DuckDB
 * session runs in America/Sao_Paulo, which is what the TIMESTAMPTZ casts below rely on.
 */

/** Texts that mean "no value" in exports. */
const NULL_MARKERS = ['', 'NULL', 'null', 'N/A', 'n/a'];

/** failsWhen of repairs that always produce a value (case, trimming, stripping characters). */
const NEVER = 'false';

/**
 * A list literal for list_contains. Rules use list_contains rather than `IN (...)`:
 * DuckDB rewrites a long IN list into a join per occurrence, which costs a pass each.
 */
const list = (values: readonly string[]): string => `[${values.map((value) => `'${value}'`).join(', ')}]`;

/** A plain decimal with a point ("1234.56"): what needs no repair. */
const PLAIN_DECIMAL = '-?[0-9]+(\\.[0-9]+)?';
/** An ISO-8601 date or timestamp starts like this (LIKE is far cheaper than a regex on every row). */
const ISO_LIKE = "'____-__-__%'";

/** Money as text ("R$ 1.234,56", "12,5", "1,234.56", "9.90") to DECIMAL(12,2); anything else NULL. */
const MONEY_EXPRESSION = `(CASE
  WHEN regexp_full_match({value}, '${PLAIN_DECIMAL}') THEN TRY_CAST({value} AS DECIMAL(12,2))
  WHEN regexp_full_match(regexp_replace({value}, '(R\\$|\\s)', '', 'g'), '${PLAIN_DECIMAL}')
    THEN TRY_CAST(regexp_replace({value}, '(R\\$|\\s)', '', 'g') AS DECIMAL(12,2))
  WHEN regexp_full_match(regexp_replace({value}, '(R\\$|\\s)', '', 'g'), '-?[0-9]{1,3}(\\.[0-9]{3})+(,[0-9]+)?|-?[0-9]+,[0-9]+')
    THEN TRY_CAST(replace(replace(regexp_replace({value}, '(R\\$|\\s)', '', 'g'), '.', ''), ',', '.') AS DECIMAL(12,2))
  WHEN regexp_full_match(regexp_replace({value}, '(R\\$|\\s)', '', 'g'), '-?[0-9]{1,3}(,[0-9]{3})+(\\.[0-9]+)?')
    THEN TRY_CAST(replace(regexp_replace({value}, '(R\\$|\\s)', '', 'g'), ',', '') AS DECIMAL(12,2))
END)`;

/**
 * Dates to TIMESTAMPTZ: ISO with or without offset (no offset: São Paulo), dd/mm/yyyy
 * with optional HH:MM[:SS] (São Paulo), epoch seconds (9-10 digits) or milliseconds (13).
 */
const TIMESTAMP_EXPRESSION = `(CASE
  WHEN {value} LIKE ${ISO_LIKE} THEN TRY_CAST({value} AS TIMESTAMPTZ)
  WHEN regexp_full_match({value}, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?')
    THEN CAST(try_strptime({value}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y']) AS TIMESTAMPTZ)
  WHEN regexp_full_match({value}, '[0-9]{13}') THEN make_timestamptz(TRY_CAST({value} AS BIGINT) * 1000)
  WHEN regexp_full_match({value}, '[0-9]{9,10}') THEN to_timestamp(TRY_CAST({value} AS BIGINT))
END)`;

/** Portuguese title case: every word capitalised (also after a hyphen) except de, da, do, das, dos, e. */
const TITLE_CASE = `array_to_string(list_transform(string_split(lower({value}), ' '), lambda w: CASE WHEN list_contains(['de', 'da', 'do', 'das', 'dos', 'e'], w) THEN w ELSE array_to_string(list_transform(string_split(w, '-'), lambda p: upper(p[1]) || p[2:]), '-') END), ' ')`;

/** Brazilian phone (any punctuation, optional +55 or trunk 0) to E.164; NULL when not a BR number. */
const PHONE_EXPRESSION = `(CASE
  WHEN regexp_full_match(regexp_replace({value}, '[^0-9]', '', 'g'), '55[1-9][1-9](9[0-9]{8}|[2-5][0-9]{7})')
    THEN '+' || regexp_replace({value}, '[^0-9]', '', 'g')
  WHEN regexp_full_match(regexp_replace({value}, '[^0-9]', '', 'g'), '0?[1-9][1-9](9[0-9]{8}|[2-5][0-9]{7})')
    THEN '+55' || ltrim(regexp_replace({value}, '[^0-9]', '', 'g'), '0')
END)`;

function required(tables: readonly SourceTable[], column: string, action: NullRule['action'] = 'quarantine'): NullRule {
  return { name: `required_${column}`, description: `${column} must be present`, kind: 'null', tables, columns: [column], action };
}

export const cleaningRules: readonly CleaningRule[] = [
  // --- format correction (repairs), in chain order per column ---------------------------
  {
    name: 'trim_whitespace',
    description: "trims spaces around every value; blank, 'NULL' and 'N/A' become missing",
    kind: 'repair',
    tables: ['products', 'customers', 'transactions'],
    columns: '*',
    action: 'flag',
    // Most values need nothing: two LIKE prefix/suffix tests spare a trim (a new string)
    // per value, and strlen is far cheaper than length (no UTF-8 decoding).
    expression: `(CASE
      WHEN {value} LIKE ' %' OR {value} LIKE '% '
        THEN (CASE WHEN list_contains(${list(NULL_MARKERS)}, trim({value})) THEN NULL ELSE trim({value}) END)
      WHEN strlen({value}) <= 4 AND list_contains(${list(NULL_MARKERS)}, {value}) THEN NULL
      ELSE {value}
    END)`,
    repairedWhen: '{output} IS DISTINCT FROM {input}',
    // Blank is missing, not broken: the null rules decide what a missing value means.
    failsWhen: NEVER,
  },
  {
    name: 'product_code_upper_case',
    description: 'product codes are upper-case (sku-hng-0001 -> SKU-HNG-0001)',
    kind: 'repair',
    tables: ['products', 'transactions'],
    columns: ['product_code'],
    action: 'quarantine',
    expression: 'upper({value})',
    failsWhen: NEVER,
  },
  {
    name: 'money_to_decimal',
    description: "prices like 'R$ 1.234,56', '12,5' or '1,234.56' become DECIMAL(12,2); unreadable ones are quarantined",
    kind: 'repair',
    tables: ['products', 'transactions'],
    columns: ['list_price', 'unit_price'],
    action: 'quarantine',
    expression: MONEY_EXPRESSION,
    repairedWhen: `NOT regexp_full_match({input}, '${PLAIN_DECIMAL}') AND {output} IS NOT NULL`,
  },
  {
    name: 'quantity_to_integer',
    description: "quantities are whole numbers ('3' or '3.0'); '2.5' or 'abc' are quarantined",
    kind: 'repair',
    tables: ['transactions'],
    columns: ['quantity'],
    action: 'quarantine',
    // The plain form first: one simple regex for nearly every row.
    expression: `(CASE WHEN regexp_full_match({value}, '[+-]?[0-9]+') THEN TRY_CAST({value} AS INTEGER)
      WHEN regexp_full_match({value}, '[+-]?[0-9]+\\.0*') THEN TRY_CAST(split_part({value}, '.', 1) AS INTEGER) END)`,
    repairedWhen: `NOT regexp_full_match({input}, '[+-]?[0-9]+') AND {output} IS NOT NULL`,
  },
  {
    name: 'status_lower_case',
    description: 'statuses are lower-case (COMPLETED -> completed)',
    kind: 'repair',
    tables: ['transactions'],
    columns: ['status'],
    action: 'quarantine',
    expression: 'lower({value})',
    failsWhen: NEVER,
  },
  {
    name: 'payment_method_lower_case',
    description: 'payment methods are lower-case (PIX -> pix)',
    kind: 'repair',
    tables: ['transactions'],
    columns: ['payment_method'],
    action: 'quarantine',
    expression: 'lower({value})',
    failsWhen: NEVER,
  },
  {
    name: 'state_upper_case',
    description: 'states are upper-case UF codes (sp -> SP)',
    kind: 'repair',
    tables: ['customers', 'transactions'],
    columns: ['state'],
    action: 'quarantine',
    expression: 'upper({value})',
    failsWhen: NEVER,
  },
  {
    name: 'title_case',
    description: "names and cities written all upper- or lower-case get Portuguese title case ('SÃO JOSÉ DOS CAMPOS' -> 'São José dos Campos')",
    kind: 'repair',
    tables: ['customers', 'transactions'],
    columns: ['name', 'city'],
    action: 'quarantine',
    // Only values with no mixed case are touched: 'McDonald' or 'Embu-Guaçu' stay as written.
    expression: `(CASE WHEN {value} = upper({value}) OR {value} = lower({value}) THEN ${TITLE_CASE} ELSE {value} END)`,
    failsWhen: NEVER,
  },
  {
    name: 'timestamp_formats',
    description: 'dates in ISO (with or without offset), dd/mm/yyyy [HH:MM[:SS]] or epoch s/ms become TIMESTAMPTZ (no offset: São Paulo time)',
    kind: 'repair',
    tables: ['customers', 'transactions'],
    columns: ['created_at', 'sold_at'],
    action: 'quarantine',
    expression: TIMESTAMP_EXPRESSION,
    repairedWhen: `{output} IS NOT NULL AND NOT ({input} LIKE ${ISO_LIKE})`,
  },
  {
    name: 'email_lower_case',
    description: 'e-mail addresses are lower-case',
    kind: 'repair',
    tables: ['customers'],
    columns: ['email'],
    action: 'flag',
    expression: 'lower({value})',
    failsWhen: NEVER,
  },
  {
    name: 'cpf_digits',
    description: "CPFs keep their 11 digits only ('529.982.247-25' -> '52998224725'; leading zeros lost by spreadsheets restored)",
    kind: 'repair',
    tables: ['customers'],
    columns: ['cpf'],
    action: 'quarantine',
    expression: `lpad(regexp_replace({value}, '[.\\-/\\s]', '', 'g'), CASE WHEN regexp_full_match(regexp_replace({value}, '[.\\-/\\s]', '', 'g'), '[0-9]{9,10}') THEN 11 ELSE CAST(length(regexp_replace({value}, '[.\\-/\\s]', '', 'g')) AS INTEGER) END, '0')`,
    // The masked form (529.982.247-25) is standard notation, not dirt: only other forms count as repaired.
    repairedWhen: `NOT regexp_full_match({input}, '[0-9]{3}\\.[0-9]{3}\\.[0-9]{3}-[0-9]{2}|[0-9]{11}')`,
    failsWhen: NEVER,
  },
  {
    name: 'cnpj_digits',
    description: "CNPJs keep their 14 characters only, upper case ('11.222.333/0001-81' -> '11222333000181'; alphanumeric from July 2026: 'q0.slf.mbd/7vx4-39' -> 'Q0SLFMBD7VX439')",
    kind: 'repair',
    tables: ['customers'],
    columns: ['cnpj'],
    optional: true,
    action: 'flag',
    expression: `upper(regexp_replace({value}, '[.\\-/\\s]', '', 'g'))`,
    repairedWhen: `NOT regexp_full_match({input}, '[0-9A-Z]{2}\\.[0-9A-Z]{3}\\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2}|[0-9A-Z]{12}[0-9]{2}')`,
    failsWhen: NEVER,
  },
  {
    name: 'phone_e164',
    description: "Brazilian phones in any format ('(11) 91234-5678', '011 ...', '+55 ...') become E.164 (+5511912345678); others are flagged and left empty",
    kind: 'repair',
    tables: ['customers'],
    columns: ['phone'],
    action: 'flag',
    expression: PHONE_EXPRESSION,
    // '+55 11 98765-4321', '(11) 98765-4321' and E.164 are standard notations; others count as repaired.
    repairedWhen: `{output} IS NOT NULL AND NOT regexp_full_match({input}, '\\+55 ?[0-9]{2} ?9?[0-9]{4}-?[0-9]{4}|\\([0-9]{2}\\) 9?[0-9]{4}-[0-9]{4}')`,
  },
  {
    name: 'cep_digits',
    description: "CEPs keep their digits only ('01310-100' -> '01310100')",
    kind: 'repair',
    tables: ['customers'],
    columns: ['cep'],
    action: 'flag',
    expression: `regexp_replace({value}, '[.\\-\\s]', '', 'g')`,
    repairedWhen: `NOT regexp_full_match({input}, '[0-9]{5}-[0-9]{3}|[0-9]{8}')`,
    failsWhen: NEVER,
  },

  // --- regex and domain validation ---------------------------------------------------
  {
    name: 'product_code_format',
    description: 'product codes look like SKU-HNG-0001 (three letters, three letters, four digits)',
    kind: 'validate',
    tables: ['products', 'transactions'],
    columns: ['product_code'],
    action: 'quarantine',
    predicate: `regexp_full_match({value}, '${PRODUCT_CODE_REGEX}')`,
  },
  {
    name: 'price_not_negative',
    description: 'prices are zero or more',
    kind: 'validate',
    tables: ['products', 'transactions'],
    columns: ['list_price', 'unit_price'],
    action: 'quarantine',
    predicate: '{value} >= 0',
  },
  {
    name: 'quantity_positive',
    description: 'a sale has one unit or more',
    kind: 'validate',
    tables: ['transactions'],
    columns: ['quantity'],
    action: 'quarantine',
    predicate: '{value} > 0',
  },
  {
    name: 'status_allowed',
    description: `status is one of ${TRANSACTION_STATUSES.join(', ')}`,
    kind: 'validate',
    tables: ['transactions'],
    columns: ['status'],
    action: 'quarantine',
    predicate: `list_contains(${list(TRANSACTION_STATUSES)}, {value})`,
  },
  {
    name: 'transaction_state_uf',
    description: 'the sale state is one of the 27 UFs',
    kind: 'validate',
    tables: ['transactions'],
    columns: ['state'],
    action: 'quarantine',
    predicate: `list_contains(${list(BRAZILIAN_UFS)}, {value})`,
  },
  {
    name: 'customer_state_uf',
    description: 'the customer state is one of the 27 UFs (else flagged and left empty)',
    kind: 'validate',
    tables: ['customers'],
    columns: ['state'],
    action: 'flag',
    predicate: `list_contains(${list(BRAZILIAN_UFS)}, {value})`,
  },
  {
    name: 'sold_at_on_day',
    description: 'a sale belongs to the day whose partition holds it (its date in São Paulo)',
    kind: 'validate',
    tables: ['transactions'],
    columns: ['sold_at'],
    action: 'quarantine',
    // A range test on the instant: no time zone conversion per row.
    predicate: '{value} >= {day_start} AND {value} < {day_end}',
  },
  {
    name: 'email_format',
    description: 'e-mail addresses look like name@domain.tld (else flagged and left empty)',
    kind: 'validate',
    tables: ['customers'],
    columns: ['email'],
    action: 'flag',
    predicate: `regexp_full_match({value}, '[a-z0-9._%+-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}')`,
  },
  {
    name: 'cep_format',
    description: 'CEPs have 8 digits (else flagged and left empty)',
    kind: 'validate',
    tables: ['customers'],
    columns: ['cep'],
    action: 'flag',
    predicate: `regexp_full_match({value}, '[0-9]{8}')`,
  },
  {
    name: 'cpf_check_digits',
    description: 'CPFs have 11 digits and valid check digits (@brazilian-utils isValidCpf)',
    kind: 'validate',
    tables: ['customers'],
    columns: ['cpf'],
    action: 'quarantine',
    predicate: `regexp_full_match({value}, '[0-9]{11}') AND dp_is_valid_cpf({value})`,
  },
  {
    name: 'cnpj_check_digits',
    description: 'CNPJs have 12 letters or digits and 2 valid check digits, numeric or alphanumeric (@brazilian-utils isValidCnpj version 2; else flagged and left empty)',
    kind: 'validate',
    tables: ['customers'],
    columns: ['cnpj'],
    optional: true,
    action: 'flag',
    predicate: `regexp_full_match({value}, '[0-9A-Z]{12}[0-9]{2}') AND dp_is_valid_cnpj({value})`,
  },

  // --- null handling -------------------------------------------------------------------
  {
    name: 'empty_row',
    description: 'a row with every column empty is not data: dropped from silver (kept in quarantine)',
    kind: 'null',
    tables: ['products', 'customers', 'transactions'],
    columns: '*',
    when: 'all',
    action: 'drop',
  },
  required(['products', 'transactions'], 'product_code'),
  required(['products'], 'name'),
  required(['products'], 'list_price'),
  required(['customers', 'transactions'], 'customer_id'),
  required(['customers'], 'created_at'),
  required(['transactions'], 'transaction_id'),
  required(['transactions'], 'quantity'),
  required(['transactions'], 'unit_price'),
  required(['transactions'], 'status'),
  required(['transactions'], 'city'),
  required(['transactions'], 'state'),
  required(['transactions'], 'sold_at'),
  {
    name: 'payment_method_default',
    description: "a missing payment method becomes 'unknown'",
    kind: 'null',
    tables: ['transactions'],
    columns: ['payment_method'],
    action: 'fill',
    fill: "'unknown'",
  },
  {
    name: 'missing_product_attribute',
    description: 'a product without brand, manufacturer or segment is kept and flagged',
    kind: 'null',
    tables: ['products'],
    columns: ['brand', 'manufacturer', 'segment'],
    action: 'flag',
  },
  {
    name: 'missing_customer_cpf',
    description: 'a customer without CPF is kept and flagged',
    kind: 'null',
    tables: ['customers'],
    columns: ['cpf'],
    action: 'flag',
  },
  {
    name: 'missing_customer_name',
    description: 'a customer without name is kept and flagged',
    kind: 'null',
    tables: ['customers'],
    columns: ['name'],
    action: 'flag',
  },

  // --- referential integrity -----------------------------------------------------------
  {
    name: 'known_customer',
    description: 'the customer exists in silver customers of that day or earlier',
    kind: 'reference',
    tables: ['transactions'],
    columns: ['customer_id'],
    action: 'quarantine',
    references: { table: 'customers', column: 'customer_id' },
  },
  {
    name: 'known_product',
    description: 'the product exists in silver products of that day or earlier',
    kind: 'reference',
    tables: ['transactions'],
    columns: ['product_code'],
    action: 'quarantine',
    references: { table: 'products', column: 'product_code' },
  },

  // --- deduplication -------------------------------------------------------------------
  {
    name: 'exact_duplicate',
    description: 'a row identical to an earlier one (every raw column) is counted, not stored',
    kind: 'dedup',
    tables: ['products', 'customers', 'transactions'],
    columns: [],
    action: 'drop',
  },
  {
    name: 'transaction_id_duplicate',
    description: 'one row per transaction_id: the latest sold_at (then the last row) is kept',
    kind: 'dedup',
    tables: ['transactions'],
    columns: ['transaction_id'],
    action: 'drop',
    latest: 'sold_at DESC NULLS LAST, _row_number DESC',
  },
  {
    name: 'customer_id_duplicate',
    description: 'one row per customer_id: the last row is kept',
    kind: 'dedup',
    tables: ['customers'],
    columns: ['customer_id'],
    action: 'drop',
    latest: '_row_number DESC',
  },
  {
    name: 'product_code_duplicate',
    description: 'one row per product_code: the last row is kept',
    kind: 'dedup',
    tables: ['products'],
    columns: ['product_code'],
    action: 'drop',
    latest: '_row_number DESC',
  },
];

/** The rules that apply to a table, in library order. */
export function rulesForTable(table: SourceTable, rules: readonly CleaningRule[] = cleaningRules): CleaningRule[] {
  return rules.filter((rule) => rule.tables.includes(table));
}
