// The disk options as a user meets them: a tiny real-mode guest (loaded with -device loader)
// writes "OK" x 256 to sector 0 of its IDE disk by PIO, sends FLUSH CACHE and exits through
// isa-debug-exit; the image changes, or does not under -snapshot and readonly=on. Every
// mistake (missing image, read-only file, image in use by another emu, bad spellings) is one
// line and a non-zero exit.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.js';
import { emu } from '../cli/run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'emu-disk-cli-'));
/** Real mode at 0x7c00: LBA28 WRITE SECTORS of sector 0 with 256 words 'OK', FLUSH CACHE, out 0xf4 <- 0x10 (status 33). */
const WRITER = Uint8Array.from([
  0xba, 0xf6, 0x01, 0xb0, 0xe0, 0xee, // mov dx,1f6h; mov al,0e0h; out dx,al
  0xba, 0xf2, 0x01, 0xb0, 0x01, 0xee, // sector count 1
  0xba, 0xf3, 0x01, 0x30, 0xc0, 0xee, 0x42, 0xee, 0x42, 0xee, // LBA 0
  0xba, 0xf7, 0x01, 0xb0, 0x30, 0xee, // WRITE SECTORS
  0xba, 0xf0, 0x01, 0xb9, 0x00, 0x01, 0xb8, 0x4f, 0x4b, 0xef, 0xe2, 0xfd, // 256 x out dx,ax
  0xba, 0xf7, 0x01, 0xb0, 0xe7, 0xee, // FLUSH CACHE
  0xb0, 0x10, 0xe6, 0xf4, 0xeb, 0xfe, // exit (0x10 << 1) | 1 = 33
]);
const writer = join(dir, 'writer.bin');
writeFileSync(writer, WRITER);
/** The same write and flush, then 'F' on COM1 and a spin: the guest never exits, the test kills emu. */
const FLUSH_AND_SPIN = Uint8Array.from([...WRITER.subarray(0, WRITER.length - 6), 0xba, 0xf8, 0x03, 0xb0, 0x46, 0xee, 0xeb, 0xfe]);
const spinner = join(dir, 'spinner.bin');
writeFileSync(spinner, FLUSH_AND_SPIN);
const loader = ['-device', `loader,file=${writer},addr=0x7c00`, '-serial', 'none'];
const image = (name: string): string => { const f = join(dir, name); writeFileSync(f, new Uint8Array(64 * 1024)); return f; };
const sector0 = (f: string): string => Buffer.from(readFileSync(f).subarray(0, 512)).toString('latin1');

