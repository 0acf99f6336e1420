import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import got, { HTTPError, RequestError, type Got, type OptionsInit, type Response } from 'got';
import { ConfigError, ExitCode, TerminalError, TransientError } from '../errors.js';
import { forEachLimited } from './delivery.js';
import { goldFile } from '../lake/layout.js';
import { redact, registerSecretValue } from '../log.js';
import type { ApiOptions } from './options.js';
import { tcpProbe } from './probes.js';
import type { CheckResult, Connector, ConnectorContext, DeliveryReceipt } from './types.js';
import type { OutboxPackage } from '../render/package.js';

/**
 * The partner's own API (got 14: got 15+ needs Node 22). Report rows go as JSON batches,
 * each with an Idempotency-Key derived from partner, report, period, batch number and
 * content hash, so a retried POST can never insert twice; up to `concurrency` batches
 * are in flight at once, and the last one goes alone after the others are accepted.
 * Files can go as raw uploads.
 *
 * got does not retry POST by default: it is enabled here on purpose for network errors,
 * 408, 429 (honouring Retry-After) and 5xx, capped by the destination's `retry` options;
 * what still fails becomes a TransientError for the runner. Other 4xx are terminal and
 * show the server's message. A got error is never logged or rethrown as is: its options
 * carry the Authorization header; errors are rebuilt from method, path, status and the
 * response's message.
 */

export const API_CONNECTOR = 'api';

const RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504, 521, 522, 524];
const RETRY_ERROR_CODES = ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH'];
const TLS_IDENTITY_CODES = /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT|HOSTNAME_MISMATCH|ERR_SSL)/;
/** Refresh a cached token this long before the server says it expires. */
const TOKEN_MARGIN_MS = 30_000;
const DEFAULT_TOKEN_LIFETIME_S = 300;

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Validates a URL of the destination: https, or plain http to loopback only. */
function checkedUrl(value: string, destination: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`destination ${destination}: ${field} "${value}" is not a URL`, { hint: 'e.g. https://api.partner.example.com' });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:') {
    throw new ConfigError(`destination ${destination}: ${field} uses plain http to ${url.hostname}; https is required except on loopback`, {
      hint: `use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    });
  }
  throw new ConfigError(`destination ${destination}: ${field} must be an https URL, not ${url.protocol}`, { hint: 'e.g. https://api.partner.example.com' });
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(partner|report|period)\}/g, (_, key: string) => encodeURIComponent(values[key] ?? ''));
}

/** The server's own explanation, one line, from a JSON or text error body. */
function responseMessage(body: unknown): string {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
  let message = text;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const pick = parsed.message ?? parsed.error_description ?? parsed.detail ?? parsed.title ?? parsed.error;
    if (typeof pick === 'string') message = typeof parsed.error === 'string' && pick !== parsed.error ? `${pick} (${parsed.error})` : pick;
  } catch {
    // Not JSON: keep the text.
  }
  message = message.replace(/\s+/g, ' ').trim();
  return redact(message.length > 300 ? `${message.slice(0, 300)}...` : message);
}

function retryAfterOf(headers: Record<string, string | string[] | undefined> | undefined): string {
  const value = headers?.['retry-after'];
  return value ? `; the server asked to retry after ${Array.isArray(value) ? value[0] : value} s` : '';
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

export interface RowsSource {
  /** Each row as JSON text, in file order, so batches and their keys are stable. */
  rows: string[];
  /** What the rows were read from, for logs. */
  from: string;
}

/**
 * Reads a package's rows as JSON texts, in file order: its Parquet rendering, else its
 * JSON rendering, else the gold table; the file must still match the manifest's SHA-256.
 */
export async function readPackageRows(pkg: OutboxPackage, home: string): Promise<RowsSource> {
  const { manifest } = pkg;
  const parquet = manifest.files.find((file) => file.format === 'parquet');
  const json = manifest.files.find((file) => file.format === 'json');
  const verify = async (name: string, expected: string): Promise<void> => {
    const actual = sha256(await readFile(join(pkg.dir, name)));
    if (actual !== expected) {
      throw new TerminalError(`${join(pkg.dir, name)} changed since it was built (SHA-256 ${actual.slice(0, 12)}..., manifest says ${expected.slice(0, 12)}...)`, {
        exitCode: ExitCode.data,
        hint: `rebuild the package: dataprod build --partner ${manifest.partner} --report ${manifest.report}`,
      });
    }
  };
  if (parquet) {
    await verify(parquet.name, parquet.sha256);
    return { rows: await readParquetRows(join(pkg.dir, parquet.name)), from: parquet.name };
  }
  if (json) {
    await verify(json.name, json.sha256);
    return { rows: parseJsonRows(await readFile(join(pkg.dir, json.name), 'utf8'), json.name), from: json.name };
  }
  const gold = goldFile(home, manifest.partner, manifest.report, manifest.period);
  if (existsSync(gold)) return { rows: await readParquetRows(gold), from: gold };
  throw new TerminalError(`package ${pkg.dir} has no Parquet or JSON rendering to read rows from, and ${gold} is missing`, {
    exitCode: ExitCode.config,
    hint: `add parquet or json to the report's formats, or set send: [files] for this destination`,
  });
}

