// QMP through a real Unix socket, with a client written from the QMP specification
// (docs/interop/qmp-spec.rst): greeting, negotiation, commands with ids, errors,
// events. Snapshots through `migrate file:` and `-incoming file:`, and a live
// migration between two emu processes on loopback (interp -> jit where jit runs).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';
import { emu, Qmp, tempDir, until } from './qmp-client.js';

const dir = tempDir();

describe('QMP over a Unix socket', () => {
  it('greeting, negotiation, status, stop/cont with events, errors, migrate to a file, quit', async () => {
    const sockPath = join(dir, 'a.sock'), snap = join(dir, 'tinyos.emusnap');
    const a = emu(['-m', '32M', '-qmp', `unix:${sockPath},server=on,wait=off`]);
    await until(() => a.out().includes('tinyos> '), 'the tinyos prompt');
    const q = await Qmp.connect(sockPath);
    expect(q.greeting).toMatchObject({ QMP: { version: { qemu: { major: 8 } }, capabilities: expect.any(Array) } });
    expect(await q.raw('{"execute":"query-status"}')).toEqual({ error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } });
    expect(await q.cmd('qmp_capabilities')).toEqual({ return: {}, id: 1 });
    expect((await q.cmd('query-status')).return).toEqual({ status: 'running', singlestep: false, running: true });
    expect((await q.cmd('stop')).return).toEqual({});
    await q.event('STOP');
    expect((await q.cmd('query-status')).return).toMatchObject({ status: 'paused', running: false });
    await q.cmd('cont');
    await q.event('RESUME');
    expect((await q.cmd('query-cpus-fast')).return).toMatchObject([{ 'cpu-index': 0, target: 'x86_64' }]);
    expect((await q.cmd('no-such-command')).error).toEqual({ class: 'CommandNotFound', desc: 'The command no-such-command has not been found' });
    expect((await q.cmd('migrate', { uri: 'ftp:x' })).error).toMatchObject({ class: 'GenericError' });
    expect((await q.cmd('migrate', { uri: `file:${snap}` })).return).toEqual({});
    const done = await q.migrationDone();
    expect(done).toMatchObject({ status: 'completed', ram: { total: 32 << 20 } });
    expect(q.events.filter((e) => e.event === 'MIGRATION').map((e) => (e.data as { status: string }).status)).toEqual(['setup', 'active', 'completed']);
    expect((await q.cmd('query-status')).return).toMatchObject({ status: 'postmigrate', running: false });
    await q.cmd('quit');
    await q.event('SHUTDOWN');
    expect(await a.exited).toBe(0);
    q.close();

    // The snapshot resumes running (the source was running), at the prompt, and takes input.
    const b = emu(['-m', '32M', '-incoming', `file:${snap}`]);
    await new Promise((r) => setTimeout(r, 500));
    b.child.stdin!.write('help\r');
    await until(() => b.out().includes('commands:'), 'help output from the restored guest');
    b.child.kill();
    await b.exited;

    // Bad input: one line, exit 1.
    const bad = join(dir, 'bad.emusnap');
    writeFileSync(bad, readFileSync(snap).subarray(0, 5000));
    const c = emu(['-m', '32M', '-incoming', `file:${bad}`]);
    expect(await c.exited).toBe(1);
    expect(c.err().trim()).toMatch(/^emu: incoming migration failed: snapshot is truncated: 5000 of \d+ bytes$/);
    const d = emu(['-m', '64M', '-incoming', `file:${snap}`]);
    expect(await d.exited).toBe(1);
    expect(d.err().trim()).toBe("emu: incoming migration failed: the snapshot's guest has 32M of RAM and this machine 64M: start emu with -m 32M");
  }, 300_000);
});

const GUEST = hasToolchain() ? buildFlat(readFileSync('test/snapshot/dirty-guest.S', 'utf8'), 0x100000) : null;

describe.skipIf(!GUEST)('live migration between two emu processes', () => {
  it('a memory-dirtying loop moves mid-run from interp to jit over loopback TCP and finishes with the right sum', async () => {
    const guest = join(dir, 'dirty.bin');
    writeFileSync(guest, GUEST!);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const sockPath = join(dir, 'src.sock');
    const common = ['-m', '16M', '-device', `loader,file=${guest},addr=0x100000`];
    const dst = emu([...common, '--accel=jit', '-incoming', `tcp:127.0.0.1:${port}`]);
    const src = emu([...common, '--accel=interp', '-qmp', `unix:${sockPath},server=on,wait=off`]);
    await until(() => src.out().includes('start'), 'the guest to start');
    const q = await Qmp.connect(sockPath);
    await q.cmd('qmp_capabilities');
    await new Promise((r) => setTimeout(r, 300));
    await q.cmd('migrate', { uri: `tcp:127.0.0.1:${port}` });
    const done = await q.migrationDone();
    console.log(`live migration (dirtying guest, interp -> jit): ${JSON.stringify(done)}`);
    expect(done.status).toBe('completed');
    expect(done.downtime).toBeGreaterThan(0);
    expect((done.ram as { 'dirty-sync-count': number })['dirty-sync-count']).toBeGreaterThanOrEqual(2);
    expect(await dst.exited).toBe(33);
    expect(dst.out()).toBe('rounds=0000000c sum=ffe80000\n'); // 12 rounds of (i ^ round) over 2^18 dwords
    expect(src.out()).toBe('start\n');
    await q.cmd('quit');
    expect(await src.exited).toBe(0);
    q.close();
  }, 300_000);
});
