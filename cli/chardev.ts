// QEMU's -chardev, the subset the virtio console uses (`-device virtconsole,chardev=ID`):
//   stdio                                   the terminal: guest output to stdout, keystrokes to the console
//   file,path=P                             guest output to a file (no input)
//   socket,path=P,server=on,wait=off        a Unix socket; every client gets the output, any client types
//                                           (output before the first client connects is kept for it, up to 64 KiB)
//   socket,host=H,port=N,server=on,wait=off the same on TCP
// Parsed by cli/drive-args.ts (parseChardev); `openChardev` makes the host side.

import { openSync, rmSync } from 'node:fs';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialSink } from './console.js';
import type { ChardevSpec } from './drive-args.js';
import { UsageError } from './usage-error.js';

/** The host end of a character device: what the guest writes, and where host input comes from. */
export interface Chardev {
  write(bytes: Uint8Array): void;
  /** Called with bytes from the host side (stdio input arrives through the console instead). */
  onInput: (bytes: Uint8Array) => void;
  close(): Promise<void>;
}

/** Open the host side; `stdout` carries a stdio chardev's output. Resolves once sockets listen. */
export async function openChardev(spec: ChardevSpec, stdout: NodeJS.WritableStream): Promise<Chardev> {
  if (spec.kind === 'stdio') {
    const sink = new SerialSink({ kind: 'stdio' }, stdout);
    return { write: (bytes) => { for (const b of bytes) sink.put(b); }, onInput: () => {}, close: () => sink.close() };
  }
  if (spec.kind === 'file') return fileChardev(spec.path);
  return socketChardev(spec);
}

function fileChardev(path: string): Chardev {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`-chardev file,path=${path}: cannot write there (${(e as Error).message})`);
  }
  const out: WriteStream = createWriteStream('', { fd });
  out.on('error', () => {});
  return {
    write: (bytes) => { out.write(bytes); },
    onInput: () => {},
    close: () => new Promise((resolve) => { out.end(resolve); }),
  };
}

/** Guest output kept for the first client (a boot log written before anyone connected). */
const BACKLOG_LIMIT = 64 * 1024;

function socketChardev(spec: Extract<ChardevSpec, { kind: 'unix' | 'tcp' }>): Promise<Chardev> {
  const clients = new Set<Socket>();
  let backlog: Buffer[] | null = [], backlogBytes = 0;
  const where = spec.kind === 'unix' ? spec.path : `${spec.host}:${spec.port}`;
  const dev: Chardev = {
    write: (bytes) => {
      if (backlog && backlogBytes + bytes.length <= BACKLOG_LIMIT) { backlog.push(Buffer.from(bytes)); backlogBytes += bytes.length; }
      for (const c of clients) c.write(bytes);
    },
    onInput: () => {},
    close: () => new Promise((resolve) => {
      // Flush what the guest wrote last; a client that does not hang up within 500 ms is cut off.
      for (const c of clients) c.end();
      setTimeout(() => { for (const c of clients) c.destroy(); }, 500).unref();
      server.close(() => resolve());
      if (spec.kind === 'unix') rmSync(spec.path, { force: true });
    }),
  };
  const server: Server = createServer((sock) => {
    clients.add(sock);
    if (backlog) { for (const b of backlog) sock.write(b); backlog = null; }
    sock.on('data', (d: Buffer) => dev.onInput(new Uint8Array(d)));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => clients.delete(sock));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new UsageError(`-chardev socket (${spec.id}): cannot listen on ${where}: ${e.code === 'EADDRINUSE' ? 'already in use' : e.message}`));
    });
    const ready = (): void => resolve(dev);
    if (spec.kind === 'unix') {
      rmSync(spec.path, { force: true });
      server.listen(spec.path, ready);
    } else {
      server.listen(spec.port, spec.host, ready);
    }
  });
}
