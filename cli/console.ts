// The serial console on the host terminal: raw-mode stdin with QEMU's Ctrl-A
// escapes, and guest output batched into one write per event-loop turn.

import { createWriteStream, type WriteStream } from 'node:fs';
import type { SerialTarget } from './args.js';

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

  constructor(private readonly target: SerialTarget, private readonly stdout: NodeJS.WritableStream = process.stdout) {
    this.file = target.kind === 'file' ? createWriteStream(target.path) : null;
  }

  put(byte: number): void {
    if (this.target.kind === 'none') return;
    this.buf.push(byte);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0) return;
    const bytes = Buffer.from(this.buf);
    this.buf = [];
    (this.file ?? this.stdout).write(bytes);
  }

  close(): Promise<void> {
    this.flush();
    const f = this.file;
    return f ? new Promise((resolve) => f.end(resolve)) : Promise.resolve();
  }
}
