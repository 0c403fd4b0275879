/**
 * Splits the engine's multiplexed exec stream (8-byte frame headers: stream type, 3 zero bytes,
 * big-endian length) into stdout and stderr, keeping at most `maxBytes` of each. The rest is read
 * and dropped, so a chatty process is never blocked on a full pipe.
 */
export class ExecOutput {
  private readonly frames: FrameSplitter;
  private readonly stdout: BoundedBuffer;
  private readonly stderr: BoundedBuffer;

  constructor(maxBytes: number) {
    this.stdout = new BoundedBuffer(maxBytes);
    this.stderr = new BoundedBuffer(maxBytes);
    this.frames = new FrameSplitter((stream, payload) => (stream === 'stdout' ? this.stdout : this.stderr).append(payload));
  }

  push(chunk: Buffer): void {
    this.frames.push(chunk);
  }

  result(): { stdout: string; stderr: string; truncated: boolean } {
    return {
      stdout: this.stdout.toString(),
      stderr: this.stderr.toString(),
      truncated: this.stdout.truncated || this.stderr.truncated,
    };
  }
}

/**
 * The frame parsing alone: hands each stdout or stderr payload on as it completes, whatever the
 * chunking of the connection (a frame may span chunks, a chunk may hold many frames). The payload is
 * a view on a buffer that may be reused: copy it to keep it.
 */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: 'stdout' | 'stderr', payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const streamType = this.pending[0];
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) return;
      const payload = this.pending.subarray(8, 8 + length);
      // 1 = stdout, 2 = stderr; 0 (stdin echo) never carries output we want.
      if (streamType === 1) this.onFrame('stdout', payload);
      else if (streamType === 2) this.onFrame('stderr', payload);
      this.pending = this.pending.subarray(8 + length);
    }
  }
}

class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  append(data: Buffer): void {
    const room = this.maxBytes - this.size;
    if (data.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = data.length > room ? data.subarray(0, room) : data;
    // Copy: the frame is a view on a buffer that is about to be reused.
    this.chunks.push(Buffer.from(kept));
    this.size += kept.length;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
