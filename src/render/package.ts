/** One file of an outbox package, as listed in its manifest.json. */
export interface PackageFile {
  /** File name inside the package directory (no path). */
  name: string;
  /** Size in bytes. */
  bytes: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  /** Rendering format: csv, parquet, json, xlsx. */
  format: string;
  /** Rows in the file. */
  rows: number;
}

/** What `build` leaves in <home>/outbox/<partner>/<report>/<period>/manifest.json. */
export interface PackageManifest {
  partner: string;
  report: string;
  /** YYYY-MM-DD for daily reports, YYYY-MM for monthly ones. */
  period: string;
  rows: number;
  files: PackageFile[];
  columns: { name: string; type: string }[];
  /** Report-specific figures for notifications and gates (units, revenue, suppressed cells...). */
  summary: Record<string, number | string | null>;
  generated_at: string;
  tool_version: string;
  /**
   * Present when the package has a CSV file: text cells starting with one of `triggers`
   * are prefixed with `prefix` in the CSV only (spreadsheet formula injection, OWASP).
   */
  csv_formula_escaping?: { rule: string; prefix: string; triggers: string[]; applies_to: string };
}

/** An outbox package ready to deliver. */
export interface OutboxPackage {
  /** Absolute path of the package directory. */
  dir: string;
  manifest: PackageManifest;
}
