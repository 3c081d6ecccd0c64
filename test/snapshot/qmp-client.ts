// Test helpers for QMP: spawn emu (bin/emu.js), and a QMP client written from the QMP
// specification (docs/interop/qmp-spec.rst): the greeting, commands with ids, replies
// matched by id, events collected.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const EMU = new URL('../../bin/emu.js', import.meta.url).pathname;

const children: ChildProcess[] = [];

/** A temporary directory for this file's sockets and snapshots; it and every emu spawned go afterwards. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'emu-qmp-'));
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill(); // a failed test leaves none running
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export interface Emu { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number> }

export function emu(args: string[], cwd?: string): Emu {
  const child = spawn(process.execPath, [EMU, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd });
  children.push(child);
  let out = '', err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  return { child, out: () => out, err: () => err, exited };
}

export async function until(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A QMP client: JSON objects in, replies matched by id, events collected. */
export class Qmp {
  readonly events: Record<string, unknown>[] = [];
  greeting: Record<string, unknown> | null = null;
  private buf = '';
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Record<string, unknown>) => void>();
  private readonly unmatched: Record<string, unknown>[] = [];
  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let i; (i = this.buf.indexOf('\n')) >= 0;) {
        const msg = JSON.parse(this.buf.slice(0, i)) as Record<string, unknown>;
        this.buf = this.buf.slice(i + 1);
        if ('QMP' in msg) this.greeting = msg;
        else if ('event' in msg) this.events.push(msg);
        else if (typeof msg.id === 'number' && this.waiting.has(msg.id)) { this.waiting.get(msg.id)!(msg); this.waiting.delete(msg.id); }
        else this.unmatched.push(msg);
      }
    });
  }

  /** Connect to a Unix socket path, or to a TCP port on 127.0.0.1, retrying until emu listens. */
  static async connect(where: string | number): Promise<Qmp> {
    const end = Date.now() + 120_000;
    for (;;) {
      const sock = typeof where === 'number' ? createConnection(where, '127.0.0.1') : createConnection(where);
      const ok = await new Promise<boolean>((r) => { sock.once('connect', () => r(true)); sock.once('error', () => r(false)); });
      if (ok) return Qmp.greet(sock);
      sock.destroy();
      if (Date.now() > end) throw new Error(`cannot connect to QMP at ${where}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private static async greet(sock: Socket): Promise<Qmp> {
    const q = new Qmp(sock);
    await until(() => q.greeting !== null, 'the QMP greeting');
    return q;
  }

  /** Send a command (with an id) and wait for its reply. */
  cmd(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((r) => {
      this.waiting.set(id, r);
      this.sock.write(JSON.stringify(args ? { execute, arguments: args, id } : { execute, id }));
    });
  }

  /** Send raw text; the next reply without a matching id. */
  async raw(text: string): Promise<Record<string, unknown>> {
    const n = this.unmatched.length;
    this.sock.write(text);
    await until(() => this.unmatched.length > n, 'a reply');
    return this.unmatched[n];
  }

  async event(name: string, pred: (e: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await until(() => (found = this.events.find((e) => e.event === name && pred(e))) !== undefined, `event ${name}`);
    return found!;
  }

  async migrationDone(): Promise<Record<string, unknown>> {
    for (;;) {
      const r = (await this.cmd('query-migrate')).return as Record<string, unknown>;
      if (['completed', 'failed', 'cancelled'].includes(r.status as string)) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  close(): void { this.sock.destroy(); }
}
