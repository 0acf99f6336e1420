import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectorTestContext, makeTempHome } from '../../test/helpers.js';
import { ConfigError, TerminalError, TransientError } from '../errors.js';
import { sandboxDir } from '../lake/layout.js';
import { startApiSandbox, type ApiRequestRecord, type ApiSandbox } from '../sandbox/api-server.js';
import { writeTestPackage } from '../../test/sandbox/test-package.js';
import { API_CONNECTOR, createApiConnector, readPackageRows } from './api.js';
import { describeConnectorContract } from '../../test/connectors/contract.js';
import { apiOptions, type ApiOptions } from './options.js';
import type { ConnectorContext } from './types.js';

const USER = 'aiqfome';
const PASSWORD = 'sandbox-pw-5f1c9a7e3b';

function context(home: string, secrets: Record<string, string> = { 'api-password': PASSWORD }): ConnectorContext {
  return connectorTestContext(home, secrets);
}

function options(url: string, overrides: Record<string, unknown> = {}): ApiOptions {
  return apiOptions.parse({
    name: 'partner-api',
    type: 'api',
    base_url: url,
    auth: { type: 'password', username: USER },
    batch_size: 10,
    timeout_ms: 5000,
    retry: { max_attempts: 4, base_delay_ms: 10, max_delay_ms: 3000 },
    ...overrides,
  });
}

async function storedRequests(root: string): Promise<{ idempotency_key: string; body?: { batch: number; rows: unknown[] } }[]> {
  const names = (await readdir(root)).filter((name) => name.endsWith('.json')).sort();
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(root, name), 'utf8'))));
}

