import { z } from 'zod';

/**
 * Options of each destination type, validated with the partner configuration so that
 * every problem is reported at once with its field path. Kept free of heavy imports:
 * the connectors themselves (ssh2, got, nodemailer) load lazily from the registry.
 */

const retryOptions = z
  .object({
    /** Attempts in all, the first included. */
    max_attempts: z.number().int().min(1).max(20).default(5),
    /** First backoff delay; doubles each attempt, with jitter. */
    base_delay_ms: z.number().int().min(0).default(500),
    /** Cap on one backoff delay. */
    max_delay_ms: z.number().int().min(0).default(30_000),
  })
  .default({ max_attempts: 5, base_delay_ms: 500, max_delay_ms: 30_000 });

const common = {
  /** Unique name of this destination within the partner, used in ledgers and logs. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  /** A destination can be described but left off until `dataprod init` finishes it. */
  enabled: z.boolean().default(true),
  /** Reports this destination receives; all the partner's reports when absent. */
  reports: z.array(z.string()).optional(),
  retry: retryOptions,
};

export const sftpOptions = z.object({
  ...common,
  type: z.literal('sftp'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  /** Remote directory template; {partner}, {report} and {period} are filled in. */
  directory: z.string().default('/inbound/{partner}/{report}/{period}/'),
  /** `key` (default) or `password`; password auth only when asked for explicitly. */
  auth: z.enum(['key', 'password']).default('key'),
  /** Secret names (looked up per partner). */
  private_key_secret: z.string().default('sftp-private-key'),
  passphrase_secret: z.string().optional(),
  password_secret: z.string().optional(),
  /** Pinned host key fingerprints, `SHA256:<base64>` as ssh-keygen -l prints them. */
  host_fingerprints: z.array(z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'SHA256:<43 base64 characters>')).default([]),
  /** A known_hosts file to verify the host key against (instead of or besides fingerprints). */
  known_hosts: z.string().optional(),
  /** Re-enables ssh-rsa (SHA-1), SHA-1 key exchange and CBC ciphers for old servers. */
  allow_weak_algorithms: z.boolean().default(false),
  /** fastPut is faster but has produced corrupt files of the right size: opt in only. */
  fast_put: z.boolean().default(false),
  /** Files of a package uploaded at once over the one connection (fewer if the server limits open handles). */
  concurrency: z.number().int().min(1).max(8).default(3),
  connect_timeout_ms: z.number().int().positive().default(20_000),
  operation_timeout_ms: z.number().int().positive().default(60_000),
  keepalive_interval_ms: z.number().int().positive().default(10_000),
});

export const apiOptions = z.object({
  ...common,
  type: z.literal('api'),
  /** Base URL; https required except on loopback. */
  base_url: z.string().url(),
  auth: z.discriminatedUnion('type', [
    z.object({ type: z.literal('bearer'), token_secret: z.string().default('api-token') }),
    z.object({
      type: z.literal('password'),
      /** Path or URL of the token endpoint, relative to base_url. */
      token_path: z.string().default('/oauth/token'),
      username: z.string().min(1),
      password_secret: z.string().default('api-password'),
    }),
  ]),
  /** `rows`: the report rows as JSON batches; `files`: the rendered files; or both. */
  send: z.array(z.enum(['rows', 'files'])).min(1).default(['rows']),
  batch_size: z.number().int().min(1).max(100_000).default(1000),
  /** Row batches in flight at once (the last batch of a package is always sent alone, after the others). */
  concurrency: z.number().int().min(1).max(32).default(4),
  rows_path: z.string().default('/v1/reports/{report}/rows'),
  files_path: z.string().default('/v1/reports/{report}/files'),
  health_path: z.string().default('/health'),
  timeout_ms: z.number().int().positive().default(30_000),
});

export const emailOptions = z.object({
  ...common,
  type: z.literal('email'),
  host: z.string().min(1),
  /** 465 means implicit TLS; 587 means STARTTLS, required. */
  port: z.number().int().min(1).max(65535).default(587),
  /** `tls` (465), `starttls` (587, required), or `none` (loopback only). */
  security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
  from: z.string().min(3),
  username: z.string().optional(),
  password_secret: z.string().default('smtp-password'),
  /** Attach the report files to partner notifications (off by default). */
  attachments: z.boolean().default(false),
  attachment_max_bytes: z.number().int().positive().default(5 * 1024 * 1024),
  timeout_ms: z.number().int().positive().default(30_000),
});

export const localOptions = z.object({
  ...common,
  type: z.literal('local'),
  /** Target directory template; {partner}, {report}, {period}; relative paths are under --home. */
  directory: z.string().default('deliveries/{partner}/{report}/{period}'),
  /** Fault injection for --dry-run rehearsals and retry tests. */
  fail: z.enum(['transient', 'terminal']).optional(),
  /** With `fail`: how many calls fail before one succeeds (transient), default: all. */
  fail_times: z.number().int().min(0).optional(),
});

export const destinationOptions = z.discriminatedUnion('type', [sftpOptions, apiOptions, emailOptions, localOptions]);

export type SftpOptions = z.infer<typeof sftpOptions>;
export type ApiOptions = z.infer<typeof apiOptions>;
export type EmailOptions = z.infer<typeof emailOptions>;
export type LocalOptions = z.infer<typeof localOptions>;
export type DestinationOptions = z.infer<typeof destinationOptions>;
export type DestinationType = DestinationOptions['type'];