async function readParquetRows(path: string): Promise<string[]> {
  const { withDuck, sqlIdentifier, sqlString } = await import('../lake/duckdb.js');
  // to_json writes a DECIMAL of width 18 or more with its exact digits and full scale
  // (9.00, as the JSON rendering does), narrower ones through a double (9.0): widen them.
  // One thread keeps the file's row order, and so the batches and their keys, stable.
  return withDuck(
    async (duck) => {
      const source = `read_parquet(${sqlString(path)})`;
      const columns = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
      const select = columns
        .map(({ column_name: name, column_type: type }) => {
          const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(type);
          return decimal ? `CAST(${sqlIdentifier(name)} AS DECIMAL(${Math.max(18, Number(decimal[1]))},${decimal[2]})) AS ${sqlIdentifier(name)}` : sqlIdentifier(name);
        })
        .join(', ');
      const rows = await duck.all<{ j: string }>(`SELECT to_json(r)::VARCHAR AS j FROM (SELECT ${select || '*'} FROM ${source}) r`);
      return rows.map((row) => row.j);
    },
    { threads: 1 },
  );
}

/** A JSON rendering may be an array, an object with `rows`, or JSON lines. */
function parseJsonRows(text: string, name: string): string[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  let rows: unknown[];
  try {
    try {
      const parsed = JSON.parse(trimmed || '[]') as unknown;
      rows = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { rows?: unknown[] }).rows) ? (parsed as { rows: unknown[] }).rows : [parsed];
    } catch {
      rows = trimmed.split(/\r?\n/).filter((line) => line.trim()).map((line) => JSON.parse(line) as unknown);
    }
  } catch (error) {
    throw new TerminalError(`${name}: cannot read rows from the JSON rendering: ${(error as Error).message}`, { exitCode: ExitCode.data, hint: 'rebuild the package' });
  }
  return rows.map((row) => JSON.stringify(row));
}

class ApiConnector implements Connector {
  readonly type = API_CONNECTOR;
  readonly name: string;
  private token: CachedToken | undefined;
  /** The token exchange in progress, shared by the batches that wait for it. */
  private exchange: Promise<string> | undefined;
  private retries = 0;
  private readonly http: Got;

  constructor(
    private readonly options: ApiOptions,
    private readonly context: ConnectorContext,
    private readonly base: URL,
    private readonly tokenUrl: URL | undefined,
  ) {
    this.name = options.name;
    const attempts = options.retry.max_attempts;
    this.http = got.extend({
      timeout: { request: options.timeout_ms },
      followRedirect: false,
      throwHttpErrors: true,
      responseType: 'text',
      headers: { 'user-agent': 'dataprod', accept: 'application/json' },
      retry: {
        limit: attempts - 1,
        methods: ['GET', 'POST', 'PUT'],
        statusCodes: RETRY_STATUS_CODES,
        errorCodes: RETRY_ERROR_CODES,
        // A Retry-After beyond our cap ends the attempts here; the runner may come back later.
        maxRetryAfter: Math.max(options.retry.max_delay_ms, 1000),
        calculateDelay: ({ attemptCount, computedValue, retryAfter }) => {
          if (computedValue === 0) return 0;
          if (retryAfter !== undefined) return computedValue;
          const exponential = Math.min(options.retry.base_delay_ms * 2 ** (attemptCount - 1), options.retry.max_delay_ms);
          // Jitter keeps many clients from retrying in step; never 0, which would mean "stop".
          return Math.max(1, Math.round(exponential / 2 + (Math.random() * exponential) / 2));
        },
      },
      hooks: {
        beforeRetry: [
          (error) => {
            this.retries += 1;
            const status = error.response?.statusCode;
            this.context.logger.debug(`${this.name}: retrying ${error.options.method} ${new URL(String(error.options.url)).pathname} after ${status ? `HTTP ${status}` : error.code}`);
          },
        ],
      },
      ...(context.signal ? { signal: context.signal } : {}),
    });
  }

