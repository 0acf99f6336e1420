import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { startApiSandbox, type ApiSandbox } from './api-server.js';

describe('sandbox partner API', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let api: ApiSandbox;
  beforeEach(async () => {
    ({ home: root, cleanup } = await makeTempHome('dataprod-api-'));
    api = await startApiSandbox({ root, username: 'user', password: 'pass-9c1e' });
  });
  afterEach(async () => {
    await api.close();
    await cleanup();
  });

  async function token(): Promise<string> {
    const response = await fetch(`${api.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'user', password: 'pass-9c1e' }) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    return body.access_token;
  }

  const batch = (rows: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ partner: 'acme', report: 'daily-analytic', period: '2026-11-20', batch: 1, batches: 1, rows, ...extra });
  const post = (bearer: string, body: string, key?: string) =>
    fetch(`${api.url}/v1/reports/daily-analytic/rows`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) }, body });

  it('token endpoint: JSON or form; wrong credentials 401; /health needs the token', async () => {
    const form = await fetch(`${api.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', username: 'user', password: 'pass-9c1e' }) });
    expect(form.status).toBe(200);
    const wrong = await fetch(`${api.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ username: 'user', password: 'nope' }) });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid_grant', message: 'wrong username or password' });
    expect((await fetch(`${api.url}/health`)).status).toBe(401);
    expect((await fetch(`${api.url}/health`, { headers: { authorization: `Bearer ${await token()}` } })).status).toBe(200);
    expect((await fetch(`${api.url}/nowhere`, { headers: { authorization: `Bearer ${await token()}` } })).status).toBe(404);
  });

  it('Idempotency-Key: required; same key and body replayed and stored once; same key, other body 422', async () => {
    const bearer = await token();
    expect((await post(bearer, batch([{ a: 1 }]))).status).toBe(400);
    const first = await post(bearer, batch([{ a: 1 }]), 'key-0000000001');
    expect(first.status).toBe(201);
    const again = await post(bearer, batch([{ a: 1 }]), 'key-0000000001');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    const other = await post(bearer, batch([{ a: 2 }]), 'key-0000000001');
    expect(other.status).toBe(422);
    expect((await readdir(root)).filter((name) => name.endsWith('.json'))).toHaveLength(1);
    expect((await post(bearer, batch([{ a: 1 }], { report: 'other' }), 'key-0000000002')).status).toBe(422);
  });

  it('idempotency holds across a restart of the sandbox', async () => {
    await post(await token(), batch([{ a: 1 }]), 'key-0000000003');
    await api.close();
    api = await startApiSandbox({ root, username: 'user', password: 'pass-9c1e' });
    const replay = await post(await token(), batch([{ a: 1 }]), 'key-0000000003');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await readdir(root)).filter((name) => name.endsWith('.json'))).toHaveLength(1);
  });

  it('faults: 500, 429 with Retry-After, expired tokens, rejected auth; each once', async () => {
    const bearer = await token();
    api.faults.failNext(1);
    api.faults.rateLimitNext(1, 7);
    expect((await post(bearer, batch([]), 'key-0000000004')).status).toBe(429);
    const failed = await post(bearer, batch([]), 'key-0000000004');
    expect(failed.status).toBe(500);
    expect((await post(bearer, batch([]), 'key-0000000004')).status).toBe(201);
    expect(api.faults.requests.find((request) => request.status === 429)?.retryAfter).toBe(7);
    api.faults.rejectAuthNext(1);
    expect((await fetch(`${api.url}/health`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(401);
    expect((await fetch(`${api.url}/health`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(200);
    api.faults.expireTokens();
    expect((await fetch(`${api.url}/health`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(401);
  });
});
