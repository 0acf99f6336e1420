import type { SourceTable } from '../lake/layout.js';

/** A silver column type; every bronze column is text, silver is typed. */
export type SilverType = 'VARCHAR' | 'INTEGER' | 'DECIMAL(12,2)' | 'TIMESTAMPTZ';

export interface ColumnContract {
  /** Source (and silver) column name. */
  name: string;
  /** Type in silver. */
  type: SilverType;
}

export interface TableContract {
  table: SourceTable;
  /** Raw columns every source must have, in contract order; silver keeps these names. */
  columns: readonly ColumnContract[];
}

/**
 * The source contract of issue 2: raw columns arrive as text; silver types them. Extra
 * source columns are not listed here: they are carried along as VARCHAR.
 */
export const tableContracts: Readonly<Record<SourceTable, TableContract>> = {
  products: {
    table: 'products',
    columns: [
      { name: 'product_code', type: 'VARCHAR' },
      { name: 'name', type: 'VARCHAR' },
      { name: 'brand', type: 'VARCHAR' },
      { name: 'manufacturer', type: 'VARCHAR' },
      { name: 'segment', type: 'VARCHAR' },
      { name: 'list_price', type: 'DECIMAL(12,2)' },
    ],
  },
  customers: {
    table: 'customers',
    columns: [
      { name: 'customer_id', type: 'VARCHAR' },
      { name: 'name', type: 'VARCHAR' },
      { name: 'email', type: 'VARCHAR' },
      { name: 'cpf', type: 'VARCHAR' },
      { name: 'phone', type: 'VARCHAR' },
      { name: 'cep', type: 'VARCHAR' },
      { name: 'city', type: 'VARCHAR' },
      { name: 'state', type: 'VARCHAR' },
      { name: 'created_at', type: 'TIMESTAMPTZ' },
    ],
  },
  transactions: {
    table: 'transactions',
    columns: [
      { name: 'transaction_id', type: 'VARCHAR' },
      { name: 'customer_id', type: 'VARCHAR' },
      { name: 'product_code', type: 'VARCHAR' },
      { name: 'quantity', type: 'INTEGER' },
      { name: 'unit_price', type: 'DECIMAL(12,2)' },
      { name: 'status', type: 'VARCHAR' },
      { name: 'payment_method', type: 'VARCHAR' },
      { name: 'city', type: 'VARCHAR' },
      { name: 'state', type: 'VARCHAR' },
      { name: 'sold_at', type: 'TIMESTAMPTZ' },
    ],
  },
};

/** Required raw column names of a table, in contract order. */
export function requiredColumns(table: SourceTable): string[] {
  return tableContracts[table].columns.map((column) => column.name);
}

/**
 * How a source header name maps onto ours: real exports have 'Customer_ID ' or
 * 'PRODUCT_CODE', so names are matched trimmed and case-insensitively.
 */
export function normaliseColumnName(name: string): string {
  return name.trim().toLowerCase();
}

/** The 27 federative units (26 states and the Federal District). */
export const BRAZILIAN_UFS = [
  'AC', 'AL', 'AP', 'AM', 'BA', 'CE', 'DF', 'ES', 'GO', 'MA', 'MT', 'MS', 'MG', 'PA',
  'PB', 'PR', 'PE', 'PI', 'RJ', 'RN', 'RS', 'RO', 'RR', 'SC', 'SP', 'SE', 'TO',
] as const;

/** Transaction statuses silver accepts (lower-case). */
export const TRANSACTION_STATUSES = ['completed', 'cancelled', 'refunded'] as const;

/**
 * Product codes as the catalogue writes them (SKU-HNG-0001). The synthetic generator
 * exports the same pattern as PRODUCT_CODE_PATTERN; this copy keeps cleaning independent.
 */
export const PRODUCT_CODE_REGEX = '^[A-Z]{3}-[A-Z]{3}-[0-9]{4}$';
