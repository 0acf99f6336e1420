import { fileURLToPath } from 'node:url';
import { dateRange } from '../../src/dates.js';
import { withDuck, sqlString, type DuckSession } from '../../src/lake/duckdb.js';
import { silverFile } from '../../src/lake/layout.js';
import { withAtomicFile } from '../../src/lake/atomic.js';
import { parsePartnerConfig, type PartnerConfig } from '../../src/partners/config.js';

/** fixtures/golden/: the hand-checked silver dataset and the expected report outputs. */
export const goldenDir = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));

/** First and last day the golden transactions cover (every day gets a partition, most empty). */
export const GOLDEN_FROM = '2026-10-01';
export const GOLDEN_TO = '2026-11-30';

/** The pseudonymization key the expected outputs were computed with (see fixtures/golden/README.md). */
export const GOLDEN_SECRET = 'golden-test-key-0123456789abcdefghijklmnopqrstuvwxyz';

/** The partner configuration of the golden tests: OuchHungry with k = 5 and every format. */
export const GOLDEN_PARTNER_YAML = `partner: ouchhungry
display_name: OuchHungry
products:
  brands: [Hungry, Ouch]
  manufacturer: OuchHungry
segments: [refrigerantes, salgados]
reports:
  daily-analytic:
    formats: [csv, parquet, json, xlsx]
  monthly-by-city:
    formats: [csv, parquet, json, xlsx]
render:
  csv:
    delimiter: ";"
    decimal_mark: ","
    bom: true
privacy:
  k: 5
notifications:
  data_team_recipients: [data-team@example.com]
`;

export function goldenPartnerConfig(): PartnerConfig {
  return parsePartnerConfig(GOLDEN_PARTNER_YAML, 'golden partner configuration');
}

function csv(name: string): string {
  return sqlString(`${goldenDir}silver/${name}.csv`);
}

async function copyTo(duck: DuckSession, select: string, target: string): Promise<void> {
  await withAtomicFile(target, (tmp) => duck.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet)`));
}

/**
 * Writes the golden silver dataset under `<home>/silver/`, typed as clean writes silver
 * (quantity INTEGER, prices DECIMAL(12,2), sold_at TIMESTAMPTZ...), so report tests do not
 * depend on generate or clean. Products and customers go to their snapshot days;
 * transactions to the São Paulo day of sold_at, with an empty partition for every other
 * day from `from` to `to` (a month is then complete).
 */
export async function writeGoldenSilver(home: string, options: { from?: string; to?: string; skipDays?: string[] } = {}): Promise<void> {
  const days = dateRange(options.from ?? GOLDEN_FROM, options.to ?? GOLDEN_TO).filter((day) => !options.skipDays?.includes(day));
  await withDuck(
    async (duck) => {
      await duck.run(`
        CREATE TEMP TABLE g_products AS
        SELECT CAST(snapshot_date AS DATE) AS snapshot_date, product_code, name, brand, manufacturer, segment,
               CAST(list_price AS DECIMAL(12,2)) AS list_price
        FROM read_csv(${csv('products')}, header = true, all_varchar = true);
        CREATE TEMP TABLE g_customers AS
        SELECT CAST(snapshot_date AS DATE) AS snapshot_date, customer_id, name, email, cpf, phone, cep, city, state,
               CAST(created_at AS TIMESTAMPTZ) AS created_at
        FROM read_csv(${csv('customers')}, header = true, all_varchar = true);
        CREATE TEMP TABLE g_transactions AS
        SELECT transaction_id, customer_id, product_code, CAST(quantity AS INTEGER) AS quantity,
               CAST(unit_price AS DECIMAL(12,2)) AS unit_price, status, payment_method, city, state,
               CAST(sold_at AS TIMESTAMPTZ) AS sold_at
        FROM read_csv(${csv('transactions')}, header = true, all_varchar = true);
      `);
      for (const table of ['products', 'customers'] as const) {
        const snapshots = await duck.json<{ day: string }>(`SELECT DISTINCT strftime(snapshot_date, '%Y-%m-%d') AS day FROM g_${table} ORDER BY day`);
        for (const { day } of snapshots) {
          await copyTo(duck, `SELECT * EXCLUDE (snapshot_date) FROM g_${table} WHERE snapshot_date = DATE ${sqlString(day)}`, silverFile(home, table, day));
        }
      }
      for (const day of days) {
        await copyTo(
          duck,
          `SELECT * FROM g_transactions WHERE CAST(timezone('America/Sao_Paulo', sold_at) AS DATE) = DATE ${sqlString(day)} ORDER BY sold_at`,
          silverFile(home, 'transactions', day),
        );
      }
    },
    { threads: 1 },
  );
}
