// The Node side of the monitor: QMP listening on a Unix or TCP socket, and
// the files and sockets VmControl uses for snapshots and migration.

import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { ByteChannel } from '../machine/migrate.js';
import { QmpSession } from '../machine/qmp.js';
import { DiskError, openDisk } from '../machine/disk-file.js';
import { ControlError, type ControlIo, type VmControl } from '../machine/vm-control.js';
import { UsageError } from './usage-error.js';

export type QmpSpec = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** -qmp unix:PATH,server=on,wait=off or tcp:HOST:PORT,server=on,wait=off (QEMU's chardev spellings). */
export function parseQmpSpec(text: string): QmpSpec {
  const [addr, ...opts] = text.split(',');
  for (const o of opts) {
    const [k, v = 'on'] = o.split('=');
    if (k === 'server' && v !== 'on') throw new UsageError(`-qmp ${text}: emu only listens (server=on); connect your client to it`);
    if (k === 'wait' && v !== 'off') throw new UsageError(`-qmp ${text}: emu does not wait for a client before starting; use wait=off`);
    if (!['server', 'wait', 'nowait', 'nodelay'].includes(k)) throw new UsageError(`-qmp ${text}: unknown option '${k}'; use server=on,wait=off`);
  }
  if (addr.startsWith('unix:') && addr.length > 5) return { kind: 'unix', path: addr.slice(5) };
  const m = /^tcp:([^:]*):(\d+)$/.exec(addr);
  if (m && Number(m[2]) > 0 && Number(m[2]) < 65536) return { kind: 'tcp', host: m[1] || '127.0.0.1', port: Number(m[2]) };
  throw new UsageError(`-qmp ${text}: write it as unix:PATH,server=on,wait=off or tcp:127.0.0.1:PORT,server=on,wait=off`);
}

/** Listen for QMP clients; resolves once listening, with a function that closes everything. */
export function startQmp(spec: QmpSpec, ctl: VmControl): Promise<() => void> {
  const sockets = new Set<Socket>();
  // Half-open: a client that has sent all it will (socat at the end of its input) still gets replies and events.
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.setEncoding('utf8');
    const session = new QmpSession(ctl, (obj) => { if (!sock.destroyed) sock.write(`${JSON.stringify(obj)}\r\n`); });
    sock.on('data', (text: string) => session.receive(text));
    sock.on('close', () => { session.close(); sockets.delete(sock); });
    sock.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = spec.kind === 'unix' ? spec.path : `${spec.host}:${spec.port}`;
      reject(new UsageError(`-qmp: cannot listen on ${where}: ${e.code === 'EADDRINUSE' ? 'already in use' : e.message}`));
    });
    const ready = (): void => resolve(() => {
      for (const s of sockets) s.destroy();
      server.close();
      if (spec.kind === 'unix') rm(spec.path, { force: true }).catch(() => {});
    });
    if (spec.kind === 'unix') rm(spec.path, { force: true }).then(() => server.listen(spec.path, ready), reject);
    else server.listen(spec.port, spec.host, ready);
  });
}

/** A net.Socket as a ByteChannel: reads queue up, writes resolve once flushed. */
export function socketChannel(sock: Socket): ByteChannel {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => { const w = wake; wake = null; w?.(); };
  sock.on('data', (d: Buffer) => { chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.length)); poke(); });
  sock.on('end', () => { ended = true; poke(); });
  sock.on('close', () => { ended = true; poke(); });
  sock.on('error', (e) => { failure = e; ended = true; poke(); });
  return {
    async read() {
      while (chunks.length === 0 && !ended) await new Promise<void>((r) => { wake = r; });
      if (chunks.length > 0) return chunks.shift()!;
      return null;
    },
    write(bytes) {
      return new Promise((resolve, reject) => {
        if (failure || sock.destroyed) { reject(failure ?? new Error('the migration connection is closed')); return; }
        sock.write(bytes, (e) => (e ? reject(e) : resolve()));
      });
    },
    close() { sock.end(); setTimeout(() => sock.destroy(), 1000).unref(); },
  };
}

export function nodeControlIo(quit: () => void): ControlIo {
  return {
    writeFile: (path, bytes) => writeFile(path, bytes),
    readFile: async (path) => {
      try {
        return new Uint8Array(await readFile(path));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new UsageError(`snapshot '${path}' ${code === 'ENOENT' ? 'does not exist; check the path' : `cannot be read: ${(e as Error).message}`}`);
      }
    },
    removeFile: async (path) => {
      try {
        await unlink(path);
      } catch (e) {
        throw new UsageError(`snapshot '${path}' ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be removed: ${(e as Error).message}`}`);
      }
    },
    connect: (host, port) => new Promise((resolve, reject) => {
      const sock = createConnection({ host, port });
      sock.once('connect', () => { sock.setNoDelay(true); resolve(socketChannel(sock)); });
      sock.once('error', (e) => reject(new Error(`cannot connect to ${host}:${port}: ${e.message}`)));
    }),
    accept: (host, port) => new Promise((resolve, reject) => {
      const server = createServer((sock) => { server.close(); resolve(socketChannel(sock)); });
      server.once('error', (e) => reject(new UsageError(`-incoming tcp:${host}:${port}: cannot listen: ${e.message}`)));
      server.listen(port, host);
    }),
    quit,
    openMedium: (path) => {
      try {
        return openDisk(path, { cdrom: true });
      } catch (e) {
        throw e instanceof DiskError ? new ControlError(e.message) : e;
      }
    },
  };
}
