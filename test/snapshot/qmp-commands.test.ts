// The rest of QMP, through real sockets: QMP over TCP, system_reset, snapshot-save /
// snapshot-load / snapshot-delete as QEMU's jobs (JOB_STATUS_CHANGE, query-jobs,
// job-dismiss), migrate-set-parameters, migrate_cancel (the source runs on, the
// destination says why it stopped), -incoming defer + migrate-incoming, and
// system_powerdown reaching a guest through the ACPI power button, driven by socat.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';
import { emu, Qmp, tempDir, until } from './qmp-client.js';

const dir = tempDir();
const port = (): number => 20000 + Math.floor(Math.random() * 20000);
const statuses = (q: Qmp, name: string, key = 'status') => q.events.filter((e) => e.event === name).map((e) => (e.data as Record<string, unknown>)[key]);

describe('QMP over TCP', () => {
  it('system_reset, snapshot-save/-load/-delete as jobs: the loaded guest forgets what was typed after the save', async () => {
    const qp = port();
    const a = emu(['-m', '32M', '-qmp', `tcp:127.0.0.1:${qp},server=on,wait=off`], dir);
    await until(() => a.out().includes('tinyos> '), 'the tinyos prompt');
    const q = await Qmp.connect(qp);
    expect(q.greeting).toMatchObject({ QMP: { version: { qemu: { major: 8 } } } });
    await q.cmd('qmp_capabilities');

    expect((await q.cmd('system_reset')).return).toEqual({});
    await q.event('RESET');
    await until(() => a.out().split('tinyos 1.0: a small 64-bit teaching OS').length === 3, 'tinyos booting again');
    await until(() => a.out().endsWith('tinyos> '), 'the prompt after the reset');

    const save = { 'job-id': 'save0', tag: 'prompt', vmstate: 'disk0', devices: [] };
    expect((await q.cmd('snapshot-save', save)).return).toEqual({});
    await until(() => statuses(q, 'JOB_STATUS_CHANGE').length === 5, 'the save job to conclude');
    expect(q.events.filter((e) => e.event === 'JOB_STATUS_CHANGE').map((e) => e.data)).toEqual(
      ['created', 'running', 'waiting', 'pending', 'concluded'].map((status) => ({ status, id: 'save0' })));
    expect((await q.cmd('query-jobs')).return).toEqual([{ id: 'save0', type: 'snapshot-save', status: 'concluded', 'current-progress': 1, 'total-progress': 1 }]);
    expect(existsSync(join(dir, 'prompt.emusnap'))).toBe(true);
    expect((await q.cmd('snapshot-save', save)).error).toEqual({ class: 'GenericError', desc: "Job ID 'save0' already in use" });
    expect((await q.cmd('job-dismiss', { id: 'save0' })).return).toEqual({});
    expect(statuses(q, 'JOB_STATUS_CHANGE').at(-1)).toBe('null');
    expect((await q.cmd('query-jobs')).return).toEqual([]);

    // "inf" sits in the shell's line buffer; the loaded snapshot's buffer is empty, so "o" alone is the command.
    a.child.stdin!.write('inf');
    await until(() => a.out().endsWith('tinyos> inf'), 'the echo');
    await q.cmd('snapshot-load', { 'job-id': 'load0', tag: 'prompt', vmstate: 'disk0', devices: [] });
    await until(() => q.events.some((e) => e.event === 'JOB_STATUS_CHANGE' && (e.data as { id: string; status: string }).id === 'load0' && (e.data as { status: string }).status === 'concluded'), 'the load job');
    expect((await q.cmd('query-jobs')).return).toEqual([{ id: 'load0', type: 'snapshot-load', status: 'concluded', 'current-progress': 1, 'total-progress': 1 }]);
    a.child.stdin!.write('o\r');
    await until(() => a.out().includes("unknown command 'o'"), 'the loaded guest to take "o" as the whole command');

    await q.cmd('snapshot-load', { 'job-id': 'load1', tag: 'nosuch', vmstate: 'disk0', devices: [] });
    await until(() => statuses(q, 'JOB_STATUS_CHANGE').filter((s) => s === 'concluded').length === 3, 'the failing load job');
    expect(((await q.cmd('query-jobs')).return as Record<string, unknown>[])[1]).toEqual(
      { id: 'load1', type: 'snapshot-load', status: 'concluded', 'current-progress': 1, 'total-progress': 1, error: "snapshot 'nosuch.emusnap' does not exist; check the path" });
    await q.cmd('snapshot-delete', { 'job-id': 'del0', tag: 'prompt', devices: [] });
    await until(() => !existsSync(join(dir, 'prompt.emusnap')), 'snapshot-delete to remove the file');
    expect((await q.cmd('snapshot-save', { 'job-id': 'bad', tag: '../x' })).error).toMatchObject({ class: 'GenericError' });
    expect((await q.cmd('query-status')).return).toMatchObject({ status: 'running' });
    await q.cmd('quit');
    expect(await a.exited).toBe(0);
    q.close();
  }, 300_000);

  it('migrate-set-parameters, migrate_cancel mid-way (the source runs on), then -incoming defer + migrate-incoming completes', async () => {
    const sp = port(), dp = port(), d2p = port(), m1 = port(), m2 = port();
    const src = emu(['-m', '32M', '-qmp', `tcp:127.0.0.1:${sp},server=on,wait=off`], dir);
    const dst = emu(['-m', '32M', '-incoming', `tcp:127.0.0.1:${m1}`, '-qmp', `tcp:127.0.0.1:${dp},server=on,wait=off`], dir);
    await until(() => src.out().includes('tinyos> '), 'the tinyos prompt');
    const q = await Qmp.connect(sp);
    await q.cmd('qmp_capabilities');
    expect((await q.cmd('query-migrate-parameters')).return).toEqual({ 'downtime-limit': 300, 'max-bandwidth': 0 });
    expect((await q.cmd('migrate-set-parameters', { 'downtime-limit': -1 })).error).toEqual({ class: 'GenericError', desc: "Parameter 'downtime-limit' expects a number of milliseconds" });
    expect((await q.cmd('migrate-set-parameters', { 'max-bandwidth': 200_000, 'downtime-limit': 50 })).return).toEqual({});
    expect((await q.cmd('query-migrate-parameters')).return).toEqual({ 'downtime-limit': 50, 'max-bandwidth': 200_000 });

    // At 200 kB/s the first round takes seconds: cancel it part-way.
    await Qmp.connect(dp).then((d) => d.close()); // the destination is up
    await q.cmd('migrate', { uri: `tcp:127.0.0.1:${m1}` });
    await until(() => statuses(q, 'MIGRATION').includes('active'), 'the migration to start');
    await new Promise((r) => setTimeout(r, 300));
    const mid = (await q.cmd('query-migrate')).return as { status: string; ram: { transferred: number; total: number } };
    expect(mid.status).toBe('active');
    expect(mid.ram.transferred).toBeGreaterThan(0);
    expect(mid.ram.transferred).toBeLessThan(2_000_000); // the bandwidth limit holds it back
    expect((await q.cmd('migrate_cancel')).return).toEqual({});
    const cancelled = await q.migrationDone();
    expect(cancelled.status).toBe('cancelled');
    expect(statuses(q, 'MIGRATION')).toEqual(['setup', 'active', 'cancelled']);
    expect((await q.cmd('query-status')).return).toMatchObject({ status: 'running', running: true });
    expect(await dst.exited).toBe(1);
    expect(dst.err().trim()).toBe('emu: incoming migration failed: the migration connection closed before the guest had arrived');
    src.child.stdin!.write('help\r');
    await until(() => src.out().includes('commands:'), 'the source guest to answer after the cancel');

    // A deferred destination: it waits in inmigrate until migrate-incoming names the URI.
    const dst2 = emu(['-m', '32M', '-incoming', 'defer', '-qmp', `tcp:127.0.0.1:${d2p},server=on,wait=off`], dir);
    const q2 = await Qmp.connect(d2p);
    await q2.cmd('qmp_capabilities');
    expect((await q2.cmd('query-status')).return).toMatchObject({ status: 'inmigrate', running: false });
    expect((await q2.cmd('cont')).error).toMatchObject({ class: 'GenericError' });
    expect((await q2.cmd('migrate-incoming', { uri: `tcp:127.0.0.1:${m2}` })).return).toEqual({});
    expect((await q2.cmd('migrate-incoming', { uri: `tcp:127.0.0.1:${m2}` })).error).toMatchObject({ class: 'GenericError' });
    await q.cmd('migrate-set-parameters', { 'max-bandwidth': 0, 'downtime-limit': 300 });
    await new Promise((r) => setTimeout(r, 200)); // the destination listens
    await q.cmd('migrate', { uri: `tcp:127.0.0.1:${m2}` });
    const done = await q.migrationDone();
    console.log(`live migration (quiet guest: tinyos at its prompt, interp -> interp): ${JSON.stringify(done)}`);
    expect(done.status).toBe('completed');
    await q2.event('RESUME');
    expect((await q2.cmd('query-status')).return).toMatchObject({ status: 'running' });
    expect(statuses(q2, 'MIGRATION')).toEqual(['active', 'completed']);
    const mark = dst2.out().length;
    dst2.child.stdin!.write('help\r');
    await until(() => dst2.out().slice(mark).includes('commands:'), 'the migrated guest to answer');
    for (const c of [q, q2]) { await c.cmd('quit'); c.close(); }
    expect([await src.exited, await dst2.exited]).toEqual([0, 0]);
  }, 300_000);
});

