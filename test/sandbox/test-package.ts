import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlString, withDuck } from '../../src/lake/duckdb.js';
import { outboxDir } from '../../src/lake/layout.js';
import type { OutboxPackage, PackageManifest } from '../../src/render/package.js';

/**
 * A small daily-analytic outbox package for connector tests (API, e-mail): a Parquet and
 * a JSON rendering, manifest.json and SHA256SUMS, laid out as `build` leaves them.
 * Only pseudonymous keys, as in the real report.
 */
export async function writeTestPackage(home: string, options: { partner?: string; period?: string; rows?: number } = {}): Promise<OutboxPackage> {
  const partner = options.partner ?? 'ouchhungry';
  const period = options.period ?? '2026-11-20';
  const report = 'daily-analytic';
  const count = options.rows ?? 25;
  const dir = outboxDir(home, partner, report, period);
  await mkdir(dir, { recursive: true });
  const stem = `${partner}_${report}_${period}`;
  const parquet = join(dir, `${stem}.parquet`);
  const json = join(dir, `${stem}.json`);
  const select = `
    SELECT DATE ${sqlString(period)} AS sale_date,
           (TIME '08:00:00' + INTERVAL (i) MINUTE)::TIME AS sale_time,
           'o' || lpad(i::VARCHAR, 6, '0') AS order_key,
           CASE WHEN i % 2 = 0 THEN 'HUN-001' ELSE 'OUC-002' END AS product_code,
           CASE WHEN i % 2 = 0 THEN 'Hungry Cola 350ml' ELSE 'Ouch Chips 90g' END AS product_name,
           CASE WHEN i % 2 = 0 THEN 'refrigerantes' ELSE 'salgados' END AS segment,
           'Maringá' AS city, 'PR' AS state,
           (4.50 + i / 100)::DECIMAL(12,2) AS unit_price,
           (1 + i % 3)::INTEGER AS units,
           ((4.50 + i / 100) * (1 + i % 3))::DECIMAL(12,2) AS line_total,
           'pix' AS payment_method,
           'c' || lpad((i % 7)::VARCHAR, 6, '0') AS customer_key
    FROM range(${count}) t(i)`;
  const totals = await withDuck(async (duck) => {
    await duck.run(`COPY (${select}) TO ${sqlString(parquet)} (FORMAT parquet)`);
    await duck.run(`COPY (${select}) TO ${sqlString(json)} (FORMAT json, ARRAY true)`);
    const [row] = await duck.json<{ units: number; revenue: string }>(`SELECT sum(units)::BIGINT AS units, sum(line_total)::VARCHAR AS revenue FROM read_parquet(${sqlString(parquet)})`);
    return row!;
  }, { threads: 1 });
  const describe = async (name: string, format: string) => {
    const content = await readFile(join(dir, name));
    return { name, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex'), format, rows: count };
  };
  const manifest: PackageManifest = {
    partner,
    report,
    period,
    rows: count,
    files: [await describe(`${stem}.parquet`, 'parquet'), await describe(`${stem}.json`, 'json')],
    columns: [],
    summary: { units: Number(totals.units ?? 0), revenue: totals.revenue ?? '0.00' },
    generated_at: '2026-11-21T09:30:00.000Z',
    tool_version: '0.0.0-test',
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const sums = [...manifest.files.map((file) => `${file.sha256}  ${file.name}`), `${createHash('sha256').update(await readFile(join(dir, 'manifest.json'))).digest('hex')}  manifest.json`];
  await writeFile(join(dir, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  return { dir, manifest };
}
