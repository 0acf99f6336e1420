import { timingSafeEqual } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import ssh2, { type Algorithms, type Attributes, type Connection, type FileEntry, type SFTPWrapper } from 'ssh2';
import type { Logger } from 'winston';
import { sha256Fingerprint } from '../connectors/host-keys.js';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** Faults the tests inject into the sandbox SFTP server. */
export interface SftpSandboxFaults {
  /** The next `times` uploads (default 1) lose their connection once a file has received `bytes` bytes. */
  dropAfterBytes(bytes: number, times?: number): void;
  /** Writes (open for writing, mkdir, remove, rename) at or below this path answer PERMISSION_DENIED. */
  denyWrite(prefix: string): void;
  /** Removes every fault. */
  reset(): void;
  /** Connections dropped so far by dropAfterBytes. */
  readonly dropped: number;
  /** Requests refused so far by denyWrite. */
  readonly denied: number;
}

export interface SftpSandboxOptions {
  /** Real directory served as "/" (created when missing); paths cannot leave it. */
  root: string;
  /** OpenSSH private host key. */
  hostKey: string;
  /** The only public key accepted, as an OpenSSH line ("ssh-ed25519 AAAA..."). */
  authorizedKey: string;
  /** The only user name accepted. */
  username: string;
  /** 0 or absent: an ephemeral port. */
  port?: number;
  /** Debug lines about connections and refusals. */
  logger?: Logger;
  /** Transport algorithms (tests offer only weak ones to check they are refused). */
  algorithms?: Algorithms;
  /** Announce and serve posix-rename@openssh.com (default true; false imitates an old server). */
  posixRename?: boolean;
}

export interface SftpSandbox {
  host: '127.0.0.1';
  port: number;
  /** SHA256:... of the host key, to pin in host_fingerprints. */
  fingerprint: string;
  root: string;
  username: string;
  faults: SftpSandboxFaults;
  close(): Promise<void>;
}

type OpenHandle = { kind: 'file'; file: FileHandle; path: string; written: number } | { kind: 'dir'; path: string; sent: boolean };

const POSIX_RENAME = 'posix-rename@openssh.com';

/** The VERSION packet ssh2's server sends (version 3, no extensions) ... */
const PLAIN_VERSION = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]);
/** ... and the one we send instead, announcing posix-rename@openssh.com like OpenSSH does. */
const VERSION_WITH_EXTENSIONS = (() => {
  const name = Buffer.from(POSIX_RENAME);
  const data = Buffer.from('1');
  const body = Buffer.alloc(1 + 4 + 4 + name.length + 4 + data.length);
  let offset = body.writeUInt8(2, 0);
  offset = body.writeUInt32BE(3, offset);
  offset = body.writeUInt32BE(name.length, offset);
  offset += name.copy(body, offset);
  offset = body.writeUInt32BE(data.length, offset);
  data.copy(body, offset);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
})();

/**
 * ssh2's server answers INIT with a fixed VERSION packet that announces no extension,
 * so clients would never use posix-rename. Swap that one packet on this channel for
 * one that announces it (and charge the extra bytes to the channel window).
 */
function announceExtensions(sftp: SFTPWrapper): void {
  const internals = sftp as unknown as { _protocol: { channelData(id: number, data: Buffer): void }; outgoing: { id: number; window: number } };
  const protocol = internals._protocol;
  const original = protocol.channelData;
  protocol.channelData = function patched(this: unknown, id: number, data: Buffer) {
    if (id === internals.outgoing.id && data.equals(PLAIN_VERSION)) {
      protocol.channelData = original;
      internals.outgoing.window -= VERSION_WITH_EXTENSIONS.length - PLAIN_VERSION.length;
      return original.call(this, id, VERSION_WITH_EXTENSIONS);
    }
    return original.call(this, id, data);
  };
}

function statusFor(error: unknown): number {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return STATUS_CODE.NO_SUCH_FILE;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return STATUS_CODE.PERMISSION_DENIED;
    default:
      return STATUS_CODE.FAILURE;
  }
}

function attributesOf(stats: Stats): Attributes {
  return { mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, atime: Math.floor(stats.atimeMs / 1000), mtime: Math.floor(stats.mtimeMs / 1000) };
}

