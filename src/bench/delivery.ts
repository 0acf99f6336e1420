// The delivery scenario of `npm run bench`: the daily package just built, and a single
// 1 GiB file, sent by SFTP to a real OpenSSH sshd on loopback, by OpenSSH's own `sftp -b`
// and by dataprod's connector (median MB/s of each); then the package's rows sent to the
// sandbox partner API, in a process of its own, one batch at a time and concurrently.
// Alone: node dist/bench/delivery.js --package <outbox package dir> [--runs 3]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { listPackageUploads, sha256File } from '../connectors/delivery.js';
import { apiOptions, sftpOptions } from '../connectors/options.js';
import type { ConnectorContext } from '../connectors/types.js';
import type { OutboxPackage, PackageManifest } from '../render/package.js';
import { outboxDir } from '../lake/layout.js';
import { silentLogger } from '../log.js';
import { missingOpenSsh, SFTP_USER, startOpenSsh, type OpenSshServer } from './openssh-server.js';

const GIB = 1024 ** 3;
const MB = 1e6;

interface DeliveryBenchOptions {
  /** An outbox package directory (with its manifest.json). */
  packageDir: string;
  /** Scratch space for the 1 GiB file. */
  workDir: string;
  /** Runs per client and case; the median is printed. */
  runs: number;
  /** Size of the single-file case. */
  bigFileBytes?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function readPackage(dir: string): Promise<OutboxPackage> {
  return { dir, manifest: JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as PackageManifest };
}

/** A package of one file of random bytes (incompressible, as SSH sees it). */
async function writeBigFilePackage(dir: string, bytes: number, period: string): Promise<OutboxPackage> {
  await mkdir(dir, { recursive: true });
  const name = 'random.bin';
  const out = createWriteStream(join(dir, name));
  for (let written = 0; written < bytes; ) {
    const chunk = randomBytes(Math.min(16 * 1024 * 1024, bytes - written));
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolveDrain) => out.once('drain', () => resolveDrain()));
  }
  await new Promise<void>((resolveEnd, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolveEnd())));
  const sha256 = await sha256File(join(dir, name));
  const manifest: PackageManifest = {
    partner: 'bench',
    report: 'single-file',
    period,
    rows: 0,
    files: [{ name, bytes, sha256, format: 'bin', rows: 0 }],
    columns: [],
    summary: {},
    generated_at: new Date().toISOString(),
    tool_version: 'bench',
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(dir, 'SHA256SUMS'), `${sha256}  ${name}\n`);
  return { dir, manifest };
}

/** Wall and CPU seconds of a transfer; the CPU of the client only (sftp and its ssh, or this process), not sshd's. */
interface Transfer {
  seconds: number;
  cpuSeconds: number;
}

