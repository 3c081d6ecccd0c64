// The user keeps control while the guest cannot make progress (issue 20): a fault storm
// and a REP string with a huge count, started from the command line; Ctrl-A s shows the
// storm in the counters and Ctrl-A x quits; QMP (emu's monitor) answers, stops, resumes and
// resets the machine during the storm.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hex } from '../cpu/harness.js';
import { Qmp, emu, until } from '../snapshot/qmp-client.js';

const dir = mkdtempSync(join(tmpdir(), 'emu-storm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write a boot-sector image; returns its path. */
function image(name: string, code: string): string {
  const path = join(dir, name);
  writeFileSync(path, hex(code));
  return path;
}

/** Run emu on a raw image at 0x7c00, wait a little, type `keys` (spaced out); resolves with status and output. */
function emuTyping(path: string, keys: string[]): Promise<{ status: number; out: string }> {
  const child = spawn(process.execPath, ['bin/emu.js', '-nographic', '--accel=interp', '-device', `loader,file=${path},addr=0x7c00`],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return (async () => {
    for (const k of keys) {
      await new Promise((r) => setTimeout(r, 1500));
      child.stdin.write(k);
    }
    const timeout = new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`emu did not quit; output:\n${out}`)), 20_000));
    return { status: await Promise.race([exited, timeout]), out };
  })().finally(() => child.kill('SIGKILL'));
}

describe('Ctrl-A s and Ctrl-A x work while the guest storms', () => {
  it('real mode: IVT[6] -> UD2 with SS:SP = 1000:0000 (the issue reproduction)', async () => {
    const path = image('storm.bin', 'b80010 8ed0 31e4 c7061800207c c7061a000000 0f0b' + '90'.repeat(11) + '0f0b');
    const r = await emuTyping(path, ['\x01s', '\x01x']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/faultStorms: 1\b/);
    expect(r.out).toMatch(/instructions: 5\b/);
  }, 30_000);

  it('32-bit REP LODSB with ECX = 0xFFFFFFFF (entered from the boot sector through a flat GDT)', async () => {
    // cli; lgdt [7c48]; mov eax, cr0; or eax, 1; mov cr0, eax; jmp 08:7c18;
    // 7c18: mov eax, 0x10; mov ds, eax; xor esi, esi; mov ecx, -1; rep lodsb; hlt
    const path = image('rep.bin', 'fa 0f0116487c 0f20c0 6683c801 0f22c0 66ea187c00000800' +
      'b810000000 8ed8 31f6 b9ffffffff f3ac f4' + '90'.repeat(7) +
      '0000000000000000 ffff0000009acf00 ffff00000092cf00' + '1700307c0000');
    const r = await emuTyping(path, ['\x01s', '\x01x']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/repPauses: [1-9]/);
    expect(r.out).toMatch(/halts: 0\b/);
  }, 30_000);
});

describe('the monitor (QMP) works while the guest storms', () => {
  it('query-status, stop, cont, system_reset (RESET event) and quit during the real-mode fault storm', async () => {
    const path = image('storm-qmp.bin', 'b80010 8ed0 31e4 c7061800207c c7061a000000 0f0b' + '90'.repeat(11) + '0f0b');
    const qp = 20000 + Math.floor(Math.random() * 20000);
    const a = emu(['-nographic', '--accel=interp', '-device', `loader,file=${path},addr=0x7c00`, '-qmp', `tcp:127.0.0.1:${qp},server=on,wait=off`]);
    try {
      const q = await Qmp.connect(qp);
      await q.cmd('qmp_capabilities');
      await new Promise((r) => setTimeout(r, 1000)); // the storm is on
      expect((await q.cmd('query-status')).return).toMatchObject({ status: 'running', running: true });
      expect((await q.cmd('stop')).return).toEqual({});
      expect((await q.cmd('query-status')).return).toMatchObject({ status: 'paused', running: false });
      expect((await q.cmd('cont')).return).toEqual({});
      expect((await q.cmd('system_reset')).return).toEqual({});
      await q.event('RESET');
      expect((await q.cmd('query-status')).return).toMatchObject({ status: 'running' });
      expect((await q.cmd('quit')).return).toEqual({});
      const status = await Promise.race([a.exited, new Promise<number>((r) => setTimeout(() => r(-2), 20_000))]);
      expect(status).toBe(0);
    } finally {
      a.child.kill('SIGKILL');
    }
  }, 120_000);
});
