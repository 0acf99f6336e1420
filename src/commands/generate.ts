import Table from 'cli-table3';
import { yesterday } from '../dates.js';
import { generateDays } from '../sources/synthetic.js';
import type { CommandContext, CommandResult } from './context.js';

export interface GenerateOptions {
  /** Days to write; default: yesterday in São Paulo. */
  days?: string[];
  /** Customers in the base (default 5000). */
  customers?: number;
  /** Transactions on a weekday; weekends sell 30% more (default 2000). */
  transactionsPerDay?: number;
  /** Share of rows given real-export dirt, 0..1 (default 0.03; 0 gives clean data). */
  dirtyRate?: number;
  /** The same seed gives the same files (default 42). */
  seed?: number;
}

/** What `generate --json` prints. */
export interface GenerateData {
  days: Record<string, { customers: number; products: number; transactions: number }>;
  seed: number;
  dirty_rate: number;
}

/** `dataprod generate`: synthetic bronze CSVs for each day, like a nightly export. */
export async function generate(options: GenerateOptions, context: CommandContext): Promise<CommandResult<GenerateData>> {
  const days = options.days ?? [yesterday(context.now)];
  const seed = options.seed ?? 42;
  const dirtyRate = options.dirtyRate ?? 0.03;
  const result = await generateDays({
    home: context.home,
    days,
    customers: options.customers ?? 5000,
    transactionsPerDay: options.transactionsPerDay ?? 2000,
    dirtyRate,
    seed,
    now: context.now,
    logger: context.logger,
  });
  const data: GenerateData = { days: result.days, seed, dirty_rate: dirtyRate };

  const table = new Table({
    head: ['day', 'customers.csv', 'products.csv', 'transactions.csv'],
    colAligns: ['left', 'right', 'right', 'right'],
    style: { head: [], border: [] },
  });
  for (const [day, rows] of Object.entries(result.days)) table.push([day, rows.customers, rows.products, rows.transactions]);
  const text = `${table.toString()}\nbronze written under ${context.home}/bronze (seed ${seed}, dirty rate ${dirtyRate})`;
  return { data, text };
}
