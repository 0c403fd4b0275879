/**
 * Just enough of the ustar format for the engine's archive endpoint: write directories and one
 * regular file, read the single file the engine sends back. Docker's archive API speaks tar only,
 * and this is smaller than a dependency.
 */

const BLOCK = 512;

export interface TarEntry {
  /** Relative path inside the archive, `/`-separated, no leading slash. */
  path: string;
  type: 'file' | 'directory';
  mode: number;
  content?: Buffer;
}

export function writeTar(entries: TarEntry[], mtimeS = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === 'file' ? entry.content ?? Buffer.alloc(0) : Buffer.alloc(0);
    parts.push(header(entry, content.length, mtimeS));
    if (content.length > 0) {
      parts.push(content, Buffer.alloc(padding(content.length)));
    }
  }
  // Two zero blocks end an archive.
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function header(entry: TarEntry, size: number, mtimeS: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const name = entry.type === 'directory' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const { prefix, base } = splitName(name);
  block.write(base, 0, 100, 'utf8');
  writeOctal(block, entry.mode & 0o7777, 100, 8);
  writeOctal(block, 0, 108, 8); // uid: root, as files the engine's own `docker cp` would create
  writeOctal(block, 0, 116, 8);
  writeOctal(block, size, 124, 12);
  writeOctal(block, mtimeS, 136, 12);
  block.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  block.write(entry.type === 'directory' ? '5' : '0', 156, 1, 'ascii');
  block.write('ustar\u000000', 257, 8, 'binary');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
  return block;
}

/** ustar keeps 100 bytes of name and 155 of prefix, split at a slash. */
function splitName(name: string): { prefix: string; base: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  for (let i = name.lastIndexOf('/', name.length - 2); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(base) <= 100 && Buffer.byteLength(prefix) <= 155) return { prefix, base };
  }
  throw new RangeError(`path '${name}' is too long for a tar header`);
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export interface TarFile {
  name: string;
  /** `0` regular file, `5` directory, `2` symlink … (the raw typeflag). */
  typeflag: string;
  content: Buffer;
}

/**
 * Reads the first entry that is not a pax or GNU long-name header. The engine's archive of one
 * path holds that path first.
 */
export function readFirstTarEntry(archive: Buffer): TarFile | undefined {
  const head = readFirstTarEntryHead(archive);
  if (head && head.content.length < head.size) throw new RangeError('tar archive ends inside an entry');
  return head && { name: head.name, typeflag: head.typeflag, content: head.content };
}

/**
 * The first entry of the beginning of an archive: its declared `size`, and as much of its content
 * as `archive` holds (a file read only up to a limit ends early).
 */
export function readFirstTarEntryHead(archive: Buffer): (TarFile & { size: number }) | undefined {
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) return undefined;
    const size = readSize(block);
    const typeflag = String.fromCharCode(block[156] || 0x30);
    const content = archive.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + size + padding(size);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L') {
      if (content.length < size) throw new RangeError('tar archive ends inside an extended header');
      if (typeflag === 'L') longName = content.toString('utf8').replace(/\0+$/, '');
      else {
        const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'));
        if (path) longName = path[1];
      }
      continue;
    }
    const prefix = readString(block, 345, 155);
    const base = readString(block, 0, 100);
    return { name: longName ?? (prefix ? `${prefix}/${base}` : base), typeflag, size, content: Buffer.from(content) };
  }
  return undefined;
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readSize(block: Buffer): number {
  const field = block.subarray(124, 136);
  // GNU base-256 for sizes beyond 8 GiB.
  if (field[0]! & 0x80) {
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  const text = field.toString('ascii').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}
