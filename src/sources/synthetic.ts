import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Logger } from 'winston';
import { parseDate } from '../dates.js';
import { UsageError } from '../errors.js';
import { replaceDirAtomic } from '../lake/atomic.js';
import { DuckSession, sqlString } from '../lake/duckdb.js';
import { bronzeDir, type SourceTable } from '../lake/layout.js';
import { BR_CITIES, BR_STATES } from './br-cities.js';
import { CATALOG, WEEKEND_SEGMENT_BOOST } from './synthetic-catalog.js';
import { buildCustomerBase, saoPauloDayStart, SYNTHETIC_HISTORY_START, type SyntheticCustomer } from './synthetic-customers.js';
import { CUSTOMER_DIRT, dirtCaseSql, dirtCode, PRODUCT_DIRT, PRODUCT_DIRT_SHARE, TRANSACTION_DIRT } from './synthetic-dirt.js';

export { PRODUCT_CODE_PATTERN, PRODUCT_CODE_REGEX, PARTNER_MANUFACTURER, CATALOG } from './synthetic-catalog.js';
export { TRANSACTION_DIRT, CUSTOMER_DIRT, PRODUCT_DIRT, type DirtKind } from './synthetic-dirt.js';
export { SYNTHETIC_HISTORY_START, SYNTHETIC_BASE_COMPLETE } from './synthetic-customers.js';

export interface GenerateOptions {
  /** Lake home directory. */
  home: string;
  /** Days to write (YYYY-MM-DD, São Paulo calendar days). */
  days: string[];
  /** Size of the customer base (reached on SYNTHETIC_BASE_COMPLETE; smaller before). */
  customers: number;
  /** Transactions on a weekday; Saturdays and Sundays get 30% more. */
  transactionsPerDay: number;
  /** Share of rows given real-export dirt, 0..1 (0: perfectly clean data). */
  dirtyRate: number;
  /** Same seed and options give byte-identical data files. */
  seed: number;
  /** Leave a day alone when its three bronze partitions exist (or any came from ingest). */
  onlyMissing?: boolean;
  /** Parallel DuckDB writers (default: the cores, at most 4); the bytes written do not depend on it. */
  workers?: number;
  /** Clock for `written_at` in _source.json; defaults to the current time. */
  now?: Date;
  logger?: Logger;
}

/** Rows written (or found, for a skipped day) per table. */
export interface GeneratedDay {
  customers: number;
  products: number;
  transactions: number;
}

export interface GenerateResult {
  /** Per day, rows per table (duplicates injected as dirt included). */
  days: Record<string, GeneratedDay>;
  /** Days written by this call. */
  generated: string[];
  /** Days left as they were (onlyMissing). */
  skipped: string[];
  seed: number;
  dirtyRate: number;
}

/** Bronze columns of each table, in file order (the source contract). */
const COLUMNS: Record<SourceTable, readonly string[]> = {
  customers: ['customer_id', 'name', 'email', 'cpf', 'phone', 'cep', 'city', 'state', 'created_at'],
  products: ['product_code', 'name', 'brand', 'manufacturer', 'segment', 'list_price'],
  transactions: ['transaction_id', 'customer_id', 'product_code', 'quantity', 'unit_price', 'status', 'payment_method', 'city', 'state', 'sold_at'],
};

/** Parallel single-threaded DuckDB sessions writing slices of a day. */
const MAX_WORKERS = 4;
/** Each worker streams; this bounds what a spill-free day can hold. */
const WORKER_MEMORY = '512MB';

/** Weekends sell this much more than weekdays. */
export const WEEKEND_VOLUME_FACTOR = 1.3;

/** Orders per hour of the day in São Paulo: lunch and dinner peaks of a delivery app. */
const HOURLY_WEIGHTS = [1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.2, 2.6, 3.5, 7.5, 9.5, 6.5, 3.8, 3.5, 4.0, 5.0, 7.5, 10.0, 10.5, 8.5, 5.5, 3.0];
const SECONDS_PER_DAY = 86_400;
/** Product choice is an equi-join on (state, bucket): weights are resolved to 1/4096. */
const PICK_BUCKETS = 4096;
/** Price tiers within a city: different stores sell the same product at different prices. */
const PRICE_TIERS = [0.95, 1.0, 1.07];
const GARBAGE_DATES = (year: string) => ['ontem', `31/02/${year}`, '00/00/0000', 'N/D', `${year}-13-45`, '#VALOR!'];
const QUANTITY_WORDS = ['dois', 'um', 'três unidades', 'duas'];

