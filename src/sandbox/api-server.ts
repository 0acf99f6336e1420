import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileAtomic } from '../lake/atomic.js';

/**
 * The partner API of the sandbox: a token endpoint, a health check and an ingestion
 * endpoint that keeps every accepted request as one JSON file and enforces
 * Idempotency-Key the way real ingestion APIs do (same key and body: the original
 * answer again, nothing stored twice; same key, other body: 422). Faults can be
 * injected so tests exercise retries, Retry-After and token refresh on a real socket.
 */

export interface ApiSandboxOptions {
  /** Where accepted requests are kept, normally <home>/sandbox/api. */
  root: string;
  /** The user the token endpoint accepts. */
  username: string;
  /** That user's password. */
  password: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  /** Lifetime of issued tokens in seconds (default 3600). */
  tokenLifetimeSeconds?: number;
  /** A fixed bearer token accepted besides issued ones (for `auth: bearer` set-ups). */
  staticToken?: string;
}

/** One answered request, for tests that assert on counts and on the timing of retries. */
export interface ApiRequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  /** Epoch milliseconds when the request arrived. */
  receivedAt: number;
  /** Epoch milliseconds when the answer was sent. */
  answeredAt: number;
  idempotencyKey?: string;
  /** Seconds announced in Retry-After, when the answer carried one. */
  retryAfter?: number;
  /** True when the answer replayed an earlier one for the same Idempotency-Key. */
  replayed?: boolean;
}

/** Fault injection; every fault applies to the endpoints behind the token (not to /oauth/token). */
export interface ApiFaults {
  /**
   * The next `count` requests are answered with `status` (default 500). With `afterStore`,
   * an ingestion request is processed and stored first, as when a response is lost on the way.
   */
  failNext(count: number, options?: { status?: number; afterStore?: boolean }): void;
  /** The next `count` requests get 429 with `Retry-After: <seconds>`. */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /** Every token issued so far stops working: the next call with one gets 401. */
  expireTokens(): void;
  /** The next `count` requests get 401 whatever their token (a refresh cannot help). */
  rejectAuthNext(count: number): void;
  /** The next `count` requests are answered only after `delayMs`. */
  slowNext(count: number, delayMs: number): void;
  /** Clears pending faults (not the request log). */
  reset(): void;
  /** Every answered request, oldest first. */
  readonly requests: ApiRequestRecord[];
}

export interface ApiSandbox {
  /** Base URL, http://127.0.0.1:<port>. */
  url: string;
  port: number;
  faults: ApiFaults;
  close(): Promise<void>;
}

/** One stored request: what arrived and what was answered, so a replay answers the same. */
interface StoredRequest {
  received_at: string;
  idempotency_key: string;
  method: string;
  path: string;
  body_sha256: string;
  /** Parsed JSON body of a rows batch; file uploads keep their bytes beside it. */
  body?: unknown;
  file?: { filename: string; bytes: number; sha256: string; stored_as: string };
  response: { status: number; body: Record<string, unknown> };
}

const MAX_BODY_BYTES = 256 * 1024 * 1024;
const ROWS_PATH = /^\/v1\/reports\/([A-Za-z0-9_-]+)\/rows$/;
const FILES_PATH = /^\/v1\/reports\/([A-Za-z0-9_-]+)\/files$/;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, 'payload_too_large', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Loads what earlier sessions stored, so idempotency holds across sandbox restarts. */
async function loadStored(root: string): Promise<Map<string, StoredRequest>> {
  const stored = new Map<string, StoredRequest>();
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    try {
      const record = JSON.parse(await readFile(join(root, name), 'utf8')) as StoredRequest;
      if (record.idempotency_key && record.response) stored.set(record.idempotency_key, record);
    } catch {
      // A file someone edited by hand is not a reason to refuse to start.
    }
  }
  return stored;
}

function fileStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** Starts the sandbox partner API on 127.0.0.1. */
export async function startApiSandbox(options: ApiSandboxOptions): Promise<ApiSandbox> {
  await mkdir(options.root, { recursive: true });
  const stored = await loadStored(options.root);
  const inFlight = new Set<string>();
  const tokens = new Map<string, number>();
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const pending = { fail: [] as { status: number; afterStore: boolean }[], rateLimit: [] as number[], rejectAuth: 0, slow: [] as number[] };
  const timers = new Set<NodeJS.Timeout>();
  const requests: ApiRequestRecord[] = [];

  const faults: ApiFaults = {
    failNext(count, faultOptions = {}) {
      for (let i = 0; i < count; i++) pending.fail.push({ status: faultOptions.status ?? 500, afterStore: faultOptions.afterStore ?? false });
    },
    rateLimitNext(count, seconds) {
      for (let i = 0; i < count; i++) pending.rateLimit.push(seconds);
    },
    expireTokens() {
      tokens.clear();
    },
    rejectAuthNext(count) {
      pending.rejectAuth += count;
    },
    slowNext(count, delayMs) {
      for (let i = 0; i < count; i++) pending.slow.push(delayMs);
    },
    reset() {
      pending.fail = [];
      pending.rateLimit = [];
      pending.rejectAuth = 0;
      pending.slow = [];
    },
    requests,
  };

  function issueToken(): { access_token: string; token_type: string; expires_in: number } {
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + lifetime * 1000);
    return { access_token: token, token_type: 'Bearer', expires_in: lifetime };
  }

  function authorised(request: IncomingMessage): boolean {
    const match = /^Bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '');
    if (!match) return false;
    const token = match[1]!;
    if (options.staticToken && sameSecret(token, options.staticToken)) return true;
    const expires = tokens.get(token);
    return expires !== undefined && expires > Date.now();
  }

  async function handleToken(request: IncomingMessage): Promise<{ status: number; body: Record<string, unknown> }> {
    const raw = (await readBody(request)).toString('utf8');
    const type = header(request, 'content-type') ?? '';
    let fields: Record<string, unknown>;
    try {
      fields = type.includes('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : (JSON.parse(raw || '{}') as Record<string, unknown>);
    } catch {
      throw new HttpProblem(400, 'invalid_request', 'body is neither JSON nor a form');
    }
    const grant = fields.grant_type;
    if (grant !== undefined && grant !== 'password' && grant !== 'client_credentials') throw new HttpProblem(400, 'unsupported_grant_type', `grant_type ${String(grant)} is not supported`);
    const username = typeof fields.username === 'string' ? fields.username : '';
    const password = typeof fields.password === 'string' ? fields.password : '';
    if (!username || !password) throw new HttpProblem(400, 'invalid_request', 'username and password are required');
    if (!sameSecret(username, options.username) || !sameSecret(password, options.password)) {
      throw new HttpProblem(401, 'invalid_grant', 'wrong username or password');
    }
    return { status: 200, body: issueToken() };
  }

  function idempotencyKey(request: IncomingMessage): string {
    const key = header(request, 'idempotency-key');
    if (!key) throw new HttpProblem(400, 'idempotency_key_missing', 'the Idempotency-Key header is required');
    if (!/^[A-Za-z0-9._:-]{8,255}$/.test(key)) throw new HttpProblem(400, 'idempotency_key_invalid', 'Idempotency-Key must be 8-255 letters, digits, dots, dashes, colons or underscores');
    return key;
  }

  /** Same key: replay when the body is the same, refuse when it is not; null when new. */
  function replay(key: string, bodySha: string): { status: number; body: Record<string, unknown> } | null {
    const earlier = stored.get(key);
    if (!earlier) return null;
    if (earlier.body_sha256 !== bodySha) throw new HttpProblem(422, 'idempotency_key_reused', 'this Idempotency-Key was already used with a different body');
    return earlier.response;
  }

  async function store(record: StoredRequest): Promise<void> {
    const file = join(options.root, `${fileStamp(new Date(record.received_at))}-${record.idempotency_key.slice(0, 16).replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
    await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
    stored.set(record.idempotency_key, record);
  }

  async function handleRows(request: IncomingMessage, report: string, path: string, receivedAt: Date): Promise<{ status: number; body: Record<string, unknown>; replayed?: boolean }> {
    const key = idempotencyKey(request);
    const raw = await readBody(request);
    const bodySha = sha256(raw);
    const earlier = replay(key, bodySha);
    if (earlier) return { ...earlier, replayed: true };
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new HttpProblem(400, 'invalid_json', 'the body is not valid JSON');
    }
    const problems: string[] = [];
    if (typeof body.partner !== 'string' || !body.partner) problems.push('partner (string)');
    if (body.report !== report) problems.push(`report must be "${report}" as in the path`);
    if (typeof body.period !== 'string' || !/^\d{4}-\d{2}(-\d{2})?$/.test(body.period)) problems.push('period (YYYY-MM-DD or YYYY-MM)');
    if (!Number.isInteger(body.batch) || (body.batch as number) < 1) problems.push('batch (integer >= 1)');
    if (!Number.isInteger(body.batches) || (body.batches as number) < (body.batch as number)) problems.push('batches (integer >= batch)');
    if (!Array.isArray(body.rows) || !body.rows.every((row) => row !== null && typeof row === 'object' && !Array.isArray(row))) problems.push('rows (array of objects)');
    if (problems.length > 0) throw new HttpProblem(422, 'invalid_batch', `invalid fields: ${problems.join(', ')}`);
    if (inFlight.has(key)) throw new HttpProblem(409, 'in_progress', 'a request with this Idempotency-Key is being processed');
    inFlight.add(key);
    try {
      const id = `${fileStamp(receivedAt)}-${key.slice(0, 8)}`;
      const response = {
        status: 201,
        body: { status: 'accepted', id, report, period: body.period, batch: body.batch, batches: body.batches, rows: (body.rows as unknown[]).length },
      };
      await store({ received_at: receivedAt.toISOString(), idempotency_key: key, method: 'POST', path, body_sha256: bodySha, body, response });
      return response;
    } finally {
      inFlight.delete(key);
    }
  }

  async function handleFiles(request: IncomingMessage, report: string, path: string, receivedAt: Date): Promise<{ status: number; body: Record<string, unknown>; replayed?: boolean }> {
    const key = idempotencyKey(request);
    const filename = header(request, 'x-filename') ?? /filename="?([^";]+)"?/.exec(header(request, 'content-disposition') ?? '')?.[1];
    if (!filename || !SAFE_NAME.test(filename)) throw new HttpProblem(400, 'filename_invalid', 'X-Filename must name the file (letters, digits, dots, dashes, underscores)');
    const period = header(request, 'x-period') ?? '';
    if (!/^\d{4}-\d{2}(-\d{2})?$/.test(period)) throw new HttpProblem(400, 'period_invalid', 'X-Period must be YYYY-MM-DD or YYYY-MM');
    const raw = await readBody(request);
    const bodySha = sha256(raw);
    const declared = header(request, 'x-content-sha256');
    if (declared && declared.toLowerCase() !== bodySha) throw new HttpProblem(422, 'checksum_mismatch', `X-Content-SHA256 says ${declared} but the body hashes to ${bodySha}`);
    const earlier = replay(key, bodySha);
    if (earlier) return { ...earlier, replayed: true };
    if (inFlight.has(key)) throw new HttpProblem(409, 'in_progress', 'a request with this Idempotency-Key is being processed');
    inFlight.add(key);
    try {
      const storedAs = join('files', report, period, filename);
      await writeFileAtomic(join(options.root, storedAs), raw);
      const response = { status: 201, body: { status: 'accepted', report, period, filename, bytes: raw.length, sha256: bodySha } };
      await store({
        received_at: receivedAt.toISOString(),
        idempotency_key: key,
        method: 'POST',
        path,
        body_sha256: bodySha,
        file: { filename, bytes: raw.length, sha256: bodySha, stored_as: storedAs },
        response,
      });
      return response;
    } finally {
      inFlight.delete(key);
    }
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = new Date();
    const path = new URL(request.url ?? '/', 'http://sandbox').pathname.replace(/\/+$/, '') || '/';
    const method = request.method ?? 'GET';
    const record: ApiRequestRecord = { method, path, status: 0, receivedAt: receivedAt.getTime(), answeredAt: 0, idempotencyKey: header(request, 'idempotency-key') };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let status = 500;
    let body: Record<string, unknown> = {};
    try {
      if (path === '/oauth/token') {
        if (method !== 'POST') throw new HttpProblem(405, 'method_not_allowed', 'use POST');
        ({ status, body } = await handleToken(request));
        headers['cache-control'] = 'no-store';
      } else {
        const slow = pending.slow.shift();
        if (slow) await delay(slow);
        if (pending.rejectAuth > 0) {
          pending.rejectAuth -= 1;
          throw new HttpProblem(401, 'invalid_token', 'the access token was rejected');
        }
        if (!authorised(request)) throw new HttpProblem(401, 'invalid_token', 'missing, unknown or expired bearer token');
        const retryAfter = pending.rateLimit.shift();
        if (retryAfter !== undefined) {
          headers['retry-after'] = String(retryAfter);
          record.retryAfter = retryAfter;
          throw new HttpProblem(429, 'rate_limited', `too many requests; retry after ${retryAfter} s`);
        }
        const fault = pending.fail.shift();
        if (fault && !fault.afterStore) throw new HttpProblem(fault.status, 'injected_fault', `injected fault: HTTP ${fault.status}`);
        const rows = ROWS_PATH.exec(path);
        const files = FILES_PATH.exec(path);
        let result: { status: number; body: Record<string, unknown>; replayed?: boolean };
        if (path === '/health') {
          if (method !== 'GET') throw new HttpProblem(405, 'method_not_allowed', 'use GET');
          result = { status: 200, body: { status: 'ok', user: options.username } };
        } else if (rows || files) {
          if (method !== 'POST') throw new HttpProblem(405, 'method_not_allowed', 'use POST');
          result = rows ? await handleRows(request, rows[1]!, path, receivedAt) : await handleFiles(request, files![1]!, path, receivedAt);
        } else {
          throw new HttpProblem(404, 'not_found', `no endpoint ${method} ${path}`);
        }
        if (result.replayed) {
          headers['idempotent-replayed'] = 'true';
          record.replayed = true;
        }
        if (fault?.afterStore) throw new HttpProblem(fault.status, 'injected_fault', `injected fault after processing: HTTP ${fault.status}`);
        ({ status, body } = result);
      }
    } catch (error) {
      if (error instanceof HttpProblem) {
        status = error.status;
        body = { error: error.error, message: error.message };
        if (status === 401) headers['www-authenticate'] = 'Bearer realm="sandbox"';
      } else {
        status = 500;
        body = { error: 'internal', message: (error as Error).message };
      }
    }
    record.status = status;
    record.answeredAt = Date.now();
    requests.push(record);
    // Drain what the client sent when we answered early, so keep-alive sockets stay usable.
    if (!request.complete) request.resume();
    response.writeHead(status, headers).end(JSON.stringify(body));
  }

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