/** OpenSSH's client: `sftp -b` putting the same files, one after another as it does. */
async function openSshTransfer(server: OpenSshServer, files: string[], batchPath: string): Promise<Transfer> {
  const remote = '/upload/openssh';
  await writeFile(batchPath, `${[`-mkdir ${remote}`, ...files.map((file) => `put ${file} ${remote}/`)].join('\n')}\n`);
  const started = performance.now();
  // bash's `times` prints the CPU its children (sftp and the ssh it runs) used.
  const output = execFileSync(
    'bash',
    ['-c', 'sftp -q -b "$0" -i "$1" -o UserKnownHostsFile="$2" -o StrictHostKeyChecking=yes -o BatchMode=yes -P "$3" "$4" >/dev/null && times', batchPath, server.clientKeyPath, server.knownHostsPath, String(server.port), `${SFTP_USER}@127.0.0.1`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const seconds = (performance.now() - started) / 1000;
  const children = output.trim().split('\n').at(-1)!.split(/\s+/).map((time) => {
    const match = /^(\d+)m([\d.]+)s$/.exec(time);
    return match ? Number(match[1]) * 60 + Number(match[2]) : 0;
  });
  return { seconds, cpuSeconds: children.reduce((sum, value) => sum + value, 0) };
}

interface SftpCase {
  label: string;
  pkg: OutboxPackage;
}

async function benchSftp(options: DeliveryBenchOptions, lines: string[]): Promise<void> {
  const missing = missingOpenSsh();
  if (missing) {
    lines.push(`sftp: skipped (${missing})`);
    return;
  }
  const { createSftpConnector } = await import('../connectors/sftp.js');
  const server = await startOpenSsh();
  try {
    const daily = await readPackage(options.packageDir);
    const big = await writeBigFilePackage(join(options.workDir, 'single-file'), options.bigFileBytes ?? GIB, daily.manifest.period);
    const cases: SftpCase[] = [
      { label: `${daily.manifest.report} package`, pkg: daily },
      { label: `single ${((options.bigFileBytes ?? GIB) / GIB).toFixed(0)} GiB file`, pkg: big },
    ];
    const context: ConnectorContext = { partner: daily.manifest.partner, home: options.workDir, logger: silentLogger(), secret: async () => server.clientKey };
    const connectorFor = (concurrency?: number) =>
      createSftpConnector(
        sftpOptions.parse({ name: 'bench', type: 'sftp', host: '127.0.0.1', port: server.port, username: SFTP_USER, directory: '/upload/dataprod/{report}/{period}', host_fingerprints: [server.hostFingerprint], ...(concurrency ? { concurrency } : {}) }),
        context,
      );
    lines.push(`sftp to OpenSSH sshd on loopback, median of ${options.runs} runs (MB = 10^6 bytes):`);
    lines.push(`${'files'.padEnd(28)}${'MB'.padStart(8)}${'OpenSSH sftp -b'.padStart(17)}${'dataprod'.padStart(10)}${'ratio'.padStart(8)}${'1 at a time'.padStart(13)}${'client CPU s OpenSSH/dataprod'.padStart(31)}`);
    for (const { label, pkg } of cases) {
      const uploads = await listPackageUploads(pkg);
      const bytes = uploads.reduce((sum, upload) => sum + upload.bytes, 0);
      const openssh: number[] = [];
      const dataprod: number[] = [];
      const serial: number[] = [];
      const opensshCpu: number[] = [];
      const dataprodCpu: number[] = [];
      let perFile = '';
      for (let run = 0; run < options.runs; run++) {
        const transfer = await openSshTransfer(server, uploads.map((upload) => upload.path), join(options.workDir, 'sftp-batch'));
        openssh.push(bytes / MB / transfer.seconds);
        opensshCpu.push(transfer.cpuSeconds);
        await rm(join(server.uploadDir, 'openssh'), { recursive: true, force: true });
        for (const [concurrency, into] of [[undefined, dataprod], [1, serial]] as const) {
          if (concurrency === 1 && uploads.length <= 3) continue;
          const started = performance.now();
          const cpuBefore = process.cpuUsage();
          const receipt = await connectorFor(concurrency).deliver(pkg);
          into.push(bytes / MB / ((performance.now() - started) / 1000));
          const cpu = process.cpuUsage(cpuBefore);
          if (concurrency === undefined) dataprodCpu.push((cpu.user + cpu.system) / 1e6);
          if (concurrency === undefined) perFile = receipt.files.filter((file) => file.bytes > MB).map((file) => `${file.name.split('.').pop()} ${file.mb_per_s}`).join(', ');
          await rm(join(server.uploadDir, 'dataprod'), { recursive: true, force: true });
        }
      }
      const ratio = median(dataprod) / median(openssh);
      lines.push(
        `${label.padEnd(28)}${(bytes / MB).toFixed(0).padStart(8)}${median(openssh).toFixed(0).padStart(17)}${median(dataprod).toFixed(0).padStart(10)}${`${(ratio * 100).toFixed(0)}%`.padStart(8)}${(serial.length ? median(serial).toFixed(0) : '-').padStart(13)}${`${median(opensshCpu).toFixed(1)} / ${median(dataprodCpu).toFixed(1)}`.padStart(31)}`,
      );
      lines.push(`  dataprod per file, last run (MB/s, files sent side by side share the link): ${perFile}`);
    }
    lines.push('  dataprod times the whole deliver(): connect, listing, each file hashed as it is sent, size check and rename; target >= 70% of OpenSSH');
  } finally {
    await server.stop();
  }
}

/** The sandbox partner API in a child process, so its CPU is not the client's. */
async function startApiChild(root: string): Promise<{ url: string; cpuSeconds(): Promise<number>; stop(): Promise<void> }> {
  const module = pathToFileURL(fileURLToPath(new URL('../sandbox/api-server.js', import.meta.url))).href;
  const script = [
    `const { startApiSandbox } = await import(${JSON.stringify(module)});`,
    `const api = await startApiSandbox({ root: ${JSON.stringify(root)}, username: 'bench', password: 'bench-password' });`,
    'console.log(api.url);',
    "process.stdin.setEncoding('utf8').on('data', () => { const u = process.resourceUsage(); console.log((u.userCPUTime + u.systemCPUTime) / 1e6); });",
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value);
  const url = await next();
  return {
    url,
    async cpuSeconds() {
      child.stdin!.write('usage\n');
      return Number(await next());
    },
    async stop() {
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function benchApi(options: DeliveryBenchOptions, lines: string[]): Promise<void> {
  const { createApiConnector, readPackageRows } = await import('../connectors/api.js');
  const pkg = await readPackage(options.packageDir);
  const context: ConnectorContext = { partner: pkg.manifest.partner, home: options.workDir, logger: silentLogger(), secret: async () => 'bench-password' };
  const readStarted = performance.now();
  await readPackageRows(pkg, options.workDir);
  const readSeconds = (performance.now() - readStarted) / 1000;
  lines.push('', `api to the sandbox partner API (another process), ${pkg.manifest.rows.toLocaleString('en')} rows, batch_size ${apiOptions.parse({ name: 'x', type: 'api', base_url: 'http://127.0.0.1', auth: { type: 'bearer' } }).batch_size}:`);
  lines.push(`${'concurrency'.padEnd(14)}${'wall s'.padStart(8)}${'rows/s'.padStart(10)}${'client CPU s'.padStart(14)}${'API CPU s'.padStart(11)}`);
  for (const concurrency of [1, 4, 8]) {
    const root = join(options.workDir, `api-${concurrency}`);
    const api = await startApiChild(root);
    try {
      const connector = createApiConnector(apiOptions.parse({ name: 'bench', type: 'api', base_url: api.url, auth: { type: 'password', username: 'bench' }, concurrency }), context);
      const serverBefore = await api.cpuSeconds();
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await connector.deliver(pkg);
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const serverCpu = (await api.cpuSeconds()) - serverBefore;
      lines.push(`${String(concurrency).padEnd(14)}${seconds.toFixed(1).padStart(8)}${Math.round(pkg.manifest.rows / seconds).toLocaleString('en').padStart(10)}${((cpu.user + cpu.system) / 1e6).toFixed(1).padStart(14)}${serverCpu.toFixed(1).padStart(11)}`);
    } finally {
      await api.stop();
      await rm(root, { recursive: true, force: true });
    }
  }
  lines.push(`  wall includes reading the rows from Parquet as JSON (${readSeconds.toFixed(1)} s alone, DuckDB to_json)`);
}

/** Runs both delivery benchmarks on a built package; returns the lines to print. */
export async function benchDelivery(options: DeliveryBenchOptions): Promise<string> {
  const lines: string[] = [`delivery of ${options.packageDir}:`];
  process.stderr.write('bench: delivery (sftp) ...\n');
  await benchSftp(options, lines);
  process.stderr.write('bench: delivery (api) ...\n');
  await benchApi(options, lines);
  return `${lines.join('\n')}\n`;
}

/** The scenario as `npm run bench` runs it: on the daily package the build stage left in `home`. */
export async function benchDeliveryIn(home: string, day: string, runs = 3): Promise<string> {
  const workDir = await mkdtemp(join(home, 'bench-delivery-'));
  try {
    return await benchDelivery({ packageDir: outboxDir(home, 'ouchhungry', 'daily-analytic', day), workDir, runs });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { package: { type: 'string' }, runs: { type: 'string', default: '3' }, 'big-file-mib': { type: 'string', default: '1024' } } });
  if (!values.package) {
    process.stderr.write('bench delivery: --package <outbox package directory> is required\n');
    process.exit(64);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'dataprod-bench-delivery-'));
  try {
    process.stdout.write(await benchDelivery({ packageDir: resolve(values.package), workDir, runs: Number(values.runs), bigFileBytes: Number(values['big-file-mib']) * 1024 * 1024 }));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
