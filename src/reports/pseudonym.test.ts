import { describe, expect, it } from 'vitest';
import { withDuck } from '../lake/duckdb.js';
import { pseudonymize, registerPseudonymFunction } from './pseudonym.js';

describe('pseudonym() in SQL', () => {
  it.each([
    ['short key', 'k3y'],
    ['a key longer than the 64-byte HMAC block', 'x'.repeat(100)],
    ['a key with non-ASCII characters', 'chave-secreta-ção'],
  ])('equals HMAC-SHA256 from node:crypto with %s', async (_label, secret) => {
    await withDuck(async (duck) => {
      await registerPseudonymFunction(duck, secret);
      const rows = await duck.all<{ kind: string; id: string | null; key: string | null }>(
        `SELECT kind, id, pseudonym(kind, id) AS key FROM (VALUES ('customer', 'CU-001'), ('order', 'T20261120-0000001'), ('customer', 'São José'), ('customer', NULL)) AS t(kind, id)`,
      );
      for (const row of rows) expect(row.key).toBe(row.id === null ? null : pseudonymize(secret, row.kind, row.id));
    });
  });

  it('keeps the key out of the SQL text of the session', async () => {
    await withDuck(async (duck) => {
      await registerPseudonymFunction(duck, 'top-secret-key');
      const macros = await duck.all<{ definition: string }>(`SELECT macro_definition AS definition FROM duckdb_functions() WHERE function_name = 'pseudonym'`);
      expect(macros.length).toBeGreaterThan(0);
      for (const macro of macros) expect(macro.definition).not.toMatch(/[0-9a-f]{32}/);
    });
  });
});
