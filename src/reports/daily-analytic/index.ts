import { readReportSql, renderSql } from '../sql.js';
import { requireProductFilesUpTo, requireSilverFiles } from '../silver.js';
import type { ReportColumn, ReportDefinition, ReportOutput, ReportRunContext } from '../types.js';

/** The partner's contract: exactly these names, in this order, with these types. */
export const dailyAnalyticColumns: readonly ReportColumn[] = [
  { name: 'sale_date', type: 'DATE', description: 'São Paulo calendar day of the sale' },
  { name: 'sale_time', type: 'TIME', description: 'São Paulo wall-clock time of the sale, to the second' },
  { name: 'order_key', type: 'VARCHAR', description: 'pseudonymous order id: hex HMAC-SHA256 of "order:<transaction_id>" under the partner key' },
  { name: 'product_code', type: 'VARCHAR', description: 'product code (SKU)' },
  { name: 'product_name', type: 'VARCHAR', description: 'product name from the latest catalogue on or before the day' },
  { name: 'segment', type: 'VARCHAR', description: 'product segment' },
  { name: 'city', type: 'VARCHAR', description: 'city of the sale' },
  { name: 'state', type: 'VARCHAR', description: 'two-letter UF of the sale' },
  { name: 'unit_price', type: 'DECIMAL(12,2)', description: 'price per unit in BRL' },
  { name: 'units', type: 'INTEGER', description: 'units sold' },
  { name: 'line_total', type: 'DECIMAL(18,2)', description: 'unit_price x units in BRL' },
  { name: 'payment_method', type: 'VARCHAR', description: 'payment method' },
  { name: 'customer_key', type: 'VARCHAR', description: 'pseudonymous customer id: hex HMAC-SHA256 of "customer:<customer_id>" under the partner key' },
];

const querySql = new URL('./query.sql', import.meta.url);

/** daily-analytic (period YYYY-MM-DD): one row per completed sale of the partner's products. */
export const dailyAnalytic: ReportDefinition = {
  name: 'daily-analytic',
  periodKind: 'day',
  description: "One row per completed sale of the partner's products on a São Paulo day, customers and orders pseudonymised.",
  reads: ['silver/transactions date=D', 'silver/products date<=D (latest row per product_code)'],
  parameters: {
    date: "'YYYY-MM-DD' the day reported",
    transactions_file: 'silver transactions partition of the day',
    products_files: 'silver products snapshots on or before the day',
    brands: "the partner's brands (config products.brands)",
    manufacturer: "the partner's manufacturer (config products.manufacturer) or NULL",
  },
  columns: dailyAnalyticColumns,
  totals: { units: 'units', revenue: 'line_total' },
  async run({ duck, home, config, period }: ReportRunContext): Promise<ReportOutput> {
    const transactionFiles = requireSilverFiles(home, 'transactions', [period]);
    const productFiles = requireProductFilesUpTo(home, period);
    const sql = renderSql(
      await readReportSql(querySql),
      {
        date: period,
        transactions_file: transactionFiles[0]!,
        products_files: productFiles,
        brands: config.products.brands,
        manufacturer: config.products.manufacturer ?? null,
      },
      'daily-analytic/query.sql',
    );
    await duck.run(sql);
    const [figures] = await duck.all<{ rows: bigint; orders: bigint; customers: bigint }>(
      'SELECT count(*) AS rows, count(DISTINCT order_key) AS orders, count(DISTINCT customer_key) AS customers FROM daily_analytic',
    );
    return {
      table: 'daily_analytic',
      summary: {
        orders: Number(figures!.orders),
        customers: Number(figures!.customers),
        // The daily report hides nothing: every sale is a row (keys are pseudonyms).
        cells_merged: 0,
        cells_suppressed: 0,
      },
      suppressed: { units: 0n, revenue: '0.00' },
      scope: { transactionFiles, productFiles, from: period, to: period },
      reads: [...transactionFiles, ...productFiles],
    };
  },
};
