import { DuckDBScalarFunction, VARCHAR } from '@duckdb/node-api';
import { createHmac } from 'node:crypto';
import type { DuckSession } from '../lake/duckdb.js';

/** Name of the SQL function reports call: `pseudonym('customer', customer_id)`. */
export const PSEUDONYM_FUNCTION = 'pseudonym';

/**
 * A keyed pseudonym: hex HMAC-SHA256 (64 characters) of `<kind>:<id>` under the partner's
 * secret. The kind separates the spaces, so an order and a customer that share an id get
 * unrelated keys; without the secret nobody (the partner included) can map a key back to
 * an id or test a guessed id. Reproducible by hand:
 *   printf 'customer:CU-001' | openssl dgst -sha256 -hmac "$KEY"
 */
export function pseudonymize(secret: string, kind: string, id: string): string {
  return createHmac('sha256', secret).update(`${kind}:${id}`).digest('hex');
}

export interface PseudonymOptions {
  /**
   * Kinds whose ids repeat across rows (a customer buys many times): their pseudonyms are
   * memoised. One HMAC costs about 10 µs here, so this matters on large days; order ids are
   * unique and gain nothing. Default ['customer'].
   */
  cachedKinds?: string[];
  /** Most memoised pseudonyms kept at once (default 500 000, about 75 MB). */
  cacheLimit?: number;
}

/**
 * Registers `pseudonym(kind VARCHAR, id VARCHAR) -> VARCHAR` on the session, so the report
 * SQL stays set-based while the key stays in this process (it never appears in SQL text,
 * where an error message or a log line could carry it). NULL in, NULL out.
 */
export function registerPseudonymFunction(duck: DuckSession, secret: string, options: PseudonymOptions = {}): void {
  const cachedKinds = new Set(options.cachedKinds ?? ['customer']);
  const limit = options.cacheLimit ?? 500_000;
  const cache = new Map<string, string>();
  const compute = (kind: string, id: string): string => {
    if (!cachedKinds.has(kind)) return pseudonymize(secret, kind, id);
    const key = `${kind}:${id}`;
    let value = cache.get(key);
    if (value === undefined) {
      value = pseudonymize(secret, kind, id);
      // Bounded: a huge customer base costs recomputation, never unbounded memory.
      if (cache.size >= limit) cache.clear();
      cache.set(key, value);
    }
    return value;
  };
  duck.connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: PSEUDONYM_FUNCTION,
      returnType: VARCHAR,
      parameterTypes: [VARCHAR, VARCHAR],
      mainFunction: (info, input, output) => {
        try {
          const kinds = input.getColumnVector(0);
          const ids = input.getColumnVector(1);
          for (let row = 0; row < input.rowCount; row++) {
            const kind = kinds.getItem(row);
            const id = ids.getItem(row);
            output.setItem(row, kind === null || id === null ? null : compute(String(kind), String(id)));
          }
          output.flush();
        } catch (error) {
          info.setError(`pseudonym(): ${(error as Error).message}`);
        }
      },
    }),
  );
}