async function everyFile(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

// The shared contract, with the files sent as uploads (rows are not files, so `send: files`).
describeConnectorContract('api (send: files)', async ({ home, fault }) => {
  const root = sandboxDir(home, 'api');
  const api = await startApiSandbox({ root, username: USER, password: PASSWORD });
  if (fault) api.faults.failNext(fault.times, { status: fault.kind === 'transient' ? 503 : 400 });
  const connector = createApiConnector(options(api.url, { send: ['files'], retry: { max_attempts: 4, base_delay_ms: 1, max_delay_ms: 5 } }), context(home));
  const deliveredDir = (report: string, period: string) => join(root, 'files', report, period);
  return {
    connector,
    listDelivered: (pkg) => readdir(deliveredDir(pkg.manifest.report, pkg.manifest.period)).catch(() => []),
    readDelivered: (pkg, name) => readFile(join(deliveredDir(pkg.manifest.report, pkg.manifest.period), name)),
    faultsFired: () => api.faults.requests.filter((request) => request.status === 503 || request.status === 400).length,
    close: async () => {
      await connector.close();
      await api.close();
    },
  };
});

describe('api connector against the sandbox partner API', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  let api: ApiSandbox;
  let root: string;

  beforeEach(async () => {
    ({ home, cleanup } = await makeTempHome());
    root = sandboxDir(home, 'api');
    api = await startApiSandbox({ root, username: USER, password: PASSWORD });
  });
  afterEach(async () => {
    await api.close();
    await cleanup();
  });

  it('sends the rows in batches with stable idempotency keys, and a second delivery stores nothing new', async () => {
    const pkg = await writeTestPackage(home, { rows: 25 });
    const connector = createApiConnector(options(api.url), context(home));
    expect(connector.type).toBe(API_CONNECTOR);
    const receipt = await connector.deliver(pkg);
    expect(receipt.files).toHaveLength(3);
    expect(receipt.retries).toBe(0);
    expect(receipt.location).toBe(`${api.url}/v1/reports/daily-analytic/rows`);
    const stored = await storedRequests(root);
    expect(stored.map((record) => record.body!.batch).sort()).toEqual([1, 2, 3]);
    expect(stored.reduce((sum, record) => sum + record.body!.rows.length, 0)).toBe(25);
    const first = stored.find((record) => record.body!.batch === 1)!.body!.rows[0] as Record<string, unknown>;
    expect(first).toMatchObject({ sale_date: '2026-11-20', sale_time: '08:00:00', order_key: 'o000000', units: 1, unit_price: 4.5 });
    // On the wire, decimals keep their exact digits and scale, as in the JSON rendering.
    const { rows, from } = await readPackageRows(pkg, home);
    expect(from).toBe('ouchhungry_daily-analytic_2026-11-20.parquet');
    expect(rows[0]).toContain('"unit_price":4.50,"units":1,"line_total":4.50');

    const again = await connector.deliver(pkg);
    expect(again.files.map((file) => file.sha256)).toEqual(receipt.files.map((file) => file.sha256));
    expect(await storedRequests(root)).toHaveLength(3);
    expect(api.faults.requests.filter((request) => request.replayed)).toHaveLength(3);
    await connector.close();
  });

  it('500 then 200: the batch is retried and stored once, even when the lost answer came after storing', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url), context(home));
    api.faults.failNext(1);
    const receipt = await connector.deliver(pkg);
    expect(receipt.retries).toBe(1);
    expect(await storedRequests(root)).toHaveLength(1);

    const other = await writeTestPackage(home, { rows: 5, period: '2026-11-21' });
    api.faults.failNext(1, { afterStore: true });
    const second = await connector.deliver(other);
    expect(second.retries).toBe(1);
    expect(await storedRequests(root)).toHaveLength(2);
    const rows = api.faults.requests.filter((request) => request.path.endsWith('/rows'));
    expect(rows.map((request) => request.status)).toEqual([500, 201, 500, 201]);
    expect(rows[3]!.replayed).toBe(true);
    expect(rows[2]!.idempotencyKey).toBe(rows[3]!.idempotencyKey);
  });

  it('429 with Retry-After: waits as told before the next attempt', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url), context(home));
    api.faults.rateLimitNext(1, 1);
    const receipt = await connector.deliver(pkg);
    expect(receipt.retries).toBe(1);
    const rows = api.faults.requests.filter((request) => request.path.endsWith('/rows'));
    expect(rows.map((request) => request.status)).toEqual([429, 201]);
    expect(rows[0]!.retryAfter).toBe(1);
    // The server's own clock: the retry arrived no sooner than the hint (small slack for timer granularity).
    expect(rows[1]!.receivedAt - rows[0]!.answeredAt).toBeGreaterThanOrEqual(950);
    expect(await storedRequests(root)).toHaveLength(1);
  });

  it('a Retry-After beyond the cap is not waited for: a transient error for the runner', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url), context(home));
    api.faults.rateLimitNext(1, 600);
    const error = await connector.deliver(pkg).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/HTTP 429.*retry after 600 s/);
  });

  it('401: the token is refreshed once, then the batch goes through', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url), context(home));
    await connector.deliver(pkg);
    api.faults.expireTokens();
    const other = await writeTestPackage(home, { rows: 5, period: '2026-11-21' });
    const receipt = await connector.deliver(other);
    expect(receipt.retries).toBe(1);
    const statuses = api.faults.requests.map((request) => `${request.path} ${request.status}`);
    expect(statuses).toEqual([
      '/oauth/token 200',
      '/v1/reports/daily-analytic/rows 201',
      '/v1/reports/daily-analytic/rows 401',
      '/oauth/token 200',
      '/v1/reports/daily-analytic/rows 201',
    ]);
    expect(await storedRequests(root)).toHaveLength(2);
  });

  it('401 twice: refreshed once only, then a terminal error with exit 77', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url), context(home));
    api.faults.rejectAuthNext(2);
    const error = await connector.deliver(pkg).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as TerminalError).exitCode).toBe(77);
    expect((error as Error).message).toMatch(/HTTP 401.*after refreshing the token/);
    expect(api.faults.requests.filter((request) => request.path === '/oauth/token')).toHaveLength(2);
    expect(await storedRequests(root)).toHaveLength(0);
  });

  it('a wrong password is refused at the token endpoint with exit 77 and names the secret to fix', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url), context(home, { 'api-password': 'wrong-password-123' }));
    const error = (await connector.deliver(pkg).catch((caught: unknown) => caught)) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.exitCode).toBe(77);
    expect(error.message).toContain('wrong username or password');
    expect(error.hint).toContain('dataprod secrets set --partner ouchhungry api-password');
  });

  it('other 4xx are terminal, show the server message and nothing of the request headers', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url), context(home));
    api.faults.failNext(1, { status: 400 });
    const error = (await connector.deliver(pkg).catch((caught: unknown) => caught)) as TerminalError;
    expect(error).toBeInstanceOf(TerminalError);
    expect(error.message).toMatch(/^partner-api: POST \/v1\/reports\/daily-analytic\/rows \(batch 1\/1\) answered HTTP 400: injected fault/);
    expect(error.cause).toBeUndefined();
    expect(`${error.message} ${error.hint} ${error.stack}`).not.toMatch(/authorization|bearer|sandbox-pw/i);
    expect(api.faults.requests.filter((request) => request.path.endsWith('/rows'))).toHaveLength(1);
  });

  it('5xx that never ends: capped attempts, then a transient error', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url, { retry: { max_attempts: 3, base_delay_ms: 5, max_delay_ms: 20 } }), context(home));
    api.faults.failNext(10, { status: 503 });
    const error = await connector.deliver(pkg).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/HTTP 503.*after 2 retries/);
    expect(api.faults.requests.filter((request) => request.path.endsWith('/rows'))).toHaveLength(3);
  });

  it('a slow answer times out and is retried with the same key: stored once', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url, { timeout_ms: 300 }), context(home));
    await connector.check(); // takes the token first, so the slow fault hits the batch
    api.faults.slowNext(1, 1000);
    const receipt = await connector.deliver(pkg);
    expect(receipt.retries).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await storedRequests(root)).toHaveLength(1);
  });

  it('bearer auth with a fixed token', async () => {
    await api.close();
    api = await startApiSandbox({ root, username: USER, password: PASSWORD, staticToken: 'fixed-token-0123456789' });
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url, { auth: { type: 'bearer' } }), context(home, { 'api-token': 'fixed-token-0123456789' }));
    await connector.deliver(pkg);
    expect(await storedRequests(root)).toHaveLength(1);
    const refused = createApiConnector(options(api.url, { auth: { type: 'bearer' } }), context(home, { 'api-token': 'stale-token-0123456789' }));
    const error = (await refused.deliver(pkg).catch((caught: unknown) => caught)) as TerminalError;
    expect(error.exitCode).toBe(77);
  });

  it('send: files uploads data files, then manifest.json and SHA256SUMS, once', async () => {
    const pkg = await writeTestPackage(home, { rows: 5 });
    const connector = createApiConnector(options(api.url, { send: ['files'] }), context(home));
    const receipt = await connector.deliver(pkg);
    expect(receipt.files.map((file) => file.name)).toEqual([...pkg.manifest.files.map((file) => file.name), 'manifest.json', 'SHA256SUMS']);
    const uploaded = await readFile(join(root, 'files', 'daily-analytic', '2026-11-20', pkg.manifest.files[0]!.name));
    expect(uploaded.length).toBe(pkg.manifest.files[0]!.bytes);
    await connector.deliver(pkg);
    expect(await storedRequests(root)).toHaveLength(4);
  });

  it('check(): dns, tcp, tls, token and auth rows; a wrong password fails at the token with 77', async () => {
    const good = await createApiConnector(options(api.url), context(home)).check();
    expect(good.map((row) => [row.check, row.ok])).toEqual([
      ['dns', true],
      ['tcp', true],
      ['tls', true],
      ['token', true],
      ['auth', true],
    ]);
    const bad = await createApiConnector(options(api.url), context(home, { 'api-password': 'wrong-password-123' })).check();
    expect(bad.at(-1)).toMatchObject({ check: 'token', ok: false, exitCode: 77 });
    const port = api.port;
    await api.close();
    const down = await createApiConnector(options(`http://127.0.0.1:${port}`), context(home)).check();
    expect(down.at(-1)).toMatchObject({ check: 'tcp', ok: false, exitCode: 69 });
    api = await startApiSandbox({ root, username: USER, password: PASSWORD });
  });

  it('no password or token appears in any file the sandbox or the tool wrote', async () => {
    const pkg = await writeTestPackage(home, { rows: 12 });
    const connector = createApiConnector(options(api.url), context(home));
    await connector.deliver(pkg);
    const files = await everyFile(home);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const text = await readFile(file, 'latin1');
      expect(text.includes(PASSWORD), file).toBe(false);
      expect(/bearer\s+[A-Za-z0-9_-]{20,}/i.test(text), file).toBe(false);
    }
  });
});

