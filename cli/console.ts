// The serial console on the host terminal: raw-mode stdin with QEMU's Ctrl-A
// escapes, and guest output batched into one write per event-loop turn.

import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { SerialTarget } from './args.js';
import { UsageError } from './usage-error.js';

const CTRL_A = 0x01;

export interface ConsoleActions {
  input(bytes: number[]): void;
  quit(): void;
  cycleBackend(): void;
  showStats(): void;
  /** Ctrl-A w: save a snapshot of the machine. */
  saveSnapshot?(): void;
}

export const ESCAPE_HELP = 'C-a h    print this help\r\nC-a x    exit emu\r\nC-a b    switch CPU backend (interp/jit/kvm)\r\nC-a s    show machine statistics\r\nC-a w    save a snapshot (restore with -incoming file:PATH)\r\nC-a C-a  send C-a\r\n';

/** Splits typed bytes into guest input and Ctrl-A commands. */
export class EscapeReader {
  private pendingEscape = false;
  constructor(private readonly actions: ConsoleActions, private readonly say: (text: string) => void) {}

  feed(data: Uint8Array): void {
    const out: number[] = [];
    for (const b of data) {
      if (this.pendingEscape) {
        this.pendingEscape = false;
        const c = String.fromCharCode(b).toLowerCase();
        if (b === CTRL_A) out.push(CTRL_A);
        else if (c === 'x') { this.flush(out); this.actions.quit(); return; }
        else if (c === 'b') this.actions.cycleBackend();
        else if (c === 's') this.actions.showStats();
        else if (c === 'w') this.actions.saveSnapshot?.();
        else if (c === 'h' || c === '?') this.say(ESCAPE_HELP);
        continue;
      }
      if (b === CTRL_A) this.pendingEscape = true;
      else out.push(b);
    }
    this.flush(out);
  }

  private flush(out: number[]): void {
    if (out.length > 0) this.actions.input(out);
  }
}

/** Where guest serial output goes, batched. */
export class SerialSink {
  private buf: number[] = [];
  private scheduled = false;
  private readonly file: WriteStream | null;
  /** Set once the output failed (EPIPE: the reader went away; a full disk): nothing more is written. */
  private failed = false;
  /** Called once when the output fails; the CLI stops the machine (quietly for EPIPE, as QEMU does). */
  onError: (e: NodeJS.ErrnoException) => void = () => {};

  constructor(private readonly target: SerialTarget, private readonly stdout: NodeJS.WritableStream = process.stdout) {
    this.file = null;
    if (target.kind === 'file') {
      // Opened now, so a bad path is one line at startup instead of an 'error' event later.
      let fd: number;
      try {
        fd = openSync(target.path, 'w');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EISDIR' ? 'that is a directory; name a file'
          : code === 'EACCES' ? 'permission denied' : (e as Error).message;
        throw new UsageError(`-serial file:${target.path}: cannot write there (${why})`);
      }
      this.file = createWriteStream('', { fd });
    }
    const out: NodeJS.WritableStream = this.file ?? this.stdout;
    out.on('error', (e: NodeJS.ErrnoException) => this.fail(e));
  }

  private fail(e: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    this.buf = [];
    this.onError(e);
  }

  put(byte: number): void {
    if (this.target.kind === 'none' || this.failed) return;
    this.buf.push(byte);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0 || this.failed) return;
    const bytes = Buffer.from(this.buf);
    this.buf = [];
    (this.file ?? this.stdout).write(bytes);
  }

  close(): Promise<void> {
    this.flush();
    const f = this.file;
    if (!f || this.failed || f.destroyed) return Promise.resolve();
    return new Promise((resolve) => { f.once('error', () => resolve()); f.end(resolve); });
  }
}
