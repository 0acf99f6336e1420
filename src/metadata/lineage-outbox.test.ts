import { existsSync, readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from 'winston';
import { makeTempHome } from '../../test/helpers.js';
import { lineageValidators } from '../../test/lineage-schema.js';
import { lineageOutboxDir } from '../lake/layout.js';
import { type LineageRunEvent, createLineageEmitter, queuedLineageEventCount, readLineageEvents } from './lineage.js';
import { flushLineageOutbox, queueLineageEvent } from './lineage-outbox.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

/** A loopback lineage endpoint whose answer the test sets: 503 (down), 400 (refuses) or 201. */
async function startEndpoint(): Promise<{ url: string; received: LineageRunEvent[]; answer: { status: number }; close: () => Promise<void> }> {
  const received: LineageRunEvent[] = [];
  const answer = { status: 201 };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (answer.status === 201) received.push(JSON.parse(body) as LineageRunEvent);
      response.writeHead(answer.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`;
  return { url, received, answer, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function memoryLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { logger: { warn: (message: string) => warnings.push(message) } as unknown as Logger, warnings };
}

/** A small run: three stages, one with two steps. */
async function emitRun(endpoint: string, runId: string, logger: Logger): Promise<void> {
  let second = 0;
  const emitter = createLineageEmitter({ home, partner: 'ouchhungry', runId, endpoint, logger, now: () => new Date(Date.parse('2026-11-21T09:30:00Z') + second++ * 1000) });
  await emitter.start('extract');
  await emitter.complete('extract', { steps: [{ job: 'transactions', key: '2026-11-20', outputs: ['bronze/transactions/date=2026-11-20'] }, { job: 'products', key: '2026-11-20', outputs: ['bronze/products/date=2026-11-20'] }] });
  await emitter.start('clean');
  await emitter.complete('clean', { steps: [{ job: 'transactions', key: '2026-11-20', inputs: ['bronze/transactions/date=2026-11-20'], outputs: ['silver/transactions/date=2026-11-20/data.parquet'] }] });
}

describe('lineage outbox', () => {
  it('keeps events whose POST failed and sends them first, in order, on the next run', async () => {
    const endpoint = await startEndpoint();
    try {
      endpoint.answer.status = 503;
      const { logger, warnings } = memoryLogger();
      await emitRun(endpoint.url, 'run-1', logger);
      // One timeout's worth of trying, one warning, every event kept for later.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/could not post .* sent first on the next run/);
      const written = await readLineageEvents(home);
      expect(written).toHaveLength(4 + 2 * 3);
      expect(await queuedLineageEventCount(home)).toBe(written.length);
      expect(endpoint.received).toEqual([]);

      endpoint.answer.status = 201;
      const next = memoryLogger();
      await emitRun(endpoint.url, 'run-2', next.logger);
      expect(next.warnings).toEqual([]);
      expect(await queuedLineageEventCount(home)).toBe(0);
      // The first run's events arrive before the second run's, in the order they happened.
      const all = await readLineageEvents(home);
      expect(endpoint.received).toEqual(all);
      const runOf = (event: LineageRunEvent) => event.run.facets.tags!.tags.find((tag) => tag.key === 'dataprod.run_id')!.value;
      expect(endpoint.received.map(runOf)).toEqual([...Array(10).fill('run-1'), ...Array(10).fill('run-2')]);
      const { eventProblems } = lineageValidators();
      for (const event of endpoint.received) expect(eventProblems(event)).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });

  it('keeps the rest queued when the endpoint fails again partway, and sets aside events it refuses', async () => {
    const outbox = lineageOutboxDir(home);
    for (let index = 0; index < 3; index++) await queueLineageEvent(outbox, { n: index });
    const sent: unknown[] = [];
    let calls = 0;
    const partway = await flushLineageOutbox(outbox, async (event) => {
      if (++calls === 2) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      sent.push(event);
    });
    expect(partway).toMatchObject({ sent: 1, rejected: 0, left: 2 });
    expect(partway.error?.message).toContain('ECONNREFUSED');
    expect(sent).toEqual([{ n: 0 }]);

    // A 400 is the endpoint refusing that event for good: it moves aside and the rest go on.
    const refused = await flushLineageOutbox(outbox, async (event) => {
      if ((event as { n: number }).n === 1) throw Object.assign(new Error('Response code 400 (Bad Request)'), { response: { statusCode: 400 } });
      sent.push(event);
    });
    expect(refused).toMatchObject({ sent: 1, rejected: 1, left: 0 });
    expect(sent).toEqual([{ n: 0 }, { n: 2 }]);
    expect(readdirSync(outbox).filter((name) => name.endsWith('.json'))).toEqual([]);
    expect(readdirSync(join(outbox, 'rejected'))).toHaveLength(1);
  });

  it('queues nothing when no endpoint is configured', async () => {
    const emitter = createLineageEmitter({ home, partner: 'ouchhungry', runId: 'run-1' });
    await emitter.start('extract');
    expect(await readLineageEvents(home)).toHaveLength(1);
    expect(existsSync(lineageOutboxDir(home))).toBe(false);
  });
});