describe('api connector: batches in flight at once', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  let api: ApiSandbox;
  let root: string;

  beforeEach(async () => {
    ({ home, cleanup } = await makeTempHome());
    root = sandboxDir(home, 'api');
    api = await startApiSandbox({ root, username: USER, password: PASSWORD });
  });
  afterEach(async () => {
    await api.close();
    await cleanup();
  });

  const rowRequests = () => api.faults.requests.filter((request) => request.path.endsWith('/rows'));
  /** Most requests the server was handling at once. */
  const peakInFlight = (requests: ApiRequestRecord[]) => Math.max(...requests.map((request) => requests.filter((other) => other.receivedAt <= request.receivedAt && request.receivedAt < other.answeredAt).length));

  it('up to `concurrency` batches at once; the last batch alone once the others are accepted; the receipt in batch order', async () => {
    const pkg = await writeTestPackage(home, { rows: 60 });
    const connector = createApiConnector(options(api.url, { concurrency: 3 }), context(home));
    await connector.check(); // the token first, so every slow answer is a batch
    api.faults.slowNext(6, 150);
    const receipt = await connector.deliver(pkg);
    const requests = rowRequests();
    expect(requests).toHaveLength(6);
    const peak = peakInFlight(requests);
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(3);
    const batchOf = new Map((await storedRequests(root)).map((record) => [record.idempotency_key, record.body!.batch]));
    const last = requests.find((request) => batchOf.get(request.idempotencyKey!) === 6)!;
    for (const other of requests.filter((request) => request !== last)) expect(last.receivedAt).toBeGreaterThanOrEqual(other.answeredAt);
    expect(receipt.files.map((file) => file.name)).toEqual([1, 2, 3, 4, 5, 6].map((batch) => `ouchhungry_daily-analytic_2026-11-20.batch-000${batch}-of-0006.json`));

    // Idempotent under concurrency too: a second delivery replays every batch, stores nothing.
    const again = await connector.deliver(pkg);
    expect(again.files.map((file) => file.sha256)).toEqual(receipt.files.map((file) => file.sha256));
    expect(await storedRequests(root)).toHaveLength(6);
  });

  it('concurrency: 1 sends one batch at a time', async () => {
    const pkg = await writeTestPackage(home, { rows: 30 });
    const connector = createApiConnector(options(api.url, { concurrency: 1 }), context(home));
    await connector.check();
    api.faults.slowNext(3, 50);
    await connector.deliver(pkg);
    expect(peakInFlight(rowRequests())).toBe(1);
  });

  it('an expired token seen by several batches in flight is refreshed once', async () => {
    const connector = createApiConnector(options(api.url, { concurrency: 4 }), context(home));
    await connector.deliver(await writeTestPackage(home, { rows: 5 }));
    api.faults.expireTokens();
    const before = api.faults.requests.length;
    const receipt = await connector.deliver(await writeTestPackage(home, { rows: 80, period: '2026-11-21' }));
    const after = api.faults.requests.slice(before);
    expect(after.filter((request) => request.path === '/oauth/token')).toHaveLength(1);
    expect(after.filter((request) => request.status === 401).length).toBeGreaterThanOrEqual(1);
    expect(receipt.files).toHaveLength(8);
    expect(await storedRequests(root)).toHaveLength(9);
  });

  it('a refused batch stops the delivery: no batch starts after it and the last batch is never sent', async () => {
    const pkg = await writeTestPackage(home, { rows: 100 });
    const connector = createApiConnector(options(api.url, { concurrency: 2 }), context(home));
    await connector.check();
    api.faults.failNext(1, { status: 400 });
    const error = await connector.deliver(pkg).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TerminalError);
    // The two lanes' batches, and at most one the other lane started before the failure came back.
    expect(rowRequests().length).toBeLessThanOrEqual(3);
    expect((await storedRequests(root)).map((record) => record.body!.batch)).not.toContain(10);
  });
});

describe('api connector configuration', () => {
  const ctx = context('/nonexistent');
  it('refuses plain http except to loopback, with exit 78', () => {
    expect(() => createApiConnector(options('http://api.partner.example.com'), ctx)).toThrow(ConfigError);
    try {
      createApiConnector(options('http://api.partner.example.com'), ctx);
    } catch (error) {
      expect((error as ConfigError).exitCode).toBe(78);
      expect((error as ConfigError).hint).toContain('https://api.partner.example.com');
    }
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080', 'https://api.partner.example.com']) {
      expect(() => createApiConnector(options(url), ctx)).not.toThrow();
    }
    expect(() => createApiConnector(options('https://api.partner.example.com', { auth: { type: 'password', username: 'u', token_path: 'http://auth.example.com/token' } }), ctx)).toThrow(ConfigError);
  });
});