/** Number of transactions generated for a day (before duplicates injected as dirt). */
export function transactionsForDay(day: string, transactionsPerDay: number): number {
  const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
  return weekday === 0 || weekday === 6 ? Math.round(transactionsPerDay * WEEKEND_VOLUME_FACTOR) : transactionsPerDay;
}

function validate(options: GenerateOptions): void {
  if (options.days.length === 0) throw new UsageError('no days to generate', { hint: 'give --from (and --to)' });
  for (const day of options.days) {
    parseDate(day, '--from/--to');
    // Customers sign up from SYNTHETIC_HISTORY_START on: its first day has nobody to sell to yet.
    if (day <= SYNTHETIC_HISTORY_START) throw new UsageError(`no synthetic data for ${day}: the simulated marketplace opens on ${SYNTHETIC_HISTORY_START}`, { hint: 'generate a day after it' });
  }
  if (!Number.isInteger(options.customers) || options.customers < 1) throw new UsageError(`--customers ${options.customers} must be a whole number >= 1`);
  if (!Number.isInteger(options.transactionsPerDay) || options.transactionsPerDay < 0) throw new UsageError(`--transactions-per-day ${options.transactionsPerDay} must be a whole number >= 0`);
  if (!(options.dirtyRate >= 0 && options.dirtyRate <= 1)) throw new UsageError(`--dirty-rate ${options.dirtyRate} must be between 0 and 1`, { hint: 'e.g. --dirty-rate 0.03' });
  if (!Number.isInteger(options.seed) || options.seed < 0) throw new UsageError(`--seed ${options.seed} must be a whole number >= 0`);
}

interface SourceMeta {
  source?: string;
  rows?: number;
}

async function readSourceMeta(home: string, table: SourceTable, day: string): Promise<SourceMeta | undefined> {
  try {
    return JSON.parse(await readFile(join(bronzeDir(home, table, day), '_source.json'), 'utf8')) as SourceMeta;
  } catch {
    return undefined;
  }
}

/**
 * What is already in bronze for a day: `complete` when all three tables are there;
 * `foreign` when any partition came from somewhere else (ingest), which the generator
 * must never overwrite.
 */
async function existingDay(home: string, day: string): Promise<{ complete: boolean; foreign: boolean; rows: GeneratedDay }> {
  const metas = await Promise.all((['customers', 'products', 'transactions'] as const).map((table) => readSourceMeta(home, table, day)));
  return {
    complete: metas.every(Boolean),
    foreign: metas.some((meta) => meta !== undefined && meta.source !== 'synthetic'),
    rows: { customers: metas[0]?.rows ?? 0, products: metas[1]?.rows ?? 0, transactions: metas[2]?.rows ?? 0 },
  };
}

/**
 * Writes the synthetic bronze partitions (customers, products, transactions) of each
 * day. Dimensions come from faker and fixed tables; facts are generated inside DuckDB
 * from `range(n)` with hashes of (seed, day, row) as randomness, so ten million rows
 * take seconds and the same seed gives the same bytes.
 */
