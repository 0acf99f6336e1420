import { isValidCnpj, isValidCpf } from '@brazilian-utils/brazilian-utils';
import { BOOLEAN, DuckDBScalarFunction, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';

/**
 * Checks SQL cannot express well, run inside DuckDB as scalar functions so rules stay
 * set-based: DuckDB hands each function a vector of values (a chunk of up to 2048 rows),
 * not one call per row from our code. Check digits come from @brazilian-utils, a
 * maintained library, rather than hand-written arithmetic.
 */
export interface CleaningFunction {
  /** SQL name, used in rule predicates. */
  name: string;
  description: string;
  /** The check for one non-NULL text value. */
  test: (value: string) => boolean;
}

export const cleaningFunctions: readonly CleaningFunction[] = [
  { name: 'dp_is_valid_cpf', description: 'CPF with valid check digits (@brazilian-utils isValidCpf)', test: (value) => isValidCpf(value) },
  // version 2 accepts the numeric CNPJ and the alphanumeric one Brazil issues from July 2026.
  { name: 'dp_is_valid_cnpj', description: 'CNPJ, numeric or alphanumeric, with valid check digits (@brazilian-utils isValidCnpj, version 2)', test: (value) => isValidCnpj(value, { version: 2 }) },
];

/** Registers every cleaning function on a connection (idempotent per connection is not needed: one session each). */
export function registerCleaningFunctions(connection: DuckDBConnection): void {
  for (const fn of cleaningFunctions) {
    connection.registerScalarFunction(
      DuckDBScalarFunction.create({
        name: fn.name,
        returnType: BOOLEAN,
        parameterTypes: [VARCHAR],
        mainFunction: (_info, input, output) => {
          const values = input.getColumnVector(0);
          for (let row = 0; row < input.rowCount; row++) {
            const value = values.getItem(row) as string | null;
            output.setItem(row, value === null ? null : fn.test(value));
          }
          output.flush();
        },
      }),
    );
  }
}
