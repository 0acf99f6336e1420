import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDays, businessDate, previousMonth, yesterday } from '../../src/dates.js';
import { makeTempHome } from '../helpers.js';
import { lineageValidators } from '../lineage-schema.js';
import { listFiles, readJson, runCli, startCli, waitFor } from './cli.js';

// End to end: the real bin/dataprod.js as a subprocess on a temporary home, real DuckDB,
// and for --sandbox the real SFTP, API and SMTP servers on loopback.

const now = new Date();
const day = yesterday(now);
const lastMonth = previousMonth(businessDate(now).slice(0, 7));
const small = ['--customers', '800', '--transactions-per-day', '300'];
const TEST_KEY = 'q3X9vJ0b2kYw7LrT5nEe1uHc8sPa4zMd6gFo0iQyWtU';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-e2e-')));
afterEach(async () => cleanup());

async function generate(from: string, to = from, extra: string[] = []): Promise<void> {
  const result = await runCli(home, ['generate', '--from', from, '--to', to, ...small, ...extra]);
  expect(result.code, result.stderr).toBe(0);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The Subject header with RFC 2047 encoded words decoded. */
function decodedSubject(eml: string): string {
  const head = eml.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const raw = /^Subject: (.*)$/im.exec(head)?.[1] ?? '';
  return raw.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_match, kind: string, text: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_hex, code: string) => String.fromCharCode(parseInt(code, 16))), 'latin1').toString('utf8'),
  );
}

function mailFiles(): string[] {
  return listFiles(join(home, 'sandbox', 'mail')).filter((name) => name.endsWith('.eml'));
}

function apiRequests(): { idempotency_key: string; path: string }[] {
  return listFiles(join(home, 'sandbox', 'api'))
    .filter((name) => name.endsWith('.json'))
    .map((name) => readJson(join(home, 'sandbox', 'api', name)));
}

/**
 * What the partner sees at the SFTP destination is complete and consistent: no temporary
 * file, the data files equal the outbox's, and every file matches the SHA256SUMS beside it
 * (a rerun may rebuild manifest.json with a new generated_at; the partner keeps the one
 * that describes what it received).
 */
function expectSftpMatchesOutbox(report: string, period: string): void {
  const remote = join(home, 'sandbox', 'sftp', 'inbound', report, period);
  const outbox = join(home, 'outbox', 'ouchhungry', report, period);
  const names = readdirSync(remote);
  expect(names.filter((name) => name.startsWith('.'))).toEqual([]);
  expect(names.sort()).toEqual(readdirSync(outbox).sort());
  for (const name of names.filter((file) => file !== 'manifest.json' && file !== 'SHA256SUMS')) expect(sha256(join(remote, name)), name).toBe(sha256(join(outbox, name)));
  const sums = readFileSync(join(remote, 'SHA256SUMS'), 'utf8').trim().split('\n');
  expect(sums.length).toBe(names.length - 1);
  for (const line of sums) {
    const [hash, name] = line.split(/\s+\*?/);
    expect(sha256(join(remote, name!)), name).toBe(hash);
  }
}

