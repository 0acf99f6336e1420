import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { buildSteps, cleanSteps, deliverSteps, extractSteps, remoteDataset } from './run-lineage.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

async function touch(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '');
}

const day = '2026-11-20';

describe('run lineage steps', () => {
  it('give each table and day its own extract and clean step', async () => {
    await touch(join(home, 'silver/transactions/date=2026-11-20/data.parquet'));
    await touch(join(home, 'quarantine/transactions/date=2026-11-20/data.parquet'));
    await touch(join(home, 'silver/products/date=2026-11-20/data.parquet'));
    expect(extractSteps(home, [day], ['transactions'])).toEqual([{ job: 'transactions', key: day, outputs: [join(home, 'bronze/transactions/date=2026-11-20')] }]);
    expect(cleanSteps(home, [day], ['products', 'transactions'])).toEqual([
      { job: 'products', key: day, inputs: [join(home, 'bronze/products/date=2026-11-20')], outputs: [join(home, 'silver/products/date=2026-11-20/data.parquet')] },
      {
        job: 'transactions',
        key: day,
        inputs: [join(home, 'bronze/transactions/date=2026-11-20')],
        outputs: [join(home, 'silver/transactions/date=2026-11-20/data.parquet'), join(home, 'quarantine/transactions/date=2026-11-20/data.parquet')],
      },
    ]);
  });

  it('build gold from the silver files the report read, then each package file from gold; deliver each file from its own source', async () => {
    const dir = join(home, 'outbox/ouchhungry/daily-analytic', day);
    const names = [`ouchhungry_daily-analytic_${day}.csv`, `ouchhungry_daily-analytic_${day}.parquet`, 'manifest.json', 'SHA256SUMS'];
    for (const name of names) await touch(join(dir, name));
    const gold = join(home, 'gold/ouchhungry/daily-analytic', day, 'data.parquet');
    const silver = [join(home, 'silver/transactions/date=2026-11-20/data.parquet'), join(home, 'silver/products/date=2026-11-19/data.parquet')];
    const built = {
      report: 'daily-analytic',
      period: day,
      gold,
      inputs: silver,
      outbox: { dir, manifest: { files: [{ name: names[0]!, format: 'csv' }, { name: names[1]!, format: 'parquet' }] } },
    };
    expect(buildSteps([built])).toEqual([
      { job: 'daily-analytic', key: day, inputs: silver, outputs: [gold] },
      { job: 'daily-analytic.render', key: day, inputs: [gold], outputs: names.map((name) => join(dir, name)) },
    ]);

    const sftp = { destination: 'partner-sftp', type: 'sftp', location: 'sftp://sftp.example:22/inbound/daily-analytic/2026-11-20/', files: [{ name: names[0]! }] };
    const api = { destination: 'partner-api', type: 'api', location: 'https://api.example/v1/rows', files: [{ name: `ouchhungry_daily-analytic_${day}.batch-0001-of-0001.json` }] };
    expect(deliverSteps([{ built, receipt: sftp }, { built, receipt: api }])).toEqual([
      { job: 'partner-sftp', key: `daily-analytic/${day}/${names[0]}`, inputs: [join(dir, names[0]!)], outputs: [{ namespace: 'sftp://sftp.example:22', name: `/inbound/daily-analytic/2026-11-20/${names[0]}` }] },
      // A row batch is not a file of the package: its rows come from the Parquet rendering.
      { job: 'partner-api', key: `daily-analytic/${day}/${api.files[0]!.name}`, inputs: [join(dir, names[1]!)], outputs: [{ namespace: 'https://api.example', name: `/v1/rows#${api.files[0]!.name}` }] },
    ]);
    expect(remoteDataset({ destination: 'archive', type: 'local', location: '/srv/archive/daily', files: [] }, 'a.csv')).toEqual({ namespace: 'file://', name: '/srv/archive/daily/a.csv' });
  });
});