function longName(name: string, stats: Stats): string {
  const type = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((letter, index) => (stats.mode & (0o400 >> index) ? letter : '-'))
    .join('');
  const date = new Date(stats.mtimeMs).toISOString().slice(0, 16).replace('T', ' ');
  return `${type}${bits} 1 ${stats.uid} ${stats.gid} ${stats.size} ${date} ${name}`;
}

/** Node open() flags from SFTP pflags. */
function openFlags(pflags: number): number {
  const read = (pflags & OPEN_MODE.READ) !== 0;
  const write = (pflags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
  let flags = read && write ? constants.O_RDWR : write ? constants.O_WRONLY : constants.O_RDONLY;
  if (pflags & OPEN_MODE.APPEND) flags |= constants.O_APPEND;
  if (pflags & OPEN_MODE.CREAT) flags |= constants.O_CREAT;
  if (pflags & OPEN_MODE.TRUNC) flags |= constants.O_TRUNC;
  if (pflags & OPEN_MODE.EXCL) flags |= constants.O_EXCL;
  return flags;
}

/**
 * A real SFTP server on 127.0.0.1 (ssh2's Server): one user, one accepted public key, a
 * real directory as its root, the requests SFTP clients use (OPEN READ WRITE CLOSE
 * STAT LSTAT FSTAT SETSTAT MKDIR OPENDIR READDIR REMOVE RENAME REALPATH RMDIR and
 * posix-rename@openssh.com), and faults on demand for the tests.
 */
export async function startSftpSandbox(options: SftpSandboxOptions): Promise<SftpSandbox> {
  const root = resolve(options.root);
  await mkdir(root, { recursive: true });
  const hostKey = utils.parseKey(options.hostKey);
  if (hostKey instanceof Error) throw new Error(`sandbox SFTP host key is not valid: ${hostKey.message}`);
  const allowed = utils.parseKey(options.authorizedKey);
  if (allowed instanceof Error) throw new Error(`sandbox SFTP authorized key is not valid: ${allowed.message}`);
  const allowedBlob = allowed.getPublicSSH();
  const fingerprint = sha256Fingerprint(hostKey.getPublicSSH());
  const log = (message: string) => options.logger?.debug(`sandbox sftp: ${message}`);

  let drop: { bytes: number; times: number } | undefined;
  let denyPrefixes: string[] = [];
  let dropped = 0;
  let denied = 0;
  const faults: SftpSandboxFaults = {
    dropAfterBytes(bytes, times = 1) {
      drop = { bytes, times };
    },
    denyWrite(prefix) {
      denyPrefixes.push(posix.normalize(posix.join('/', prefix)).replace(/(.)\/+$/, '$1'));
    },
    reset() {
      drop = undefined;
      denyPrefixes = [];
    },
    get dropped() {
      return dropped;
    },
    get denied() {
      return denied;
    },
  };

  /** Virtual path (always absolute, never above "/") and its real path inside the root. */
  const locate = (path: string): { virtual: string; real: string } => {
    const virtual = posix.normalize(posix.join('/', path));
    const real = join(root, virtual);
    if (real !== root && !real.startsWith(`${root}/`)) throw Object.assign(new Error('outside the root'), { code: 'EACCES' });
    return { virtual, real };
  };
  const isDenied = (virtual: string): boolean => denyPrefixes.some((prefix) => prefix === '/' || virtual === prefix || virtual.startsWith(`${prefix}/`));

  const connections = new Set<Connection>();
  const server = new Server({ hostKeys: [options.hostKey], algorithms: options.algorithms }, (connection) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    // A client that vanishes mid-request is normal here (the fault tests do it on purpose).
    connection.on('error', (error) => log(`connection error: ${error.message}`));
    connection.on('authentication', (context) => {
      if (context.method !== 'publickey' || context.username !== options.username) return context.reject(['publickey']);
      const offered = context.key.data;
      if (context.key.algo !== allowed.type || offered.length !== allowedBlob.length || !timingSafeEqual(offered, allowedBlob)) {
        log(`refused key for ${context.username}`);
        return context.reject(['publickey']);
      }
      // Without a signature the client only asks whether the key would do.
      if (!context.signature) return context.accept();
      if (allowed.verify(context.blob!, context.signature, context.hashAlgo) === true) return context.accept();
      return context.reject(['publickey']);
    });
    connection.on('ready', () => {
      connection.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          if (options.posixRename !== false) announceExtensions(sftp);
          serve(sftp, connection);
        });
      });
    });
  });

  function serve(sftp: SFTPWrapper, connection: Connection): void {
    const handles = new Map<number, OpenHandle>();
    let nextHandle = 1;
    const handleBuffer = (id: number) => {
      const buffer = Buffer.alloc(4);
      buffer.writeUInt32BE(id);
      return buffer;
    };
    const find = (handle: Buffer): OpenHandle | undefined => (handle.length === 4 ? handles.get(handle.readUInt32BE(0)) : undefined);
    const closeAll = () => {
      for (const handle of handles.values()) if (handle.kind === 'file') void handle.file.close().catch(() => undefined);
      handles.clear();
    };
    sftp.on('close', closeAll);
    connection.on('close', closeAll);

    /** Runs a request; any thrown error becomes its SFTP status. */
    const answer = (reqId: number, work: () => Promise<void>) => {
      work().catch((error: unknown) => {
        try {
          sftp.status(reqId, statusFor(error), (error as Error).message);
        } catch {
          // The channel is gone.
        }
      });
    };
    const refuse = (reqId: number, virtual: string): boolean => {
      if (!isDenied(virtual)) return false;
      denied += 1;
      log(`denied write to ${virtual}`);
      sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${virtual}`);
      return true;
    };
    const ok = (reqId: number) => sftp.status(reqId, STATUS_CODE.OK);

    sftp.on('OPEN', (reqId, filename, flags) => {
      answer(reqId, async () => {
        const { virtual, real } = locate(filename);
        const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC)) !== 0;
        if (writing && refuse(reqId, virtual)) return;
        const file = await open(real, openFlags(flags), 0o644);
        const id = nextHandle++;
        handles.set(id, { kind: 'file', file, path: virtual, written: 0 });
        sftp.handle(reqId, handleBuffer(id));
      });
    });

    sftp.on('READ', (reqId, handle, offset, length) => {
      answer(reqId, async () => {
        const open = find(handle);
        if (open?.kind !== 'file') return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await open.file.read(buffer, 0, length, offset);
        if (bytesRead === 0) return sftp.status(reqId, STATUS_CODE.EOF);
        sftp.data(reqId, buffer.subarray(0, bytesRead));
      });
    });

    sftp.on('WRITE', (reqId, handle, offset, data) => {
      answer(reqId, async () => {
        const open = find(handle);
        if (open?.kind !== 'file') return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
        const end = offset + data.length;
        if (drop && drop.times > 0 && end >= drop.bytes) {
          // Keep what arrived before the cut, like a real server would, then vanish.
          const keep = Math.max(0, drop.bytes - offset);
          if (keep > 0) await open.file.write(data, 0, keep, offset);
          drop.times -= 1;
          dropped += 1;
          log(`dropping the connection after ${drop.bytes} bytes of ${open.path}`);
          (connection as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
          return;
        }
        await open.file.write(data, 0, data.length, offset);
        open.written = Math.max(open.written, end);
        ok(reqId);
      });
    });

    sftp.on('CLOSE', (reqId, handle) => {
      answer(reqId, async () => {
        const open = find(handle);
        if (!open) return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
        handles.delete(handle.readUInt32BE(0));
        if (open.kind === 'file') await open.file.close();
        ok(reqId);
      });
    });

    sftp.on('FSTAT', (reqId, handle) => {
      answer(reqId, async () => {
        const open = find(handle);
        if (!open) return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
        sftp.attrs(reqId, attributesOf(open.kind === 'file' ? await open.file.stat() : await stat(locate(open.path).real)));
      });
    });

    sftp.on('FSETSTAT', (reqId, handle, attrs) => {
      answer(reqId, async () => {
        const open = find(handle);
        if (!open) return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
        if (open.kind === 'file' && attrs.mode !== undefined) await open.file.chmod(attrs.mode & 0o777);
        ok(reqId);
      });
    });

    sftp.on('SETSTAT', (reqId, path, attrs) => {
      answer(reqId, async () => {
        const { virtual, real } = locate(path);
        if (refuse(reqId, virtual)) return;
        if (attrs.mode !== undefined) await chmod(real, attrs.mode & 0o777);
        else await stat(real);
        ok(reqId);
      });
    });

    for (const [event, how] of [
      ['STAT', stat],
      ['LSTAT', lstat],
    ] as const) {
      sftp.on(event, (reqId: number, path: string) => {
        answer(reqId, async () => sftp.attrs(reqId, attributesOf(await how(locate(path).real))));
      });
    }

    sftp.on('OPENDIR', (reqId, path) => {
      answer(reqId, async () => {
        const { virtual, real } = locate(path);
        if (!(await stat(real)).isDirectory()) return sftp.status(reqId, STATUS_CODE.FAILURE, 'not a directory');
        const id = nextHandle++;
        handles.set(id, { kind: 'dir', path: virtual, sent: false });
        sftp.handle(reqId, handleBuffer(id));
      });
    });

    sftp.on('READDIR', (reqId, handle) => {
      answer(reqId, async () => {
        const open = find(handle);
        if (open?.kind !== 'dir') return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
        if (open.sent) return sftp.status(reqId, STATUS_CODE.EOF);
        open.sent = true;
        const { real } = locate(open.path);
        const entries: FileEntry[] = [];
        for (const name of await readdir(real)) {
          const stats = await lstat(join(real, name)).catch(() => undefined);
          if (stats) entries.push({ filename: name, longname: longName(name, stats), attrs: attributesOf(stats) });
        }
        if (entries.length === 0) return sftp.status(reqId, STATUS_CODE.EOF);
        sftp.name(reqId, entries);
      });
    });

    sftp.on('REALPATH', (reqId, path) => {
      answer(reqId, async () => {
        const { virtual } = locate(path);
        sftp.name(reqId, [{ filename: virtual, longname: virtual, attrs: {} as Attributes }]);
      });
    });

    sftp.on('MKDIR', (reqId, path) => {
      answer(reqId, async () => {
        const { virtual, real } = locate(path);
        if (refuse(reqId, virtual)) return;
        await mkdir(real);
        ok(reqId);
      });
    });

    sftp.on('RMDIR', (reqId, path) => {
      answer(reqId, async () => {
        const { virtual, real } = locate(path);
        if (refuse(reqId, virtual)) return;
        await rmdir(real);
        ok(reqId);
      });
    });

    sftp.on('REMOVE', (reqId, path) => {
      answer(reqId, async () => {
        const { virtual, real } = locate(path);
        if (refuse(reqId, virtual)) return;
        await unlink(real);
        ok(reqId);
      });
    });

    sftp.on('RENAME', (reqId, oldPath, newPath) => {
      answer(reqId, async () => {
        const from = locate(oldPath);
        const to = locate(newPath);
        if (refuse(reqId, from.virtual) || refuse(reqId, to.virtual)) return;
        // SFTP v3 RENAME must not replace an existing file (OpenSSH refuses too): that is
        // what posix-rename is for.
        const exists = await lstat(to.real).then(
          () => true,
          () => false,
        );
        if (exists) return sftp.status(reqId, STATUS_CODE.FAILURE, `${to.virtual} exists`);
        await rename(from.real, to.real);
        ok(reqId);
      });
    });

    sftp.on('EXTENDED', (reqId, name, data) => {
      if (name !== POSIX_RENAME || options.posixRename === false) return sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED);
      answer(reqId, async () => {
        const oldLength = data.readUInt32BE(0);
        const oldPath = data.toString('utf8', 4, 4 + oldLength);
        const newLength = data.readUInt32BE(4 + oldLength);
        const newPath = data.toString('utf8', 8 + oldLength, 8 + oldLength + newLength);
        const from = locate(oldPath);
        const to = locate(newPath);
        if (refuse(reqId, from.virtual) || refuse(reqId, to.virtual)) return;
        await rename(from.real, to.real);
        ok(reqId);
      });
    });

    for (const event of ['READLINK', 'SYMLINK']) {
      sftp.on(event, (reqId: number) => sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED));
    }
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  log(`listening on 127.0.0.1:${port}, root ${root}`);

  return {
    host: '127.0.0.1',
    port,
    fingerprint,
    root,
    username: options.username,
    faults,
    async close() {
      await new Promise<void>((resolveClose) => {
        const timer = setTimeout(() => {
          for (const connection of connections) (connection as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
        }, 1_000);
        server.close(() => {
          clearTimeout(timer);
          resolveClose();
        });
        for (const connection of connections) connection.end();
      });
    },
  };
}