describe('emu -hda / -drive / -snapshot', () => {
  it('the guest\'s PIO write and flush reach the image file', async () => {
    const f = image('a.img');
    const r = await emu('-hda', f, ...loader);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(33);
    expect(sector0(f)).toBe('OK'.repeat(256));
    expect(existsSync(`${f}.lock`)).toBe(false); // released at exit
  });

  it('durability: emu killed (SIGKILL) after the guest\'s flush: the flushed sector is in the file; the stale lock is taken over', async () => {
    const f = image('killed.img');
    const child = spawn(process.execPath, [join(__dirname, '../../bin/emu.js'), '-hda', f, '-device', `loader,file=${spinner},addr=0x7c00`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const exited = new Promise<NodeJS.Signals | null>((ok) => child.on('exit', (_code, sig) => ok(sig)));
    for (let i = 0; i < 600 && !out.includes('F'); i++) await new Promise((ok) => setTimeout(ok, 50));
    expect(out).toBe('F');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(sector0(f)).toBe('OK'.repeat(256));
    expect(readFileSync(`${f}.lock`, 'utf8')).toBe(`${child.pid}\n`);
    expect((await emu('-hda', f, ...loader)).status).toBe(33);
  });

  it('-drive if=none + -device ide-hd, and -snapshot: the guest writes, the file stays unchanged', async () => {
    const f = image('b.img');
    expect((await emu('-drive', `file=${f},format=raw,if=none,id=d0`, '-device', 'ide-hd,drive=d0', '-snapshot', ...loader)).status).toBe(33);
    expect(sector0(f)).toBe('\0'.repeat(512));
  });

  it('readonly=on: the write is refused (ABRT) and the file is unchanged', async () => {
    const f = image('c.img');
    chmodSync(f, 0o444);
    expect((await emu('-drive', `file=${f},if=ide,readonly=on`, ...loader)).status).toBe(33);
    expect(sector0(f)).toBe('\0'.repeat(512));
  });

  it('a missing image, a read-only file without readonly=on: one line, exit 1', async () => {
    const missing = join(dir, 'nope.img');
    let r = await emu('-drive', `file=${missing},if=virtio`, ...loader);
    expect(r.stderr).toBe(`emu: disk image '${missing}' does not exist; check the path (create one with: truncate -s 64M ${missing})\n`);
    expect(r.status).toBe(1);
    const ro = image('ro.img');
    chmodSync(ro, 0o444);
    r = await emu('-hda', ro, ...loader);
    expect(r.stderr).toBe(`emu: disk image '${ro}' is read-only; add readonly=on (or -snapshot) to use it\n`);
    expect(r.status).toBe(1);
  });

  it('an image another emu is using: one line naming its pid, exit 1; free again once it exits', async () => {
    const f = image('busy.img');
    const other = spawn(process.execPath, [join(__dirname, '../../bin/emu.js'), '-hda', f, '-serial', 'none'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 200 && !existsSync(`${f}.lock`); i++) await new Promise((ok) => setTimeout(ok, 50));
      const r = await emu('-drive', `file=${f},format=raw,if=virtio`, ...loader);
      expect(r.stderr).toBe(`emu: disk image '${f}' is in use by another emu (pid ${other.pid}); stop it, or add readonly=on or -snapshot\n`);
      expect(r.status).toBe(1);
      expect((await emu('-hda', f, '-snapshot', ...loader)).status).toBe(33);
    } finally {
      other.kill('SIGKILL');
      await new Promise((ok) => other.on('exit', ok));
    }
    // A killed emu leaves its lock behind; the next one sees the pid is gone and takes the image.
    expect(existsSync(`${f}.lock`)).toBe(true);
    expect((await emu('-hda', f, ...loader)).status).toBe(33);
  });

  it('spellings: -drive properties, -device virtio-blk-pci,drive=, index=, and the mistakes', () => {
    const o = parseArgs(['-drive', 'file=x.img,format=raw,if=virtio,readonly=on,id=a', '-hdb', 'y.img', '-drive', 'file=z.img,if=none,id=z',
      '-device', 'virtio-blk-pci,drive=z', '-device', 'virtio-rng-pci', '-snapshot']);
    expect(o.io.drives.map((d) => [d.file, d.interface, d.readOnly, d.index, d.device])).toEqual([
      ['x.img', 'virtio', true, null, null], ['y.img', 'ide', false, 1, null], ['z.img', 'none', false, null, 'virtio']]);
    expect(o.io.snapshot && o.io.virtioRng).toBe(true);
    const bad = (...a: string[]) => { try { parseArgs(a); return ''; } catch (e) { return (e as Error).message; } };
    expect(bad('-drive', 'file=x.img,format=qcow2')).toMatch(/format=qcow2 is not supported; emu takes raw images/);
    expect(bad('-drive', 'file=x.img,if=scsi')).toMatch(/if=scsi is not supported/);
    expect(bad('-drive', 'if=ide')).toMatch(/needs file=IMAGE/);
    expect(bad('-device', 'virtio-blk-pci,drive=q')).toMatch(/no -drive has id=q/);
    expect(bad('-drive', 'file=a,if=none,id=q')).toMatch(/is not attached; add -device virtio-blk-pci,drive=q/);
    expect(bad('-hda', 'a', '-drive', 'file=b,index=0')).toMatch(/two IDE drives at index 0/);
    expect(bad('-drive', 'file=a,if=virtio,id=q', '-device', 'virtio-blk-pci,drive=q')).toMatch(/already attached; give it if=none/);
  });
});
