import { daysOfMonth, previousMonth } from '../../dates.js';
import { DataError } from '../../errors.js';
import { silverFile, silverTableDir } from '../../lake/layout.js';
import { readReportSql, renderSql } from '../sql.js';
import { listSilverDays, requireProductFilesUpTo } from '../silver.js';
import type { ReportColumn, ReportDefinition, ReportOutput, ReportRunContext } from '../types.js';

/** The partner's contract: exactly these names, in this order, with these types. */
export const monthlyByCityColumns: readonly ReportColumn[] = [
  { name: 'month', type: 'VARCHAR', description: 'YYYY-MM (São Paulo calendar)' },
  { name: 'state', type: 'VARCHAR', description: 'two-letter UF' },
  { name: 'city', type: 'VARCHAR', description: "city, or OUTRAS: the state's cities whose cell had fewer than k customers, merged" },
  { name: 'product_code', type: 'VARCHAR', description: 'product code (SKU)' },
  { name: 'product_name', type: 'VARCHAR', description: "product name from the latest catalogue up to the month's end" },
  { name: 'segment', type: 'VARCHAR', description: 'product segment' },
  { name: 'units_sold', type: 'BIGINT', description: 'units sold in completed sales' },
  { name: 'gross_revenue', type: 'DECIMAL(18,2)', description: 'sum of unit_price x units in BRL' },
  { name: 'avg_unit_price', type: 'DECIMAL(12,2)', description: 'gross_revenue / units_sold, rounded half up to cents' },
  { name: 'min_unit_price', type: 'DECIMAL(12,2)', description: 'lowest unit price charged' },
  { name: 'max_unit_price', type: 'DECIMAL(12,2)', description: 'highest unit price charged' },
  { name: 'orders', type: 'BIGINT', description: 'completed sales (transactions)' },
  { name: 'customers_reached', type: 'BIGINT', description: 'distinct customers (always >= k)' },
  {
    name: 'segment_share_units',
    type: 'DECIMAL(5,4)',
    description: "units_sold / units of the product's segment in the city, every brand counted (0..1, 4 decimals); NULL for OUTRAS and where withheld for privacy",
  },
  {
    name: 'segment_share_revenue',
    type: 'DECIMAL(5,4)',
    description: "gross_revenue / revenue of the product's segment in the city, every brand counted (0..1, 4 decimals); NULL for OUTRAS and where withheld for privacy",
  },
  {
    name: 'units_mom_change',
    type: 'BIGINT',
    description: "units_sold minus the same row's units_sold in the previous month's report; NULL when that row was absent or hidden",
  },
];

const querySql = new URL('./query.sql', import.meta.url);

interface MonthlySummaryRow {
  cells: bigint;
  cells_published: bigint;
  cells_merged: bigint;
  cells_suppressed: bigint;
  outras_rows: bigint;
  rows_suppressed: bigint;
  rows_suppressed_complementary: bigint;
  shares_withheld: bigint;
  suppressed_units: bigint;
  suppressed_revenue: string;
  previous_month_sales: bigint;
}

/** monthly-by-city (period YYYY-MM): per state, city and partner product, k-anonymised. */
export const monthlyByCity: ReportDefinition = {
  name: 'monthly-by-city',
  periodKind: 'month',
  description:
    "Per state, city and partner product for a month: units, revenue, prices, orders, customers, segment shares (every brand counted) and the change against last month; cells below k customers merged into OUTRAS or suppressed.",
  reads: [
    'silver/transactions date in month M and M-1 (the days present)',
    "silver/products date<=last day of M (latest row per product_code)",
  ],
  parameters: {
    month: "'YYYY-MM' the month reported",
    previous_month: "'YYYY-MM' the month before, for units_mom_change",
    transactions_files: 'silver transactions partitions of both months',
    products_files: "silver products snapshots up to the month's last day",
    brands: "the partner's brands (config products.brands)",
    manufacturer: "the partner's manufacturer (config products.manufacturer) or NULL",
    k: 'minimum distinct customers behind any shared figure (config privacy.k)',
  },
  columns: monthlyByCityColumns,
  totals: { units: 'units_sold', revenue: 'gross_revenue' },
  async run({ duck, home, config, period, logger }: ReportRunContext): Promise<ReportOutput> {
    const month = period;
    const previous = previousMonth(month);
    const expected = daysOfMonth(month);
    const present = new Set(listSilverDays(home, 'transactions'));
    const days = expected.filter((day) => present.has(day));
    const missing = expected.filter((day) => !present.has(day));
    if (days.length === 0) {
      throw new DataError(`no silver transactions for any day of ${month} (looked in ${silverTableDir(home, 'transactions')})`, {
        hint: `clean the month first: dataprod clean --from ${expected[0]} --to ${expected[expected.length - 1]}`,
      });
    }
    if (missing.length > 0) {
      // Built on the days present and said so in the manifest: the quality gate decides.
      logger.warn(`monthly-by-city ${month}: ${missing.length} of ${expected.length} days have no silver transactions (${missing[0]}...); figures cover ${days.length} days`);
    }
    const previousDays = daysOfMonth(previous).filter((day) => present.has(day));
    const transactionFiles = days.map((day) => silverFile(home, 'transactions', day));
    const previousFiles = previousDays.map((day) => silverFile(home, 'transactions', day));
    const productFiles = requireProductFilesUpTo(home, expected[expected.length - 1]!);
    const sql = renderSql(
      await readReportSql(querySql),
      {
        month,
        previous_month: previous,
        transactions_files: [...previousFiles, ...transactionFiles],
        products_files: productFiles,
        brands: config.products.brands,
        manufacturer: config.products.manufacturer ?? null,
        k: config.privacy.k,
      },
      'monthly-by-city/query.sql',
    );
    await duck.run(sql);
    const [figures] = await duck.json<Record<keyof MonthlySummaryRow, string | number>>('SELECT * FROM monthly_by_city_summary');
    const count = (name: keyof MonthlySummaryRow): number => Number(figures![name]);
    return {
      table: 'monthly_by_city',
      summary: {
        k: config.privacy.k,
        cells: count('cells'),
        cells_published: count('cells_published'),
        cells_merged: count('cells_merged'),
        cells_suppressed: count('cells_suppressed'),
        outras_rows: count('outras_rows'),
        rows_suppressed: count('rows_suppressed'),
        rows_suppressed_complementary: count('rows_suppressed_complementary'),
        shares_withheld: count('shares_withheld'),
        days_expected: expected.length,
        days_present: days.length,
        days_missing: missing.join(','),
        previous_month_days: previousDays.length,
      },
      suppressed: { units: BigInt(figures!.suppressed_units), revenue: String(figures!.suppressed_revenue) },
      scope: { transactionFiles, productFiles, from: expected[0]!, to: expected[expected.length - 1]! },
      reads: [...previousFiles, ...transactionFiles, ...productFiles],
    };
  },
};
