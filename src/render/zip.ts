import { open, type FileHandle } from 'node:fs/promises';
import { constants, crc32, createDeflateRaw } from 'node:zlib';
import { DataError } from '../errors.js';

// A zip container of our own over node:zlib's raw deflate, rather than a zip library:
// an XLSX needs only the plain subset (deflated entries, no encryption, no zip64), and
// owning it keeps the bytes reproducible (every entry dated 1980-01-01, entries in the
// order written, no extra fields) and the memory constant: each entry streams through
// deflate (on libuv's thread pool, beside the main thread) straight into the file, and
// its CRC and sizes are written back into its local header afterwards, so no data
// descriptors are needed. The libraries we looked at either buffer entries, stamp the
// current time, or bring more than this file does.

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** MS-DOS date of 1980-01-01 (the earliest a zip can say) at 00:00:00. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
const ZIP32_LIMIT = 0xffffffff;

interface Entry {
  name: Buffer;
  offset: number;
  crc: number;
  compressed: number;
  size: number;
}

/** Writes a zip file entry by entry; `close` writes the central directory. */
export class ZipWriter {
  private offset = 0;
  private readonly entries: Entry[] = [];

  private constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    private readonly level: number,
  ) {}

  /** `level` is deflate's 1 (fastest) to 9 (smallest). */
  static async create(path: string, options: { level?: number } = {}): Promise<ZipWriter> {
    return new ZipWriter(await open(path, 'w'), path, options.level ?? constants.Z_DEFAULT_COMPRESSION);
  }

  private async write(buffer: Buffer): Promise<void> {
    await this.file.write(buffer, 0, buffer.length, this.offset);
    this.offset += buffer.length;
  }

  /**
   * Adds one deflated entry from text or buffers produced in order; a generator is read
   * as deflate drains, so a large entry never sits in memory.
   */
  async add(name: string, content: string | Buffer | AsyncIterable<string | Buffer> | Iterable<string | Buffer>): Promise<void> {
    const entry: Entry = { name: Buffer.from(name, 'utf8'), offset: this.offset, crc: 0, compressed: 0, size: 0 };
    await this.write(localHeader(entry));
    const dataStart = this.offset;
    const deflate = createDeflateRaw({ level: this.level, chunkSize: 1 << 16 });
    const drained = (async () => {
      for await (const piece of deflate as AsyncIterable<Buffer>) await this.write(piece);
    })();
    try {
      const pieces = typeof content === 'string' || Buffer.isBuffer(content) ? [content] : content;
      for await (const piece of pieces) {
        const buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
        if (buffer.length === 0) continue;
        entry.crc = crc32(buffer, entry.crc);
        entry.size += buffer.length;
        if (entry.size > ZIP32_LIMIT) throw new DataError(`${this.path}: ${name} exceeds 4 GiB uncompressed, more than an XLSX without zip64 can hold`, { hint: 'deliver the CSV or Parquet file instead' });
        if (!deflate.write(buffer)) await new Promise<void>((resolve) => deflate.once('drain', resolve));
      }
      deflate.end();
      await drained;
    } catch (error) {
      deflate.destroy();
      await drained.catch(() => undefined);
      throw error;
    }
    entry.compressed = this.offset - dataStart;
    if (this.offset > ZIP32_LIMIT) throw new DataError(`${this.path}: the file exceeds 4 GiB, more than an XLSX without zip64 can hold`, { hint: 'deliver the CSV or Parquet file instead' });
    const sizes = Buffer.alloc(12);
    sizes.writeUInt32LE(entry.crc, 0);
    sizes.writeUInt32LE(entry.compressed, 4);
    sizes.writeUInt32LE(entry.size, 8);
    await this.file.write(sizes, 0, 12, entry.offset + 14);
    this.entries.push(entry);
  }

  /** Writes the central directory and closes the file. */
  async close(): Promise<void> {
    try {
      const start = this.offset;
      for (const entry of this.entries) await this.write(centralHeader(entry));
      const end = Buffer.alloc(22);
      end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
      end.writeUInt16LE(this.entries.length, 8);
      end.writeUInt16LE(this.entries.length, 10);
      end.writeUInt32LE(this.offset - start, 12);
      end.writeUInt32LE(start, 16);
      await this.write(end);
    } finally {
      await this.file.close();
    }
  }

  /** Closes the file without finishing it (after a failure; the caller removes it). */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }
}

/** Version 2.0 (deflate), no flags: names are ASCII part names. */
function localHeader(entry: Entry): Buffer {
  const header = Buffer.alloc(30 + entry.name.length);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(0, 6);
  header.writeUInt16LE(8, 8);
  header.writeUInt16LE(DOS_TIME, 10);
  header.writeUInt16LE(DOS_DATE, 12);
  // 14..25: CRC-32, compressed and uncompressed sizes, written back after the data.
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(0, 28);
  entry.name.copy(header, 30);
  return header;
}

function centralHeader(entry: Entry): Buffer {
  const header = Buffer.alloc(46 + entry.name.length);
  header.writeUInt32LE(CENTRAL_HEADER, 0);
  header.writeUInt16LE(20, 4); // made by: MS-DOS, spec 2.0 (no Unix modes to vary by machine)
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(0, 8);
  header.writeUInt16LE(8, 10);
  header.writeUInt16LE(DOS_TIME, 12);
  header.writeUInt16LE(DOS_DATE, 14);
  header.writeUInt32LE(entry.crc, 16);
  header.writeUInt32LE(entry.compressed, 20);
  header.writeUInt32LE(entry.size, 24);
  header.writeUInt16LE(entry.name.length, 28);
  // 30..41: extra and comment lengths, disk number, attributes: all zero.
  header.writeUInt32LE(entry.offset, 42);
  entry.name.copy(header, 46);
  return header;
}