  private endpoint(path: string, values: Record<string, string> = {}): URL {
    const filled = fillTemplate(path, values);
    if (/^https?:\/\//i.test(filled)) return checkedUrl(filled, this.name, 'a path');
    const url = new URL(this.base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${filled.replace(/^\/+/, '')}`;
    return url;
  }

  /** Rebuilds a got failure as one of ours: method, path, status and the server's message only. */
  private failure(error: unknown, method: string, url: URL, what: string): Error {
    if (error instanceof TerminalError || error instanceof TransientError || error instanceof ConfigError) return error;
    const where = `${this.name}: ${method} ${url.pathname}`;
    if (error instanceof HTTPError) {
      const status = error.response.statusCode;
      const message = responseMessage(error.response.body);
      const line = `${where} (${what}) answered HTTP ${status}${message ? `: ${message}` : ''}`;
      if (RETRY_STATUS_CODES.includes(status)) {
        return new TransientError(`${line}${retryAfterOf(error.response.headers)} (after ${error.request?.retryCount ?? 0} retries)`, { hint: 'the partner API is failing or throttling; the next run retries' });
      }
      if (status === 401 || status === 403) {
        return new TerminalError(line, { exitCode: ExitCode.permission, hint: this.authHint() });
      }
      return new TerminalError(line, { hint: status === 404 ? `check base_url and the paths of destination ${this.name}` : 'the partner API refused the request; see its message' });
    }
    if (error instanceof RequestError) {
      const code = error.code;
      if (code === 'ERR_ABORTED' || error.name === 'AbortError') {
        return new TerminalError(`${where} (${what}) interrupted`, { exitCode: ExitCode.tryLater, hint: 'run again to finish the delivery' });
      }
      const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
      const nativeCode = cause?.code ?? code;
      if (nativeCode && TLS_IDENTITY_CODES.test(nativeCode)) {
        return new TerminalError(`${where} (${what}): TLS certificate of ${url.hostname} not trusted (${nativeCode})`, {
          exitCode: ExitCode.permission,
          hint: 'the server must present a valid certificate for its name; if it uses a private CA, add it with NODE_EXTRA_CA_CERTS',
        });
      }
      return new TransientError(`${where} (${what}) failed: ${nativeCode ?? 'network error'}${code === 'ETIMEDOUT' ? ` after ${this.options.timeout_ms} ms` : ''} (after ${error.request?.retryCount ?? 0} retries)`, {
        hint: `check that ${url.host} is reachable from this host (dataprod test-connection api --partner ${this.context.partner})`,
      });
    }
    return new TransientError(`${where} (${what}) failed: ${redact((error as Error)?.message ?? String(error))}`);
  }

  private authHint(): string {
    const auth = this.options.auth;
    const secret = auth.type === 'bearer' ? auth.token_secret : auth.password_secret;
    return `check the ${auth.type === 'bearer' ? 'token' : `password of user ${auth.username}`}: dataprod secrets set --partner ${this.context.partner} ${secret}`;
  }

  /**
   * A bearer token: the configured one, or one exchanged at the token endpoint and cached
   * for its lifetime. Concurrent batches share one exchange: `refused` is the token a
   * request was refused with, so a batch that saw it already replaced does not exchange again.
   */
  private async bearer(forceRefresh = false, client: Got = this.http, refused?: string): Promise<string> {
    const auth = this.options.auth;
    if (auth.type === 'bearer') return this.context.secret(auth.token_secret);
    if (this.exchange) return this.exchange;
    const fresh = this.token && this.token.expiresAt - TOKEN_MARGIN_MS > Date.now();
    if (fresh && (!forceRefresh || (refused !== undefined && this.token!.value !== refused))) return this.token!.value;
    this.exchange = this.exchangeToken(client).finally(() => (this.exchange = undefined));
    return this.exchange;
  }

  private async exchangeToken(client: Got): Promise<string> {
    const auth = this.options.auth;
    if (auth.type !== 'password') throw new Error('a token exchange needs password auth');
    const password = await this.context.secret(auth.password_secret);
    const url = this.tokenUrl!;
    let body: string;
    try {
      const response = await client.post(url, { json: { grant_type: 'password', username: auth.username, password } });
      if (response.statusCode < 200 || response.statusCode > 299) throw new TerminalError(`${this.name}: POST ${url.pathname} (token) answered HTTP ${response.statusCode}`, { hint: 'the token endpoint must answer 200 with a JSON access_token' });
      body = response.body;
    } catch (error) {
      const failure = this.failure(error, 'POST', url, 'token');
      if (error instanceof HTTPError && (error.response.statusCode === 400 || error.response.statusCode === 401)) {
        throw new TerminalError(failure.message, { exitCode: ExitCode.permission, hint: this.authHint() });
      }
      throw failure;
    }
    let parsed: { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.access_token !== 'string' || !parsed.access_token) {
      throw new TerminalError(`${this.name}: POST ${url.pathname} (token) answered without an access_token`, { hint: 'check token_path of this destination' });
    }
    registerSecretValue(parsed.access_token);
    const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    this.token = { value: parsed.access_token, expiresAt: Date.now() + lifetime * 1000 };
    return this.token.value;
  }

  /** One request with the bearer token; a 401 gets one token refresh and one more try. */
  private async authorised(method: 'GET' | 'POST', url: URL, init: OptionsInit, what: string): Promise<string> {
    const send = async (token: string) => {
      const response = (await this.http(url, { ...init, method, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } })) as Response<string>;
      if (response.statusCode < 200 || response.statusCode > 299) {
        throw new TerminalError(`${this.name}: ${method} ${url.pathname} (${what}) answered HTTP ${response.statusCode}${response.headers.location ? ` (redirect to ${response.headers.location})` : ''}`, {
          exitCode: ExitCode.config,
          hint: 'redirects are not followed (they could downgrade to http or leak the token); fix base_url',
        });
      }
      return response.body;
    };
    let token: string | undefined;
    try {
      token = await this.bearer();
      return await send(token);
    } catch (error) {
      const unauthorised = error instanceof HTTPError && error.response.statusCode === 401;
      if (!unauthorised) throw this.failure(error, method, url, what);
      if (this.options.auth.type === 'bearer') throw this.failure(error, method, url, what);
      this.context.logger.info(`${this.name}: ${method} ${url.pathname} answered 401; refreshing the token once`);
      this.retries += 1;
      try {
        return await send(await this.bearer(true, this.http, token));
      } catch (again) {
        const failure = this.failure(again, method, url, what);
        if (again instanceof HTTPError && again.response.statusCode === 401) {
          throw new TerminalError(`${failure.message} (also after refreshing the token)`, { exitCode: ExitCode.permission, hint: this.authHint() });
        }
        throw failure;
      }
    }
  }

  async deliver(pkg: OutboxPackage): Promise<DeliveryReceipt> {
    const { manifest } = pkg;
    const values = { partner: manifest.partner, report: manifest.report, period: manifest.period };
    const startRetries = this.retries;
    const files: DeliveryReceipt['files'] = [];
    const locations: string[] = [];
    if (this.options.send.includes('rows')) {
      const url = this.endpoint(this.options.rows_path, values);
      locations.push(url.href);
      files.push(...(await this.sendRows(pkg, url)));
    }
    if (this.options.send.includes('files')) {
      const url = this.endpoint(this.options.files_path, values);
      locations.push(url.href);
      files.push(...(await this.sendFiles(pkg, url)));
    }
    const receipt: DeliveryReceipt = {
      destination: this.name,
      type: API_CONNECTOR,
      location: locations.join(' and '),
      files,
      bytes: files.reduce((sum, file) => sum + file.bytes, 0),
      retries: this.retries - startRetries,
    };
    this.context.logger.debug(`${this.name}: delivered ${manifest.report} ${manifest.period} to ${receipt.location} (${files.length} request${files.length === 1 ? '' : 's'}, ${receipt.retries} retries)`);
    return receipt;
  }

  private async sendRows(pkg: OutboxPackage, url: URL): Promise<DeliveryReceipt['files']> {
    const { manifest } = pkg;
    const { rows, from } = await readPackageRows(pkg, this.context.home);
    if (rows.length !== manifest.rows) {
      throw new TerminalError(`${from} holds ${rows.length} rows but the manifest of ${pkg.dir} says ${manifest.rows}`, { exitCode: ExitCode.data, hint: 'rebuild the package' });
    }
    const size = this.options.batch_size;
    // An empty day still sends one empty batch, so the partner knows the day had no sales.
    const batches = Math.max(1, Math.ceil(rows.length / size));
    const stem = `${manifest.partner}_${manifest.report}_${manifest.period}`;
    const digits = String(batches).length < 4 ? 4 : String(batches).length;
    // Indexed by batch, so the receipt lists batches in order whatever order they were answered in.
    const sent: DeliveryReceipt['files'] = new Array(batches);
    const send = async (batch: number): Promise<void> => {
      this.throwIfAborted();
      // Built when sent, not up front: a day of rows as request bodies would double the memory.
      const rowsJson = `[${rows.slice((batch - 1) * size, batch * size).join(',')}]`;
      const contentHash = sha256(rowsJson);
      const key = sha256(`${manifest.partner}|${manifest.report}|${manifest.period}|${batch}|${contentHash}`);
      const body = `{"partner":${JSON.stringify(manifest.partner)},"report":${JSON.stringify(manifest.report)},"period":${JSON.stringify(manifest.period)},"batch":${batch},"batches":${batches},"rows":${rowsJson}}`;
      await this.authorised('POST', url, { body, headers: { 'content-type': 'application/json', 'idempotency-key': key } }, `batch ${batch}/${batches}`);
      sent[batch - 1] = { name: `${stem}.batch-${String(batch).padStart(digits, '0')}-of-${String(batches).padStart(digits, '0')}.json`, bytes: Buffer.byteLength(body), sha256: sha256(body) };
      this.context.logger.debug(`${this.name}: batch ${batch}/${batches} of ${manifest.report} ${manifest.period} accepted`);
    };
    // Up to `concurrency` batches in flight, started in batch order; the last batch goes
    // alone once every other one is accepted, so a partner that has batch N of N has them all.
    const numbers = Array.from({ length: batches }, (_, index) => index + 1);
    await forEachLimited(numbers.slice(0, -1), this.options.concurrency, send);
    await send(batches);
    return sent;
  }

  private async sendFiles(pkg: OutboxPackage, url: URL): Promise<DeliveryReceipt['files']> {
    const { manifest } = pkg;
    // Data files first, then manifest.json and SHA256SUMS: a partner that sees the manifest has every file.
    const names = manifest.files.map((file) => file.name).filter((name) => name !== 'manifest.json' && name !== 'SHA256SUMS');
    for (const tail of ['manifest.json', 'SHA256SUMS']) if (existsSync(join(pkg.dir, tail))) names.push(tail);
    const sent: DeliveryReceipt['files'] = [];
    for (const name of names) {
      this.throwIfAborted();
      const content = await readFile(join(pkg.dir, name));
      const digest = sha256(content);
      const listed = manifest.files.find((file) => file.name === name);
      if (listed && listed.sha256 !== digest) {
        throw new TerminalError(`${join(pkg.dir, name)} changed since it was built`, { exitCode: ExitCode.data, hint: 'rebuild the package' });
      }
      const key = sha256(`${manifest.partner}|${manifest.report}|${manifest.period}|file:${name}|${digest}`);
      await this.authorised(
        'POST',
        url,
        {
          body: content,
          headers: {
            'content-type': 'application/octet-stream',
            'idempotency-key': key,
            'x-filename': name,
            'x-partner': manifest.partner,
            'x-report': manifest.report,
            'x-period': manifest.period,
            'x-content-sha256': digest,
          },
        },
        `upload ${name}`,
      );
      sent.push({ name, bytes: content.length, sha256: digest });
    }
    return sent;
  }

  private throwIfAborted(): void {
    if (this.context.signal?.aborted) throw new TerminalError(`${this.name}: delivery interrupted`, { exitCode: ExitCode.tryLater, hint: 'run again to finish the delivery' });
  }

  async check(): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    const host = this.base.hostname.replace(/^\[|\]$/g, '');
    const port = Number(this.base.port || (this.base.protocol === 'https:' ? 443 : 80));
    const timeout = Math.min(this.options.timeout_ms, 15_000);
    const step = async (check: string, run: () => Promise<string>, onError: (error: unknown) => Omit<CheckResult, 'check' | 'ok' | 'ms'>): Promise<boolean> => {
      const started = Date.now();
      try {
        const detail = await run();
        results.push({ check, ok: true, ms: Date.now() - started, detail });
        return true;
      } catch (error) {
        results.push({ check, ok: false, ms: Date.now() - started, ...onError(error) });
        return false;
      }
    };
    const unreachable = (error: unknown) => ({ detail: redact((error as Error).message), hint: `check the host and port in base_url and the firewall between this host and ${this.base.host}`, exitCode: ExitCode.unavailable });

    const resolved = await step(
      'dns',
      async () => {
        if (isIP(host)) return `${host} is an IP address`;
        const address = await lookup(host);
        return `${host} -> ${address.address}`;
      },
      (error) => ({ detail: `cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, hint: 'check the host name in base_url', exitCode: ExitCode.unavailable }),
    );
    if (!resolved) return results;
    if (!(await step('tcp', () => tcpProbe(host, port, timeout), unreachable))) return results;
    const tlsOk = await step(
      'tls',
      async () => (this.base.protocol === 'https:' ? tlsProbe(host, port, timeout) : `plain http to loopback ${host} (no TLS needed)`),
      (error) => ({
        detail: redact((error as Error).message),
        hint: 'the server must present a valid certificate for its name (a private CA goes in NODE_EXTRA_CA_CERTS)',
        exitCode: ExitCode.permission,
      }),
    );
    if (!tlsOk) return results;
    const asResult = (error: unknown) => {
      const failure = this.failure(error, 'POST', this.tokenUrl ?? this.base, 'token');
      const exitCode = (failure as TerminalError).exitCode ?? ExitCode.unavailable;
      return { detail: failure.message, hint: (failure as TerminalError).hint, exitCode };
    };
    // Checks answer quickly: no retries, a short timeout.
    const probe = this.http.extend({ retry: { limit: 0 }, timeout: { request: timeout } });
    const auth = this.options.auth;
    if (auth.type === 'password') {
      const ok = await step(
        'token',
        async () => {
          await this.bearer(true, probe);
          return `token issued to ${auth.username} at ${this.tokenUrl!.pathname}, valid ${Math.round((this.token!.expiresAt - Date.now()) / 1000)} s`;
        },
        asResult,
      );
      if (!ok) return results;
    }
    const healthUrl = this.endpoint(this.options.health_path);
    await step(
      'auth',
      async () => {
        const token = await this.bearer(false, probe);
        const response = await probe.get(healthUrl, { headers: { authorization: `Bearer ${token}` } });
        if (response.statusCode < 200 || response.statusCode > 299) throw new TerminalError(`GET ${healthUrl.pathname} answered HTTP ${response.statusCode}`, { exitCode: ExitCode.config, hint: 'check health_path' });
        return `GET ${healthUrl.pathname} answered ${response.statusCode} with the token`;
      },
      (error) => {
        if (error instanceof HTTPError && error.response.statusCode === 404) {
          return { detail: `GET ${healthUrl.pathname} answered 404`, hint: `set health_path of destination ${this.name} to an endpoint that needs the token`, exitCode: ExitCode.config };
        }
        const failure = this.failure(error, 'GET', healthUrl, 'health');
        return { detail: failure.message, hint: (failure as TerminalError).hint, exitCode: (failure as TerminalError).exitCode ?? ExitCode.unavailable };
      },
    );
    return results;
  }

  async close(): Promise<void> {
    this.token = undefined;
  }
}

function tlsProbe(host: string, port: number, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host, port, servername: isIP(host) ? undefined : host, timeout });
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      const protocol = socket.getProtocol();
      socket.destroy();
      resolve(`${protocol ?? 'TLS'}, certificate for ${certificate.subject?.CN ?? host} valid until ${certificate.valid_to}`);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no TLS handshake with ${host}:${port} within ${timeout} ms`));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`TLS with ${host}:${port} failed: ${error.code ?? ''} ${error.message}`.trim())));
  });
}

/** Validates the destination up front (https except on loopback) and returns its connector. */
export function createApiConnector(options: ApiOptions, context: ConnectorContext): Connector {
  const base = checkedUrl(options.base_url, options.name, 'base_url');
  let tokenUrl: URL | undefined;
  if (options.auth.type === 'password') {
    const path = options.auth.token_path;
    if (/^https?:\/\//i.test(path)) tokenUrl = checkedUrl(path, options.name, 'auth.token_path');
    else {
      tokenUrl = new URL(base.href);
      tokenUrl.pathname = `${tokenUrl.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    }
  }
  return new ApiConnector(options, context, base, tokenUrl);
}