export async function generateDays(options: GenerateOptions): Promise<GenerateResult> {
  validate(options);
  const result: GenerateResult = { days: {}, generated: [], skipped: [], seed: options.seed, dirtyRate: options.dirtyRate };
  const todo: string[] = [];
  for (const day of options.days) {
    if (options.onlyMissing) {
      const existing = await existingDay(options.home, day);
      if (existing.complete || existing.foreign) {
        if (!existing.complete) options.logger?.warn(`bronze ${day} is incomplete but holds ingested data: not generating synthetic data over it`);
        result.days[day] = existing.rows;
        result.skipped.push(day);
        continue;
      }
    }
    todo.push(day);
  }
  if (todo.length === 0) return result;

  const spill = await mkdtemp(join(tmpdir(), 'dataprod-spill-'));
  // One single-threaded DuckDB per core: each writes a contiguous slice of the day's rows
  // in row order, so the file is the same bytes whatever the number of cores.
  const workers: DuckSession[] = [];
  try {
    const started = Date.now();
    const count = Math.max(1, options.workers ?? Math.min(availableParallelism(), MAX_WORKERS));
    for (let k = 0; k < count; k++) {
      const duck = await DuckSession.open({ threads: 1, memoryLimit: WORKER_MEMORY, tempDirectory: join(spill, String(k)) });
      workers.push(duck);
      // Keep the joins as written (range as the probe side, dimensions as build sides):
      // left to itself DuckDB builds on the range when a slice is smaller than a
      // dimension, and rows would come out in dimension order instead of row order.
      await duck.run(`SET disabled_optimizers = 'join_order,build_side_probe_side'`);
    }
    const base = buildCustomerBase(options.customers, options.seed);
    await Promise.all(workers.map((duck) => loadDimensions(duck, base, options.seed)));
    options.logger?.debug(`customer base of ${base.length} and dimensions ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const day of todo) {
      const dayStarted = Date.now();
      result.days[day] = await generateDay(workers, options, day);
      result.generated.push(day);
      const rows = result.days[day];
      options.logger?.info(
        `generated ${day}: ${rows.customers} customers, ${rows.products} products, ${rows.transactions} transactions (${((Date.now() - dayStarted) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    for (const duck of workers) duck.close();
    await rm(spill, { recursive: true, force: true });
  }
  return result;
}

/** Generates only the days whose bronze data is absent: what `run` calls before cleaning. */
export function ensureSyntheticDays(options: Omit<GenerateOptions, 'onlyMissing'>): Promise<GenerateResult> {
  return generateDays({ ...options, onlyMissing: true });
}

function values(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return rows.map((row) => `(${row.map((value) => (typeof value === 'number' ? String(value) : sqlString(value))).join(', ')})`).join(',\n');
}

/** Inverse of the hourly order curve: the second of the day for each of 86,400 equal-probability slots. */
function clockSeconds(): number[] {
  const total = HOURLY_WEIGHTS.reduce((sum, weight) => sum + weight, 0);
  const seconds: number[] = [];
  let hour = 0;
  let below = 0;
  for (let slot = 0; slot < SECONDS_PER_DAY; slot++) {
    const q = ((slot + 0.5) / SECONDS_PER_DAY) * total;
    while (hour < 23 && q >= below + HOURLY_WEIGHTS[hour]!) below += HOURLY_WEIGHTS[hour++]!;
    const within = Math.min(3599, Math.floor(((q - below) / HOURLY_WEIGHTS[hour]!) * 3600));
    seconds.push(hour * 3600 + within);
  }
  return seconds;
}

async function loadDimensions(duck: DuckSession, base: SyntheticCustomer[], seed: number): Promise<void> {
  const stateIndex = new Map(BR_STATES.map((state, index) => [state.uf, index]));
  await duck.run(`CREATE OR REPLACE TABLE g_states (state_idx INTEGER, uf VARCHAR, price_level DOUBLE)`);
  await duck.run(`INSERT INTO g_states VALUES ${values(BR_STATES.map((state, index) => [index, state.uf, state.priceLevel]))}`);
  await duck.run(`CREATE OR REPLACE TABLE g_cities_raw (city_idx INTEGER, city VARCHAR, state VARCHAR, state_idx INTEGER, population INTEGER)`);
  await duck.run(`INSERT INTO g_cities_raw VALUES ${values(BR_CITIES.map((city, index) => [index, city.name, city.uf, stateIndex.get(city.uf)!, city.population]))}`);
  // A city's price level: its state's, give or take 3%, fixed for a seed.
  await duck.run(`
    CREATE OR REPLACE TABLE g_cities AS
    SELECT c.*, s.price_level * (0.97 + (hash(${seed}, c.city_idx, 'city') % 601) / 10000.0) AS price_level
    FROM g_cities_raw c JOIN g_states s USING (state_idx)`);

  await duck.run(`CREATE OR REPLACE TABLE g_products (product_idx INTEGER, code VARCHAR, letters VARCHAR, name VARCHAR, brand VARCHAR, manufacturer VARCHAR, segment VARCHAR, list_price DECIMAL(10,2), popularity DOUBLE, weekend_boost DOUBLE)`);
  await duck.run(
    `INSERT INTO g_products VALUES ${values(
      CATALOG.map((product, index) => [index, product.code, product.code.slice(4, 7), product.name, product.brand, product.manufacturer, product.segment, product.listPrice, product.popularity, WEEKEND_SEGMENT_BOOST[product.segment] ?? 1]),
    )}`,
  );

  await duck.run(`
    CREATE OR REPLACE TABLE g_customers (
      cust_idx INTEGER, customer_id VARCHAR, name VARCHAR, email VARCHAR, cpf VARCHAR, phone VARCHAR, ddd VARCHAR, mobile VARCHAR,
      cep VARCHAR, city VARCHAR, state VARCHAR, city_idx INTEGER, state_idx INTEGER, created_at VARCHAR, created_epoch BIGINT)`);
  const appender = await duck.connection.createAppender('g_customers');
  try {
    for (const customer of base) {
      appender.appendInteger(customer.index);
      appender.appendVarchar(customer.customerId);
      appender.appendVarchar(customer.name);
      appender.appendVarchar(customer.email);
      appender.appendVarchar(customer.cpf);
      appender.appendVarchar(customer.phone);
      appender.appendVarchar(customer.ddd);
      appender.appendVarchar(customer.mobile);
      appender.appendVarchar(customer.cep);
      appender.appendVarchar(customer.city);
      appender.appendVarchar(customer.state);
      appender.appendInteger(customer.cityIndex);
      appender.appendInteger(stateIndex.get(customer.state)!);
      appender.appendVarchar(customer.createdAt);
      appender.appendBigInt(BigInt(customer.createdEpoch));
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }

  await duck.run(`CREATE OR REPLACE TABLE g_clock (slot INTEGER, sec INTEGER)`);
  const clock = await duck.connection.createAppender('g_clock');
  try {
    clockSeconds().forEach((sec, slot) => {
      clock.appendInteger(slot);
      clock.appendInteger(sec);
      clock.endRow();
    });
    clock.flushSync();
  } finally {
    clock.closeSync();
  }
}

/** A 16-bit uniform (0..65535) from bits `shift`.. of a UBIGINT hash expression. */
function bits16(hash: string, shift: number): string {
  return `((${hash} >> ${shift}) & 65535)::INTEGER`;
}

async function generateDay(workers: DuckSession[], options: GenerateOptions, day: string): Promise<GeneratedDay> {
  const dayNumber = Number(day.replaceAll('-', ''));
  const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
  const weekend = weekday === 0 || weekday === 6;
  const context: DayContext = { seed: options.seed, day, dayNumber, weekend, dayStart: saoPauloDayStart(day), year: day.slice(0, 4) };
  const [first] = workers as [DuckSession];

  const products = await writePartition(options, 'products', day, (path) => copyProducts(first, context, options.dirtyRate * PRODUCT_DIRT_SHARE, path));
  const customers = await writePartition(options, 'customers', day, (path) => copyCustomers(first, context, options.dirtyRate, path));
  const transactions = await writePartition(options, 'transactions', day, (path) => copyTransactions(workers, context, options, path));
  return { customers, products, transactions };
}

interface DayContext {
  seed: number;
  day: string;
  /** yyyymmdd, mixed into every hash. */
  dayNumber: number;
  weekend: boolean;
  /** Unix seconds of the day's start in São Paulo. */
  dayStart: number;
  year: string;
}

interface Written {
  rows: number;
  /** Known when the writer hashed the file on the way. */
  sha256?: string;
}

/** Fills a bronze partition through a temporary directory, then swaps it in whole. */
async function writePartition(options: GenerateOptions, table: SourceTable, day: string, write: (path: string) => Promise<Written>): Promise<number> {
  const file = `${table}.csv`;
  return replaceDirAtomic(bronzeDir(options.home, table, day), async (dir) => {
    const path = join(dir, file);
    const { rows, sha256 } = await write(path);
    const source = {
      file,
      format: 'csv',
      delimiter: ',',
      encoding: 'utf-8',
      header: true,
      columns: COLUMNS[table],
      extra_columns: [],
      rows,
      sha256: sha256 ?? (await sha256File(path)),
      source: 'synthetic',
      written_at: (options.now ?? new Date()).toISOString(),
      generator: { seed: options.seed, customers: options.customers, transactions_per_day: options.transactionsPerDay, dirty_rate: options.dirtyRate },
    };
    await writeFile(join(dir, '_source.json'), `${JSON.stringify(source, null, 2)}\n`);
    return rows;
  });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function copyTo(duck: DuckSession, query: string, path: string, header = true): Promise<number> {
  const rows = await duck.all<{ Count: bigint | number }>(`COPY (${query}) TO ${sqlString(path)} (FORMAT csv, HEADER ${header}, DELIMITER ',')`);
  return Number(rows[0]?.Count ?? 0);
}

/** Concatenates part files into `path`, hashing on the way (one read of the data instead of two). */
async function concatenate(parts: string[], path: string): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  try {
    for (const part of parts) {
      for await (const chunk of createReadStream(part, { highWaterMark: 1 << 22 })) {
        hash.update(chunk as Buffer);
        if (!out.write(chunk)) await once(out, 'drain');
      }
      await rm(part);
    }
  } finally {
    out.end();
    await finished(out);
  }
  return hash.digest('hex');
}

/** 'R$ 1.234,56' from a DECIMAL expression. */
function brlSql(amount: string): string {
  return `'R$ ' || replace(replace(replace(format('{:,.2f}', (${amount})::DOUBLE), ',', '_'), '.', ','), '_', '.')`;
}

function sqlList(items: readonly string[]): string {
  return `[${items.map(sqlString).join(', ')}]`;
}

async function copyProducts(duck: DuckSession, context: DayContext, rate: number, path: string): Promise<Written> {
  const kind = (name: string) => dirtCode(PRODUCT_DIRT, name);
  const h = `hash(${context.seed}, ${context.dayNumber}, product_idx, 'product')`;
  const query = `
    WITH marked AS (
      SELECT *, ${dirtCaseSql(PRODUCT_DIRT, rate, bits16(h, 0), bits16(h, 16))} AS dirt FROM g_products
    ), copies AS (
      SELECT *, unnest(CASE WHEN dirt = ${kind('exact_duplicate')} THEN [0, 1] ELSE [0] END) AS copy FROM marked
    )
    SELECT
      CASE WHEN dirt = ${kind('product_code_case')} THEN ' ' || lower(code) || ' ' ELSE code END AS product_code,
      CASE WHEN dirt = ${kind('name_spaces')} THEN name || '   ' ELSE name END AS name,
      brand, manufacturer, segment,
      CASE WHEN dirt = ${kind('price_brl')} THEN ${brlSql('list_price')}
           WHEN dirt = ${kind('price_decimal_comma')} THEN replace(list_price::VARCHAR, '.', ',')
           ELSE list_price::VARCHAR END AS list_price
    FROM copies ORDER BY product_idx, copy`;
  return { rows: await copyTo(duck, query, path) };
}

async function copyCustomers(duck: DuckSession, context: DayContext, rate: number, path: string): Promise<Written> {
  const kind = (name: string) => dirtCode(CUSTOMER_DIRT, name);
  const h = `hash(${context.seed}, ${context.dayNumber}, cust_idx, 'customer')`;
  const isNull = (field: number) => `(dirt = ${kind('null_field')} AND detail % 7 = ${field})`;
  const nearCopy = `(dirt = ${kind('near_duplicate')} AND copy = 1)`;
  const local = `to_timestamp(created_epoch)::TIMESTAMP`; // session time zone: São Paulo
  const query = `
    WITH marked AS (
      SELECT *, ${dirtCaseSql(CUSTOMER_DIRT, rate, bits16(h, 0), bits16(h, 16))} AS dirt, ${bits16(h, 32)} AS detail
      FROM g_customers WHERE created_epoch < ${context.dayStart}
    ), copies AS (
      SELECT *, unnest(CASE WHEN dirt IN (${kind('exact_duplicate')}, ${kind('near_duplicate')}) THEN [0, 1] ELSE [0] END) AS copy FROM marked
    )
    SELECT
      customer_id,
      CASE WHEN ${isNull(0)} THEN NULL
           WHEN dirt = ${kind('name_case')} OR ${nearCopy} THEN '  ' || upper(name) || ' '
           ELSE name END AS name,
      CASE WHEN ${isNull(1)} THEN NULL
           WHEN dirt = ${kind('email_case')} OR ${nearCopy} THEN upper(email)
           WHEN dirt = ${kind('email_malformed')} THEN CASE detail % 4
             WHEN 0 THEN regexp_replace(email, '\\.[a-z.]+$', '')
             WHEN 1 THEN replace(email, '@', '')
             WHEN 2 THEN replace(email, '@', '@@')
             ELSE regexp_replace(email, '[._@]', ' ') END
           ELSE email END AS email,
      CASE WHEN ${isNull(2)} THEN NULL
           WHEN dirt = ${kind('cpf_digits_only')} THEN replace(replace(cpf, '.', ''), '-', '')
           WHEN dirt = ${kind('cpf_invalid')} THEN left(cpf, 13) || ((right(cpf, 1)::INTEGER + 1) % 10)::VARCHAR
           ELSE cpf END AS cpf,
      CASE WHEN ${isNull(3)} THEN NULL
           WHEN dirt = ${kind('phone_format')} THEN CASE detail % 6
             WHEN 0 THEN ddd || mobile
             WHEN 1 THEN '+55' || ddd || mobile
             WHEN 2 THEN '(' || ddd || ')' || left(mobile, 5) || '-' || right(mobile, 4)
             WHEN 3 THEN ddd || ' ' || left(mobile, 5) || ' ' || right(mobile, 4)
             WHEN 4 THEN '0' || ddd || ' ' || left(mobile, 5) || '-' || right(mobile, 4)
             ELSE '55 (' || ddd || ') ' || left(mobile, 1) || ' ' || substr(mobile, 2, 4) || '-' || right(mobile, 4) END
           WHEN dirt = ${kind('phone_no_area_code')} THEN left(mobile, 5) || '-' || right(mobile, 4)
           ELSE phone END AS phone,
      CASE WHEN ${isNull(4)} THEN NULL
           WHEN dirt = ${kind('cep_no_dash')} THEN replace(cep, '-', '')
           WHEN dirt = ${kind('cep_wrong_length')} THEN CASE WHEN detail % 2 = 0 THEN left(cep, 8) ELSE cep || '0' END
           ELSE cep END AS cep,
      CASE WHEN ${isNull(5)} THEN NULL ELSE city END AS city,
      CASE WHEN dirt = ${kind('state_case')} THEN lower(state) ELSE state END AS state,
      CASE WHEN ${isNull(6)} THEN NULL
           WHEN dirt = ${kind('created_at_format')} THEN CASE detail % 3
             WHEN 0 THEN strftime(${local}, '%d/%m/%Y %H:%M')
             WHEN 1 THEN created_epoch::VARCHAR
             ELSE strftime(${local}, '%Y-%m-%d %H:%M:%S') END
           WHEN dirt = ${kind('created_at_garbage')} THEN ${sqlList(GARBAGE_DATES(context.year))}[detail % 6 + 1]
           ELSE created_at END AS created_at
    FROM copies ORDER BY cust_idx, copy`;
  return { rows: await copyTo(duck, query, path) };
}

/** The small per-day tables the transaction query joins to (built in every worker). */
async function prepareDayTables(duck: DuckSession, context: DayContext): Promise<number> {
  const { seed, dayNumber } = context;
  await duck.run(`
    CREATE OR REPLACE TABLE g_day_customers AS
    SELECT (row_number() OVER (ORDER BY cust_idx) - 1)::INTEGER AS pick_idx, customer_id, city_idx, state_idx
    FROM g_customers WHERE created_epoch < ${context.dayStart}`);
  const productCount = CATALOG.length;

  // Which product a row buys: weights = popularity x a regional taste fixed per seed x
  // the weekend boost of its segment, resolved to PICK_BUCKETS buckets per state.
  await duck.run(`
    CREATE OR REPLACE TABLE g_pick AS
    WITH weights AS (
      SELECT s.state_idx, p.product_idx,
        p.popularity * (0.7 + (hash(${seed}, s.state_idx, p.product_idx, 'taste') % 6001) / 10000.0)
          * ${context.weekend ? 'p.weekend_boost' : '1'} AS w
      FROM g_states s, g_products p
    ), bounds AS (
      SELECT state_idx, product_idx,
        round(sum(w) OVER (PARTITION BY state_idx ORDER BY product_idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
              / sum(w) OVER (PARTITION BY state_idx) * ${PICK_BUCKETS})::INTEGER AS hi
      FROM weights
    ), ranges AS (
      SELECT state_idx, product_idx, coalesce(lag(hi) OVER (PARTITION BY state_idx ORDER BY product_idx), 0) AS lo, hi FROM bounds
    )
    SELECT (r.state_idx * ${PICK_BUCKETS} + b.bucket)::INTEGER AS pick_key, r.product_idx
    FROM ranges r JOIN range(${PICK_BUCKETS}) b(bucket) ON b.bucket >= r.lo AND b.bucket < r.hi`);

  // What a product costs in a city today, per store tier: list price x city level x a
  // national promotion on some days x a daily wobble, rounded to end in 9 cents.
  await duck.run(`
    CREATE OR REPLACE TABLE g_offer AS
    WITH priced AS (
      SELECT c.city_idx, p.product_idx, t.tier, p.code, p.letters, c.city, c.state,
        (round((p.list_price * c.price_level
          * CASE WHEN hash(${seed}, ${dayNumber}, p.product_idx, 'promo') % 100 < 12 THEN 0.85 ELSE 1 END
          * (0.97 + (hash(${seed}, ${dayNumber}, c.city_idx, p.product_idx, 'price') % 601) / 10000.0)
          * ${`[${PRICE_TIERS.join(', ')}]`}[t.tier + 1])::DECIMAL(14,4), 1) - 0.01)::DECIMAL(12,2) AS price
      FROM g_cities c, g_products p, range(${PRICE_TIERS.length}) t(tier)
    )
    SELECT ((city_idx * ${productCount} + product_idx) * ${PRICE_TIERS.length} + tier)::INTEGER AS offer_key,
      code, letters, city, state, upper(city) AS city_upper, lower(state) AS state_lower, ' ' || lower(code) || ' ' AS code_padded,
      price::VARCHAR AS unit_price, replace(price::VARCHAR, '.', ',') AS unit_price_comma, ${brlSql('price')} AS unit_price_brl
    FROM priced`);

  // sold_at in every shape the dirt may need, per slot of the day.
  const local = `(DATE '${context.day}' + to_seconds(sec))`;
  await duck.run(`
    CREATE OR REPLACE TABLE g_day_clock AS
    SELECT slot,
      strftime(${local}, '%Y-%m-%dT%H:%M:%S') || '-03:00' AS sold_at,
      strftime(${local}, '%d/%m/%Y %H:%M') AS sold_at_br,
      (${context.dayStart} + sec)::VARCHAR AS sold_at_epoch,
      strftime(${local} + INTERVAL 3 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS sold_at_utc,
      strftime(${local}, '%Y-%m-%d %H:%M:%S') AS sold_at_naive,
      strftime(${local} - INTERVAL 1 DAY, '%Y-%m-%dT%H:%M:%S') || '-03:00' AS sold_at_late
    FROM g_clock`);
  const [{ m } = { m: 0 }] = await duck.json<{ m: number }>(`SELECT count(*)::INTEGER AS m FROM g_day_customers`);
  return m;
}

/** Rows below this are not worth splitting across workers. */
const MIN_ROWS_PER_WORKER = 200_000;

async function copyTransactions(workers: DuckSession[], context: DayContext, options: GenerateOptions, path: string): Promise<Written> {
  const eligible = await Promise.all(workers.map((duck) => prepareDayTables(duck, context)));
  const m = eligible[0]!;
  // Nobody to sell to (a tiny base early in the history): an empty day, not an error.
  const n = m === 0 ? 0 : transactionsForDay(context.day, options.transactionsPerDay);
  // An explicit worker count (tests) splits even small days.
  const slices = Math.max(1, Math.min(workers.length, options.workers ? n : Math.floor(n / MIN_ROWS_PER_WORKER)));
  if (slices === 1) {
    const rows = await copyTo(workers[0]!, transactionQuery(context, options, m, n, 0, n), path);
    return { rows };
  }
  const bounds = Array.from({ length: slices + 1 }, (_, k) => Math.round((n * k) / slices));
  const parts = bounds.slice(1).map((_, k) => `${path}.part-${k}`);
  const counts = await Promise.all(
    parts.map((part, k) => copyTo(workers[k]!, transactionQuery(context, options, m, n, bounds[k]!, bounds[k + 1]!), part, k === 0)),
  );
  const sha256 = await concatenate(parts, path);
  return { rows: counts.reduce((sum, count) => sum + count, 0), sha256 };
}

/**
 * The day's transactions for rows [start, end) of n: one streaming query over
 * `range`, joined to the small day tables, with the dirt applied at the end.
 */
function transactionQuery(context: DayContext, options: GenerateOptions, m: number, n: number, start: number, end: number): string {
  const { seed, dayNumber } = context;
  const productCount = CATALOG.length;
  const kind = (name: string) => dirtCode(TRANSACTION_DIRT, name);
  const isNull = (field: number) => `(dirt = ${kind('null_field')} AND detail % 8 = ${field})`;
  const nearCopy = `(dirt = ${kind('near_duplicate')} AND copy = 1)`;
  // Clean rows (the vast majority) take the first branch; the rest only see the dirty ones.
  const column = (clean: string, dirtyBranches: string, alias = clean) => `CASE WHEN dirt = 0 THEN ${clean} ${dirtyBranches} ELSE ${clean} END AS ${alias}`;
  const idWidth = Math.max(7, String(n).length);
  // Ids above the base never exist; wide enough that lpad cannot truncate one into a real id.
  const unknownWidth = Math.max(7, String(options.customers + 65_536).length);
  const h1 = `hash(${seed}, ${dayNumber}, i, 1)`;
  const h2 = `hash(${seed}, ${dayNumber}, i, 2)`;
  const h3 = `hash(${seed}, ${dayNumber}, i, 3)`;
  // Every join below has a small build side and the range as its probe side; on one
  // thread rows stream out in row order: ids follow time, and the bytes never change.
  return `
    WITH base AS (
      SELECT i, ${h1} AS h1, ${h2} AS h2, ${h3} AS h3 FROM range(${start}, ${end}) r(i)
    ), keyed AS (
      SELECT i, h2, h3,
        -- older customers buy more often: a skewed pick over signup order
        least(floor(${m} * pow(h1 / 18446744073709551616.0, 1.35)), ${Math.max(m - 1, 0)})::INTEGER AS pick_idx,
        ((2 * i + 1) * ${SECONDS_PER_DAY} // ${2 * Math.max(n, 1)})::INTEGER AS slot
      FROM base
    ), with_customer AS (
      SELECT k.*, c.customer_id, c.city_idx, c.state_idx FROM keyed k JOIN g_day_customers c ON c.pick_idx = k.pick_idx
    ), with_product AS (
      SELECT w.*, p.product_idx FROM with_customer w JOIN g_pick p ON p.pick_key = w.state_idx * ${PICK_BUCKETS} + (w.h2 & ${PICK_BUCKETS - 1})::INTEGER
    ), offered AS (
      SELECT w.i, w.h2, w.h3, w.slot, w.customer_id, o.*
      FROM with_product w JOIN g_offer o
        ON o.offer_key = (w.city_idx * ${productCount} + w.product_idx) * ${PRICE_TIERS.length} + (${bits16('w.h3', 0)} % ${PRICE_TIERS.length})
    ), timed AS (
      SELECT o.*, t.* EXCLUDE (slot) FROM offered o JOIN g_day_clock t ON t.slot = o.slot
    ), marked AS (
      SELECT *,
        ${dirtCaseSql(TRANSACTION_DIRT, options.dirtyRate, bits16('h3', 16), bits16('h3', 32))} AS dirt,
        ${bits16('h3', 48)} AS detail,
        CASE WHEN ${bits16('h2', 16)} < 36045 THEN '1' WHEN ${bits16('h2', 16)} < 53740 THEN '2' WHEN ${bits16('h2', 16)} < 59638 THEN '3'
             WHEN ${bits16('h2', 16)} < 62915 THEN '4' WHEN ${bits16('h2', 16)} < 64225 THEN '5' ELSE '6' END AS qty,
        CASE WHEN ${bits16('h2', 32)} < 3277 THEN 'cancelled' WHEN ${bits16('h2', 32)} < 3932 THEN 'refunded' ELSE 'completed' END AS status,
        CASE WHEN ${bits16('h2', 48)} < 27525 THEN 'pix' WHEN ${bits16('h2', 48)} < 47186 THEN 'credit_card'
             WHEN ${bits16('h2', 48)} < 56361 THEN 'debit_card' WHEN ${bits16('h2', 48)} < 60948 THEN 'cash' ELSE 'voucher' END AS payment_method
      FROM timed
    ), copies AS (
      SELECT *, unnest(CASE WHEN dirt IN (${kind('exact_duplicate')}, ${kind('near_duplicate')}) THEN [0, 1] ELSE [0] END) AS copy FROM marked
    )
    SELECT
      'T${dayNumber}-' || lpad((i + 1)::VARCHAR, ${idWidth}, '0') AS transaction_id,
      ${column('customer_id', `
           WHEN dirt = ${kind('null_customer_id')} THEN NULL
           WHEN dirt = ${kind('unknown_customer')} THEN 'C' || lpad((${options.customers} + 1 + detail)::VARCHAR, ${unknownWidth}, '0')`)},
      ${column('code', `
           WHEN ${isNull(0)} THEN NULL
           WHEN dirt = ${kind('product_code_case')} OR ${nearCopy} THEN code_padded
           WHEN dirt = ${kind('unknown_product')} THEN 'SKU-' || letters || '-9' || lpad((detail % 1000)::VARCHAR, 3, '0')`, 'product_code')},
      ${column('qty', `
           WHEN ${isNull(1)} THEN NULL
           WHEN dirt = ${kind('quantity_negative')} THEN '-' || qty
           WHEN dirt = ${kind('quantity_text')} THEN ${sqlList(QUANTITY_WORDS)}[detail % ${QUANTITY_WORDS.length} + 1]`, 'quantity')},
      ${column('unit_price', `
           WHEN ${isNull(2)} THEN NULL
           WHEN dirt = ${kind('price_brl')} THEN unit_price_brl
           WHEN dirt = ${kind('price_decimal_comma')} THEN unit_price_comma`)},
      ${column('status', `
           WHEN ${isNull(3)} THEN NULL
           WHEN dirt = ${kind('status_case')} THEN CASE WHEN detail % 2 = 0 THEN upper(status) ELSE ' ' || status || ' ' END
           WHEN ${nearCopy} THEN upper(status)`)},
      ${column('payment_method', `WHEN ${isNull(4)} THEN NULL`)},
      ${column('city', `WHEN ${isNull(5)} THEN NULL WHEN dirt = ${kind('city_case')} OR ${nearCopy} THEN city_upper`)},
      ${column('state', `WHEN ${isNull(6)} THEN NULL WHEN dirt = ${kind('state_case')} THEN state_lower`)},
      ${column('sold_at', `
           WHEN ${isNull(7)} THEN NULL
           WHEN dirt = ${kind('date_br')} THEN sold_at_br
           WHEN dirt = ${kind('date_epoch')} THEN sold_at_epoch
           WHEN dirt = ${kind('date_iso_variant')} THEN CASE WHEN detail % 2 = 0 THEN sold_at_utc ELSE sold_at_naive END
           WHEN dirt = ${kind('date_garbage')} THEN ${sqlList(GARBAGE_DATES(context.year))}[detail % 6 + 1]
           WHEN dirt = ${kind('late_arrival')} THEN sold_at_late`)}
    FROM copies`;
}
