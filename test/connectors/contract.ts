import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/errors.js';
import type { Connector, DeliveryReceipt } from '../../src/connectors/types.js';
import type { OutboxPackage, PackageManifest } from '../../src/render/package.js';

/**
 * The shared contract every file-delivering connector passes (unstorage's testDriver
 * idea): run it from each connector's test against a real destination.
 */

/** What the suite asks of a destination set up for one test. */
export interface ContractSetup {
  /** A fresh temporary lake home for this test. */
  home: string;
  /**
   * Faults to inject: `transient` ones fail the first `times` attempts (then delivery
   * succeeds); `terminal` ones fail every attempt.
   */
  fault?: { kind: 'transient' | 'terminal'; times: number };
}

/** A connector under test plus ways to look at its destination. */
export interface ContractHarness {
  connector: Connector;
  /** Every entry now in the destination directory of `pkg` (hidden temporaries included); [] when it does not exist. */
  listDelivered(pkg: OutboxPackage): Promise<string[]>;
  /** A delivered file's content. */
  readDelivered(pkg: OutboxPackage, name: string): Promise<Buffer>;
  /** How many injected faults have fired so far. */
  faultsFired(): number;
  /** Stops servers and closes the connector. */
  close(): Promise<void>;
}

export type MakeConnector = (setup: ContractSetup) => Promise<ContractHarness>;

const sha256 = (content: Buffer | string) => createHash('sha256').update(content).digest('hex');

/**
 * Writes an outbox package as `build` leaves it: data files named
 * <partner>_<report>_<period>.<ext>, manifest.json and SHA256SUMS. The CSV is `csvBytes`
 * long so a connection can be cut in the middle of it.
 */
export async function writeContractPackage(
  home: string,
  options: { partner?: string; report?: string; period?: string; csvBytes?: number; seed?: string } = {},
): Promise<OutboxPackage> {
  const partner = options.partner ?? 'acme';
  const report = options.report ?? 'daily-analytic';
  const period = options.period ?? '2026-11-20';
  const dir = join(home, 'outbox', partner, report, period);
  await mkdir(dir, { recursive: true });
  const stem = `${partner}_${report}_${period}`;
  const header = 'sale_date;product_code;units;revenue\n';
  const seed = options.seed ?? 'a';
  const lines: string[] = [header];
  let size = header.length;
  for (let i = 0; size < (options.csvBytes ?? 96 * 1024); i += 1) {
    const line = `${period};${seed.toUpperCase()}-${String(i % 97).padStart(3, '0')};${(i % 5) + 1};${(i * 1.37).toFixed(2).replace('.', ',')}\n`;
    lines.push(line);
    size += line.length;
  }
  const csv = Buffer.from(lines.join(''));
  const json = Buffer.from(JSON.stringify({ period, rows: lines.length - 1, seed }));
  await writeFile(join(dir, `${stem}.csv`), csv);
  await writeFile(join(dir, `${stem}.json`), json);
  const manifest: PackageManifest = {
    partner,
    report,
    period,
    rows: lines.length - 1,
    files: [
      { name: `${stem}.csv`, bytes: csv.length, sha256: sha256(csv), format: 'csv', rows: lines.length - 1 },
      { name: `${stem}.json`, bytes: json.length, sha256: sha256(json), format: 'json', rows: lines.length - 1 },
    ],
    columns: [
      { name: 'sale_date', type: 'DATE' },
      { name: 'product_code', type: 'VARCHAR' },
      { name: 'units', type: 'INTEGER' },
      { name: 'revenue', type: 'DECIMAL(14,2)' },
    ],
    summary: { units: 0, revenue: '0.00' },
    generated_at: '2026-11-21T09:30:00.000Z',
    tool_version: '0.0.0-test',
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(join(dir, 'manifest.json'), manifestText);
  const sums = [...manifest.files.map((file) => `${file.sha256}  ${file.name}`), `${sha256(manifestText)}  manifest.json`];
  await writeFile(join(dir, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  return { dir, manifest };
}

/** The names a complete delivery of `pkg` leaves, in delivery order. */
export function expectedNames(pkg: OutboxPackage): string[] {
  return [...pkg.manifest.files.map((file) => file.name), 'manifest.json', 'SHA256SUMS'];
}

/** Runs the connector contract against destinations made by `makeConnector`. */
export function describeConnectorContract(name: string, makeConnector: MakeConnector): void {
  describe(`connector contract: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setUp(fault?: ContractSetup['fault']) {
      const home = await mkdtemp(join(tmpdir(), `dataprod-contract-${name}-`));
      cleanups.push(() => rm(home, { recursive: true, force: true }));
      const harness = await makeConnector({ home, fault });
      cleanups.push(() => harness.close());
      const pkg = await writeContractPackage(home, { seed: randomBytes(2).toString('hex') });
      return { home, harness, pkg };
    }

    async function expectComplete(harness: ContractHarness, pkg: OutboxPackage) {
      const listed = await harness.listDelivered(pkg);
      expect([...listed].sort()).toEqual([...expectedNames(pkg)].sort());
      for (const file of expectedNames(pkg)) {
        expect(sha256(await harness.readDelivered(pkg, file)), file).toBe(sha256(await readFile(join(pkg.dir, file))));
      }
    }

    it('check() passes every row against a working destination', async () => {
      const { harness } = await setUp();
      const results = await harness.connector.check();
      expect(results.length).toBeGreaterThan(0);
      for (const result of results) expect(result, `${result.check}: ${result.detail}`).toMatchObject({ ok: true });
    });

    it('deliver() puts every data file, manifest.json and SHA256SUMS, and a second delivery is idempotent', async () => {
      const { harness, pkg } = await setUp();
      const receipt = await harness.connector.deliver(pkg);
      expect(receipt.files.map((file) => file.name)).toEqual(expectedNames(pkg));
      expect(receipt.retries).toBe(0);
      expect(receipt.bytes).toBeGreaterThan(0);
      await expectComplete(harness, pkg);

      const again = await harness.connector.deliver(pkg);
      // The same files; transfer figures (ms, MB/s, how each was verified) may differ.
      const identity = (files: DeliveryReceipt['files']) => files.map(({ name, bytes, sha256 }) => ({ name, bytes, sha256 }));
      expect(identity(again.files)).toEqual(identity(receipt.files));
      await expectComplete(harness, pkg);
    });

    it('a changed package replaces the delivered files (no stale copy, no duplicate)', async () => {
      const { home, harness, pkg } = await setUp();
      await harness.connector.deliver(pkg);
      const changed = await writeContractPackage(home, { seed: 'zz' });
      await harness.connector.deliver(changed);
      await expectComplete(harness, changed);
    });

    it('a terminal failure is not retried', async () => {
      const { harness, pkg } = await setUp({ kind: 'terminal', times: 1 });
      const error = await harness.connector.deliver(pkg).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(TerminalError);
      expect(harness.faultsFired()).toBe(1);
      // Nothing arrived, not even a temporary file.
      expect(await harness.listDelivered(pkg)).toEqual([]);
    });

    it('a transient failure is retried and the delivery completes', async () => {
      const { harness, pkg } = await setUp({ kind: 'transient', times: 2 });
      const receipt = await harness.connector.deliver(pkg);
      expect(harness.faultsFired()).toBe(2);
      expect(receipt.retries).toBe(2);
      await expectComplete(harness, pkg);
    });
  });
}
