/**
 * The dirt `--dirty-rate` injects, modelled on what real exports contain. A dirty row
 * gets exactly one kind, chosen by weight; an exact or near duplicate adds one extra row.
 * `repairable` says whether a cleaner can fix the value without guessing (a format it can
 * parse) or must quarantine the row (garbage, impossible values, unknown references).
 * Cleaning tests and the benchmark use these lists to know what to expect.
 */
export interface DirtKind {
  /** Stable name, snake_case. */
  name: string;
  /** What the dirty value looks like. */
  description: string;
  /** Relative frequency among the dirty rows of the table. */
  weight: number;
  /** True when a cleaner can recover the clean value from the dirty one. */
  repairable: boolean;
}

export const TRANSACTION_DIRT: readonly DirtKind[] = [
  { name: 'null_customer_id', description: 'customer_id empty', weight: 5, repairable: false },
  { name: 'null_field', description: 'one of product_code, quantity, unit_price, status, payment_method, city, state, sold_at empty', weight: 10, repairable: false },
  { name: 'exact_duplicate', description: 'the row appears twice, byte for byte', weight: 10, repairable: true },
  { name: 'near_duplicate', description: 'a second row with the same transaction_id, product code lower-cased and padded, city and status upper-cased', weight: 6, repairable: true },
  { name: 'price_brl', description: "unit_price as 'R$ 1.234,56'", weight: 8, repairable: true },
  { name: 'price_decimal_comma', description: "unit_price as '12,50'", weight: 6, repairable: true },
  { name: 'date_br', description: "sold_at as 'dd/mm/yyyy HH:MM' (São Paulo time)", weight: 8, repairable: true },
  { name: 'date_epoch', description: 'sold_at as Unix epoch seconds', weight: 5, repairable: true },
  { name: 'date_iso_variant', description: "sold_at as UTC ISO 'yyyy-mm-ddTHH:MM:SSZ' or 'yyyy-mm-dd HH:MM:SS' without offset (São Paulo time)", weight: 4, repairable: true },
  { name: 'date_garbage', description: "sold_at is not a date: 'ontem', '31/02/2026', '00/00/0000', 'N/D'...", weight: 4, repairable: false },
  { name: 'late_arrival', description: 'sold_at on the previous day: belongs to another partition', weight: 2, repairable: false },
  { name: 'product_code_case', description: "product_code lower-case and padded: ' sku-hng-0001 '", weight: 8, repairable: true },
  { name: 'quantity_negative', description: "quantity negative: '-2'", weight: 3, repairable: false },
  { name: 'quantity_text', description: "quantity in words: 'dois', 'um', 'três unidades'", weight: 3, repairable: false },
  { name: 'unknown_customer', description: 'customer_id not in the customer base', weight: 4, repairable: false },
  { name: 'unknown_product', description: "product_code well-formed but not in the catalogue ('SKU-HNG-9042')", weight: 3, repairable: false },
  { name: 'status_case', description: "status upper-case or padded: 'COMPLETED', ' completed '", weight: 4, repairable: true },
  { name: 'state_case', description: "state lower-case: 'sp'", weight: 3, repairable: true },
  { name: 'city_case', description: "city upper-case: 'SÃO PAULO'", weight: 4, repairable: true },
];

export const CUSTOMER_DIRT: readonly DirtKind[] = [
  { name: 'null_field', description: 'one of name, email, cpf, phone, cep, city, created_at empty', weight: 12, repairable: false },
  { name: 'exact_duplicate', description: 'the row appears twice, byte for byte', weight: 8, repairable: true },
  { name: 'near_duplicate', description: 'a second row with the same customer_id, name upper-cased and padded, e-mail upper-cased', weight: 8, repairable: true },
  { name: 'email_malformed', description: "e-mail without '@', with '@@', a space or no top-level domain", weight: 9, repairable: false },
  { name: 'email_case', description: 'e-mail upper-case', weight: 6, repairable: true },
  { name: 'cep_no_dash', description: "CEP as 8 digits '01310100'", weight: 8, repairable: true },
  { name: 'cep_wrong_length', description: "CEP with 7 or 9 digits ('01310-10', '01310-1000')", weight: 5, repairable: false },
  { name: 'phone_format', description: "phone as '11987654321', '+5511987654321', '(11)98765-4321', '011 98765-4321'...", weight: 13, repairable: true },
  { name: 'phone_no_area_code', description: "phone without DDD: '98765-4321'", weight: 3, repairable: false },
  { name: 'cpf_digits_only', description: "CPF as 11 digits without punctuation", weight: 6, repairable: true },
  { name: 'cpf_invalid', description: 'CPF with a wrong check digit', weight: 6, repairable: false },
  { name: 'created_at_format', description: "created_at as 'dd/mm/yyyy HH:MM', epoch seconds or 'yyyy-mm-dd HH:MM:SS'", weight: 6, repairable: true },
  { name: 'created_at_garbage', description: "created_at is not a date: 'ontem', '31/02/2026'...", weight: 2, repairable: false },
  { name: 'name_case', description: 'name upper-case with surrounding spaces', weight: 4, repairable: true },
  { name: 'state_case', description: "state lower-case: 'sp'", weight: 4, repairable: true },
];

/** Products are a small curated catalogue: their dirt is rare and always repairable. */
export const PRODUCT_DIRT: readonly DirtKind[] = [
  { name: 'product_code_case', description: "product_code lower-case and padded: ' sku-hng-0001 '", weight: 3, repairable: true },
  { name: 'price_brl', description: "list_price as 'R$ 7,49'", weight: 2, repairable: true },
  { name: 'price_decimal_comma', description: "list_price as '7,49'", weight: 2, repairable: true },
  { name: 'exact_duplicate', description: 'the row appears twice, byte for byte', weight: 2, repairable: true },
  { name: 'name_spaces', description: 'name with trailing spaces', weight: 1, repairable: true },
];

/** Products get this fraction of the dirty rate ("rarely"). */
export const PRODUCT_DIRT_SHARE = 1 / 3;

/** Resolution of the 16-bit uniforms taken from hash bits. */
const UNIT = 65536;

/** Kind codes: 0 is clean, then 1.. in list order. */
export function dirtCode(kinds: readonly DirtKind[], name: string): number {
  const index = kinds.findIndex((kind) => kind.name === name);
  if (index < 0) throw new Error(`unknown dirt kind ${name}`);
  return index + 1;
}

/**
 * SQL that yields the dirt code of a row: 0 unless `decide` (a 0..65535 uniform) falls
 * under the rate, then a kind picked by weight with `pick` (another 0..65535 uniform).
 */
export function dirtCaseSql(kinds: readonly DirtKind[], rate: number, decide: string, pick: string): string {
  const threshold = Math.round(Math.min(Math.max(rate, 0), 1) * UNIT);
  if (threshold === 0) return '0';
  const total = kinds.reduce((sum, kind) => sum + kind.weight, 0);
  let running = 0;
  const branches = kinds.map((kind, index) => {
    running += kind.weight;
    const bound = index === kinds.length - 1 ? UNIT : Math.round((running / total) * UNIT);
    return `WHEN ${pick} < ${bound} THEN ${index + 1}`;
  });
  return `CASE WHEN ${decide} >= ${threshold} THEN 0 ${branches.join(' ')} ELSE ${kinds.length} END`;
}