function expectOneLineError(stderr: string): void {
  const lines = stderr.trim().split('\n').filter((line) => line.startsWith('dataprod: '));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('dataprod run (cron mode, embedded defaults)', { timeout: 300_000 }, () => {
  it("builds yesterday's daily report and last month's monthly report into the outbox, and records the run", async () => {
    await generate(`${lastMonth}-01`, addDays(`${businessDate(now).slice(0, 7)}-01`, -1));
    await generate(day);
    expect((await runCli(home, ['secrets', 'rotate-key', '--partner', 'ouchhungry'])).code).toBe(0);
    const result = await runCli(home, ['run', '--partner', 'ouchhungry']);
    expect(result.code, result.stderr).toBe(0);

    for (const [report, period] of [['daily-analytic', day], ['monthly-by-city', lastMonth]] as const) {
      const dir = join(home, 'outbox', 'ouchhungry', report, period);
      const manifest = readJson(join(dir, 'manifest.json'));
      expect(manifest.report).toBe(report);
      expect(manifest.files.map((file: { format: string }) => file.format).sort()).toEqual(['csv', 'dictionary', 'html', 'insights', 'json', 'parquet', 'xlsx']);
      for (const file of manifest.files) expect(sha256(join(dir, file.name))).toBe(file.sha256);
      expect(existsSync(join(home, 'gold', 'ouchhungry', report, period, 'data.parquet'))).toBe(true);
    }

    // Nothing lost: every input row is in silver, quarantine or the duplicates count.
    for (const table of ['customers', 'products', 'transactions']) {
      const summary = readJson(join(home, '_meta', 'quality', table, `date=${day}.json`));
      expect(summary.rows_in).toBe(summary.rows_silver + summary.rows_quarantined + summary.rows_duplicate);
      expect(summary.rows_in).toBeGreaterThan(0);
    }

    const runs = await runCli(home, ['runs', '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    const [latest] = JSON.parse(runs.stdout);
    expect(latest).toMatchObject({ partner: 'ouchhungry', status: 'succeeded' });
    expect(latest.stages.map((stage: { name: string }) => stage.name)).toEqual(['extract', 'clean', 'build', 'gates', 'deliver', 'notify', 'record']);
    expect(latest.finished_at).toBeTruthy();

    const status = await runCli(home, ['status', '--partner', 'ouchhungry']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('daily-analytic');

    // Every lineage event validates against the OpenLineage schema.
    const { event } = lineageValidators();
    const events = readFileSync(join(home, '_meta', 'lineage', 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(events.length).toBeGreaterThanOrEqual(14);
    for (const item of events) expect(event(item), JSON.stringify(event.errors)).toBe(true);
    expect(new Set(events.map((item) => item.eventType))).toEqual(new Set(['START', 'COMPLETE']));

    const metrics = readFileSync(join(home, '_meta', 'metrics', 'dataprod.prom'), 'utf8');
    expect(metrics).toMatch(/^# TYPE /m);
  });
});

describe('dataprod run --sandbox', { timeout: 180_000 }, () => {
  it('delivers by SFTP and API, e-mails the partner, sends nothing twice, and leaves no secret in any file', async () => {
    await generate(day);
    const first = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('sftp://');
    expect(first.stdout).toContain(join(home, 'sandbox', 'mail'));
    expectSftpMatchesOutbox('daily-analytic', day);
    const requests = apiRequests();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((request) => request.path === '/v1/reports/daily-analytic/rows')).toBe(true);
    const mails = mailFiles();
    expect(mails).toHaveLength(1);
    const mail = readFileSync(join(home, 'sandbox', 'mail', mails[0]!), 'utf8');
    expect(mail).toMatch(/^To: analytics@ouchhungry\.example\.com/m);
    // One e-mail in pt-BR with the charts inline (cid: images), and insights in every package.
    expect(decodedSubject(mail)).toContain(`OuchHungry · dados de ${day.split('-').reverse().join('/')} atualizados`);
    expect(mail).toMatch(/Content-Type: image\/png/);
    expect(mail).toMatch(/Content-ID: <units-trend-0@dataprod>/);
    const manifest = JSON.parse(readFileSync(join(home, 'outbox', 'ouchhungry', 'daily-analytic', day, 'manifest.json'), 'utf8')) as { files: { name: string }[] };
    expect(manifest.files.map((file) => file.name)).toEqual(expect.arrayContaining(['insights.json', 'insights.html', 'dictionary.json']));
    for (const name of ['insights.json', 'insights.html', 'dictionary.json']) expect(existsSync(join(home, 'sandbox', 'sftp', 'inbound', 'daily-analytic', day, name))).toBe(true);

    const second = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/skipped daily-analytic/);
    expect(apiRequests()).toHaveLength(requests.length);
    expect(mailFiles()).toHaveLength(1);

    // The secrets the run used never reach a log, a record, an output or a delivered file.
    const secretFiles = ['sandbox/keys/api-password', 'sandbox/keys/api-token', 'sandbox/keys/smtp-password', 'sandbox/keys/client_ed25519', 'sandbox/keys/ouchhungry-pseudonym-key'];
    const secrets = secretFiles
      .flatMap((file) => readFileSync(join(home, file), 'utf8').split('\n'))
      .concat(listFiles(join(home, '_meta', 'secrets')).map((file) => readFileSync(join(home, '_meta', 'secrets', file), 'utf8')))
      .map((value) => value.trim())
      .filter((value) => value.length >= 16 && !value.startsWith('-----'));
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const written = listFiles(home).filter((file) => !file.startsWith('sandbox/keys/') && !file.startsWith('_meta/secrets/'));
    for (const file of written) {
      const content = readFileSync(join(home, file), 'latin1');
      for (const secret of secrets) expect(content.includes(secret), `${file} contains a secret`).toBe(false);
    }
    for (const output of [first.stdout, first.stderr, second.stdout, second.stderr]) for (const secret of secrets) expect(output.includes(secret)).toBe(false);

    // Observation 2: the key lost after a delivery is exit 78 before any work; no new key, nothing resent.
    rmSync(join(home, 'sandbox', 'keys', 'ouchhungry-pseudonym-key'));
    const lost = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day, '--force', '--yes']);
    expect(lost.code, lost.stderr).toBe(78);
    expect(lost.stderr).toMatch(/pseudonymization key .* is missing/);
    expect(existsSync(join(home, 'sandbox', 'keys', 'ouchhungry-pseudonym-key'))).toBe(false);
    expect(apiRequests()).toHaveLength(requests.length);
  });
});

describe('cron safety', { timeout: 180_000 }, () => {
  it('lets one of two concurrent runs proceed; the other exits 75; SIGTERM stops a run as interrupted', async () => {
    await generate(day);
    const slow = startCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day], { env: { DATAPROD_SANDBOX_FAULTS: 'api-slow=1500' } });
    await waitFor(() => existsSync(join(home, '_meta', 'locks', 'ouchhungry.lock')), 60_000, 'the first run to take the lock');
    const second = await runCli(home, ['run', '--partner', 'ouchhungry', '--date', day]);
    expect(second.code, second.stderr).toBe(75);
    expectOneLineError(second.stderr);

    await waitFor(() => slow.output().stderr.includes('deliver ...'), 60_000, 'the first run to reach delivery');
    slow.child.kill('SIGTERM');
    const stopped = await slow.done;
    expect(stopped.code, stopped.stderr).toBe(75);
    const [latest] = JSON.parse((await runCli(home, ['runs', '--json', '--limit', '1'])).stdout);
    expect(latest.status).toBe('interrupted');
    expect(existsSync(join(home, '_meta', 'locks', 'ouchhungry.lock'))).toBe(false);
  });

  it('completes a run killed during delivery, with no duplicate at any destination', async () => {
    await generate(day);
    const killed = startCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day], { env: { DATAPROD_SANDBOX_FAULTS: 'api-slow=2000' } });
    // Kill only once the ledger holds the SFTP delivery: the files land a moment before the
    // ledger line is written, and a kill in between rightly makes the rerun send them again.
    const sftpDelivered = () =>
      listFiles(home)
        .filter((name) => /(^|\/)ledger\/ouchhungry\.jsonl$/.test(name))
        .some((name) => readFileSync(join(home, name), 'utf8').split('\n').some((line) => line.includes('"kind":"delivered"') && line.includes('"partner-sftp"')));
    await waitFor(sftpDelivered, 90_000, 'the ledger to record the SFTP delivery');
    killed.child.kill('SIGKILL');
    await killed.done;

    const rerun = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/skipped daily-analytic .* via partner-sftp/);
    expect(rerun.stdout).toMatch(/delivered daily-analytic .* via partner-api/);
    expectSftpMatchesOutbox('daily-analytic', day);
    const keys = apiRequests().map((request) => request.idempotency_key);
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('quality gates', { timeout: 180_000 }, () => {
  it("blocks a report that leaks personal data, delivers nothing, and the data team's alert arrives by e-mail", async () => {
    await generate(day);
    const productsCsv = join(home, 'bronze', 'products', `date=${day}`, 'products.csv');
    const leaked = readFileSync(productsCsv, 'utf8').replace(/(\nSKU-HNG-\d{4},)([^,]*)/, '$1$2 contato joana.silva@gmail.com');
    expect(leaked).toContain('joana.silva@gmail.com');
    const leakedFile = join(home, 'products-export.csv');
    writeFileSync(leakedFile, leaked);
    const ingest = await runCli(home, ['ingest', '--table', 'products', '--file', leakedFile, '--date', day]);
    expect(ingest.code, ingest.stderr).toBe(0);

    const result = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day]);
    expect(result.code, result.stderr).toBe(65);
    expectOneLineError(result.stderr);
    expect(result.stderr).toMatch(/pii/i);
    expect(existsSync(join(home, 'sandbox', 'sftp', 'inbound', 'daily-analytic', day))).toBe(false);
    expect(apiRequests()).toHaveLength(0);
    // The blocked package left the outbox for _meta/blocked (issue 8, observation 6).
    expect(existsSync(join(home, 'outbox', 'ouchhungry', 'daily-analytic', day))).toBe(false);
    expect(readdirSync(join(home, '_meta', 'blocked', 'ouchhungry', 'daily-analytic')).filter((name) => name.startsWith(`${day}.`))).toHaveLength(1);
    const alerts = mailFiles().map((name) => readFileSync(join(home, 'sandbox', 'mail', name), 'utf8'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(/^To: .*correa\.igor@aiqfome\.com/m);
    expect(alerts[0]).toMatch(/pii/i);
    expect(alerts[0]).not.toContain('joana.silva@gmail.com');

    // The same failure again: no second alert (a reminder comes only after reminder_hours).
    const again = await runCli(home, ['run', '--partner', 'ouchhungry', '--sandbox', '--date', day]);
    expect(again.code).toBe(65);
    expect(mailFiles()).toHaveLength(1);
    const [latest] = JSON.parse((await runCli(home, ['runs', '--json', '--limit', '1'])).stdout);
    expect(latest.status).toBe('blocked');
  });

  it('blocks a day whose volume falls far outside the same-weekday history', async () => {
    const config = readFileSync(new URL('../../partners/ouchhungry.yaml', import.meta.url), 'utf8').replace('anomaly_min_history: 3', 'anomaly_min_history: 1');
    const configFile = join(home, 'ouchhungry-strict.yaml');
    writeFileSync(configFile, config);
    const weekBefore = addDays(day, -7);
    await generate(weekBefore);
    await generate(day);
    expect((await runCli(home, ['secrets', 'rotate-key', '--partner', 'ouchhungry'])).code).toBe(0);
    const baseline = await runCli(home, ['run', '--partner', 'ouchhungry', '--config', configFile, '--date', weekBefore]);
    expect(baseline.code, baseline.stderr).toBe(0);

    const transactionsCsv = join(home, 'bronze', 'transactions', `date=${day}`, 'transactions.csv');
    const fewRows = readFileSync(transactionsCsv, 'utf8').split('\n').slice(0, 12).join('\n');
    const exportFile = join(home, 'transactions-export.csv');
    writeFileSync(exportFile, `${fewRows}\n`);
    expect((await runCli(home, ['ingest', '--table', 'transactions', '--file', exportFile, '--date', day])).code).toBe(0);

    const result = await runCli(home, ['run', '--partner', 'ouchhungry', '--config', configFile, '--sandbox', '--date', day]);
    expect(result.code, result.stderr).toBe(65);
    expect(result.stderr).toMatch(/anomaly/);
    expect(apiRequests()).toHaveLength(0);
    expect(mailFiles().map((name) => readFileSync(join(home, 'sandbox', 'mail', name), 'utf8')).join('\n')).toMatch(/anomaly/);
  });
});

describe('bad input: one clear line and the documented exit code', () => {
  it.each([
    [['run', '--partner', 'ouchhungry', '--date', '2026-13-45'], 64, /not a date/],
    [['run', '--partner', 'nobody'], 78, /no configuration for partner "nobody"/],
    [['run', '--partner', 'ouchhungry', '--date', day, '--source', 'bronze'], 65, /no bronze data/],
    [['clean', '--date', day], 65, /bronze/],
    [['build', '--partner', 'ouchhungry', '--date', day], 65, /silver/],
    [['ingest', '--table', 'orders', '--file', 'x.csv'], 64, /orders/],
    [['generate', '--dirty-rate', '2'], 64, /dirty-rate/],
    [['test-connection', 'sftp', '--partner', 'ouchhungry'], 78, /disabled|init/],
  ])('dataprod %j exits %i', async (args, code, message) => {
    const result = await runCli(home, args as string[], { env: { DATAPROD_OUCHHUNGRY_PSEUDONYM_KEY: TEST_KEY } });
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr + result.stdout).toMatch(message as RegExp);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('observation 1: a missing, empty or 4-character pseudonymization key is 78 before any work', async () => {
    for (const env of [{}, { DATAPROD_OUCHHUNGRY_PSEUDONYM_KEY: 'abcd' }, { DATAPROD_OUCHHUNGRY_PSEUDONYM_KEY: '  ' }]) {
      const result = await runCli(home, ['run', '--partner', 'ouchhungry', '--date', day], { env });
      expect(result.code, result.stderr).toBe(78);
      expectOneLineError(result.stderr);
      expect(result.stderr).toMatch(/pseudonymization key/);
      expect(existsSync(join(home, 'bronze'))).toBe(false);
    }
  });

  it('rejects an export missing required columns with exit 65 and keeps nothing of it', async () => {
    const file = join(home, 'export.csv');
    writeFileSync(file, 'transaction_id;customer_id;quantity\nT1;C1;2\n');
    const result = await runCli(home, ['ingest', '--table', 'transactions', '--file', file, '--date', day]);
    expect(result.code).toBe(65);
    expectOneLineError(result.stderr);
    expect(result.stderr).toMatch(/product_code/);
    expect(existsSync(join(home, 'bronze', 'transactions', `date=${day}`))).toBe(false);
  });

  it('teaches every command with an example in --help', async () => {
    for (const command of ['generate', 'ingest', 'clean', 'build', 'run', 'test-connection', 'secrets', 'init', 'sandbox', 'runs', 'status', 'catalog', 'lineage', 'schedule']) {
      const result = await runCli(home, [command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toContain('Examples:');
    }
  });
});