const POWERBTN = hasToolchain() ? buildFlat(readFileSync('test/snapshot/powerbtn-guest.S', 'utf8'), 0x100000) : null;
const SOCAT = spawnSync('socat', ['-V']).status === 0;
if (!SOCAT) console.log('skipping the socat QMP test: socat is not installed (Debian: apt-get install socat)');

describe.skipIf(!POWERBTN || !SOCAT)('QMP driven by socat', () => {
  it('system_powerdown: the ACPI power button raises the SCI, the guest enters S5, emu exits 0 with SHUTDOWN', async () => {
    const guest = join(dir, 'powerbtn.bin'), sock = join(dir, 'socat.sock');
    writeFileSync(guest, POWERBTN!);
    const e = emu(['-m', '16M', '-device', `loader,file=${guest},addr=0x100000`, '-qmp', `unix:${sock},server=on,wait=off`]);
    await until(() => e.out().includes('ready\n'), 'the guest to arm the power button');
    // socat is the client: it sends the lines and prints what emu answers until emu closes the socket.
    const reply = execFileSync('socat', ['-t', '5', '-', `UNIX-CONNECT:${sock}`], {
      input: '{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n{"execute":"system_powerdown"}\n', encoding: 'utf8', timeout: 60_000,
    });
    const lines = reply.trim().split(/\r?\n/).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ QMP: { version: { qemu: { major: 8 } } } });
    expect(lines.filter((l) => 'return' in l).map((l) => l.return)).toEqual([{}, { status: 'running', singlestep: false, running: true }, {}]);
    expect(lines.filter((l) => 'event' in l).map((l) => [l.event, l.data])).toEqual([
      ['POWERDOWN', {}], ['SHUTDOWN', { guest: true, reason: 'the guest powered off (ACPI S5)' }]]);
    expect(await e.exited).toBe(0);
    expect(e.out()).toBe('ready\npower button\n');
  }, 120_000);
});
