import type { Logger } from 'winston';
import type { OutboxPackage } from '../render/package.js';

/** One row of `test-connection`: a single check against a destination. */
export interface CheckResult {
  /** Short name of the check: dns, tcp, tls, host-key, auth, permission, ... */
  check: string;
  ok: boolean;
  /** Milliseconds it took. */
  ms: number;
  /** The precise cause when it failed, or a short detail when it passed. */
  detail: string;
  /** What to do about a failure. */
  hint?: string;
  /** Exit code this failure maps to (69 unreachable, 77 permission/auth, 78 configuration). */
  exitCode?: number;
}

/** One file (or API batch) a delivery sent, as the run record keeps it. */
export interface DeliveredFile {
  name: string;
  bytes: number;
  sha256: string;
  /** Wall time of its transfer, when this delivery sent it (absent when it was already there). */
  ms?: number;
  /** Its transfer rate in MB/s (10^6 bytes a second), with `ms`. */
  mb_per_s?: number;
  /** How the copy at the destination was checked: `size`, or `already-delivered` when it was skipped. */
  verified?: 'size' | 'already-delivered';
}

/** What a delivery did, for the run record, the ledger and the notification. */
export interface DeliveryReceipt {
  destination: string;
  type: string;
  /** Where the files landed, human-readable (sftp://host/path, https://..., a directory). */
  location: string;
  files: DeliveredFile[];
  bytes: number;
  /** Attempts beyond the first, summed over the operations of this delivery. */
  retries: number;
}

/** A message for the partner (after an update) or the data team (on failure). */
export interface Notification {
  kind: 'update' | 'alert' | 'reminder' | 'recovery';
  to: string[];
  subject: string;
  text: string;
  html: string;
  attachments?: { filename: string; path: string }[];
  /** Images shown in the HTML part (`<img src="cid:...">`): charts; always sent, never counted as attachments. */
  inline?: { cid: string; filename: string; contentType: string; content: Buffer }[];
}

/** Everything a connector gets from the runner besides its own options. */
export interface ConnectorContext {
  partner: string;
  home: string;
  logger: Logger;
  /** Resolves a secret by name for this partner (keychain, then the fallbacks). */
  secret: (name: string) => Promise<string>;
  /** Aborted on SIGINT/SIGTERM: stop between operations and clean temporary files. */
  signal?: AbortSignal;
}

/**
 * The one contract every destination implements (sftp, api, email, local).
 * Connectors classify errors where they enter our code: TransientError (retried by the
 * runner) or TerminalError (not retried), both from src/errors.ts.
 */
export interface Connector {
  readonly name: string;
  readonly type: string;
  /** Verifies reachability, identity and permission without touching the partner's data. */
  check(): Promise<CheckResult[]>;
  /** Sends a package idempotently: sending the same package twice leaves one copy. */
  deliver(pkg: OutboxPackage): Promise<DeliveryReceipt>;
  /** Sends a notification (only connectors that can: email, local). */
  notify?(message: Notification): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}

export type ConnectorFactory<O> = (options: O, context: ConnectorContext) => Connector;
