// The monitor changes and ejects a CD (QMP eject / blockdev-change-medium / change, and HMP's
// `change ide1-cd0 FILE` / `eject -f ide1-cd0` through human-monitor-command): the drive
// then answers UNIT ATTENTION once, NOT READY with no medium, and reads the new disc; a
// drive the guest locked refuses unless forced. Snapshots record what each CD-ROM drive
// holds: a restore empties a drive that was empty and wants the same ISO in one that was not.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../devices/block.js';
import { PiixIde } from '../../devices/ide.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { QmpSession } from '../../machine/qmp.js';
import { restoreSnapshot, saveSnapshot } from '../../machine/snapshot.js';
import { ControlError, VmControl, type ControlIo } from '../../machine/vm-control.js';
import { discBytes } from './atapi-rig.js';

const IMAGE = readFileSync('guests/tinyos/tinyos.elf');

function board(cd: MemoryDisk, isos: Record<string, Uint8Array> = {}) {
  const m = new Machine({
    memory: 16 << 20, accel: 'interp', deterministic: true, noReboot: true,
    drives: [{ interface: 'ide', disk: new MemoryDisk(new Uint8Array(1 << 20)), name: 'hd.img' }, { interface: 'ide', disk: cd, name: 'a.iso', index: 2, media: 'cdrom', id: 'cd' }],
  });
  m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: IMAGE } }));
  m.runSteps(20);
  const events: Record<string, unknown>[] = [];
  const io = {
    openMedium: (path: string) => {
      if (!isos[path]) throw new ControlError(`CD-ROM image '${path}' does not exist; check the path`);
      return new MemoryDisk(isos[path], true);
    },
  } as unknown as ControlIo;
  const replies: Record<string, unknown>[] = [];
  const qmp = new QmpSession(new VmControl(m, io), (o) => (o.event ? events : replies).push(o));
  qmp.receive('{"execute":"qmp_capabilities"}');
  let id = 0;
  const cmd = async (execute: string, args: Record<string, unknown>): Promise<unknown> => {
    const mine = ++id;
    qmp.receive(JSON.stringify({ execute, arguments: args, id: mine }));
    let r: { return?: unknown; error?: { desc: string } } | undefined;
    for (let i = 0; i < 100 && !(r = replies.find((x) => x.id === mine)); i++) await new Promise((res) => setTimeout(res, 1));
    return r!.error ? `error: ${r!.error.desc}` : r!.return;
  };
  const ide = m.devices.io.ide as PiixIde;
  /** A packet to the secondary master as the guest's driver sends it; returns [error register, data]. */
  const packet = (cdb: number[]): [number, number[]] => {
    ide.portWrite(0x176, 1, 0xa0); ide.portWrite(0x171, 1, 0); ide.portWrite(0x174, 1, 0); ide.portWrite(0x175, 1, 0x08); ide.portWrite(0x177, 1, 0xa0);
    const p = [...cdb, ...new Array(12 - cdb.length).fill(0)];
    for (let i = 0; i < 12; i += 2) ide.portWrite(0x170, 2, p[i] | (p[i + 1] << 8));
    const data: number[] = [];
    while (ide.portRead(0x177, 1) & 0x08) {
      const n = ide.portRead(0x174, 1) | (ide.portRead(0x175, 1) << 8);
      for (let i = 0; i < n; i += 2) { const w = ide.portRead(0x170, 2); data.push(w & 0xff, w >> 8); }
    }
    return [ide.portRead(0x171, 1), data];
  };
  return { m, cmd, events, ide, packet };
}

describe('CD-ROM media under the monitor', () => {
  it('QMP eject, blockdev-change-medium and change; HMP change/eject; the guest sees UNIT ATTENTION, NOT READY, then the new disc', async () => {
    const disc2 = discBytes(6, 50), disc3 = discBytes(3, 77);
    const { cmd, events, ide, packet, m } = board(new MemoryDisk(discBytes(), true), { 'b.iso': disc2, 'c.iso': disc3 });
    expect(await cmd('eject', { device: 'ide1-cd0' })).toEqual({});
    expect(events.map((e) => [e.event, (e.data as Record<string, unknown>)['tray-open']])).toEqual([['DEVICE_TRAY_MOVED', true]]);
    expect(packet([0x00])[0] >> 4).toBe(6); // UNIT ATTENTION
    expect(packet([0x00])[0] >> 4).toBe(2); // NOT READY
    expect(packet([0x03, 0, 0, 0, 18])[1][12]).toBe(0x3a); // MEDIUM NOT PRESENT

    expect(await cmd('blockdev-change-medium', { id: 'cd', filename: 'b.iso' })).toEqual({});
    expect(packet([0x00])[0] >> 4).toBe(6);
    const [err, cap] = packet([0x25]);
    expect([err, (cap[2] << 8) | cap[3]]).toEqual([0, 5]);
    expect(Uint8Array.from(packet([0x28, 0, 0, 0, 0, 2, 0, 0, 1])[1])).toEqual(disc2.subarray(2 * 2048, 3 * 2048));
    expect(m.options.drives![1].name).toBe('b.iso');

    expect(await cmd('change', { device: 'ide1-cd0', target: 'c.iso' })).toEqual({});
    packet([0x00]);
    expect(Uint8Array.from(packet([0x28, 0, 0, 0, 0, 0, 0, 0, 1])[1])).toEqual(disc3.subarray(0, 2048));

    expect(await cmd('human-monitor-command', { 'command-line': 'change ide1-cd0 b.iso' })).toBe('');
    packet([0x00]);
    expect(ide.cdrom(2)!.sectors).toBe(6);
    packet([0x1e, 0, 0, 0, 1]); // the guest locks the tray
    expect(await cmd('human-monitor-command', { 'command-line': 'eject ide1-cd0' })).toBe("Device 'ide1-cd0' is locked and force was not specified, wait for tray to open and try again\r\n");
    expect(await cmd('eject', { device: 'ide1-cd0' })).toBe("error: Device 'ide1-cd0' is locked and force was not specified, wait for tray to open and try again");
    expect(await cmd('blockdev-change-medium', { device: 'ide1-cd0', filename: 'c.iso' })).toMatch(/is locked/);
    expect(ide.cdrom(2)!.sectors).toBe(6);
    expect(await cmd('human-monitor-command', { 'command-line': 'eject -f ide1-cd0' })).toBe('');
    expect(ide.cdrom(2)!.media).toBe(null);
    m.destroy();
  });

  it('mistakes are one line: an unknown drive, a hard disk, a missing ISO, a format, HMP usage', async () => {
    const { cmd, m } = board(new MemoryDisk(discBytes(), true));
    expect(await cmd('eject', { device: 'ide1-cd1' })).toBe("error: Device 'ide1-cd1' not found; CD-ROM drives: ide1-cd0");
    expect(await cmd('eject', { device: 'ide0-hd0' })).toBe("error: Device 'ide0-hd0' is not removable");
    expect(await cmd('blockdev-change-medium', { device: 'ide1-cd0', filename: 'none.iso' })).toBe("error: CD-ROM image 'none.iso' does not exist; check the path");
    expect(await cmd('blockdev-change-medium', { device: 'ide1-cd0', filename: 'none.iso', format: 'qcow2' })).toBe("error: emu opens raw images only (format 'qcow2')");
    expect(await cmd('eject', {})).toBe("error: Parameter 'device' (or 'id') is missing or not a string");
    expect(await cmd('human-monitor-command', { 'command-line': 'change ide1-cd0' })).toBe('usage: change DEVICE FILE [raw]\r\n');
    expect(await cmd('human-monitor-command', { 'command-line': 'info block' })).toBe("unknown command: 'info' (emu's monitor has change and eject)\r\n");
    m.destroy();
  });
});

describe('CD-ROM drives in snapshots', () => {
  it('an ejected drive is restored empty, with its pending unit attention; a changed medium needs the same ISO on the destination', async () => {
    const iso = discBytes();
    const src = board(new MemoryDisk(iso, true), { 'b.iso': discBytes(6, 50) });
    await src.cmd('eject', { device: 'ide1-cd0' });
    const snap = await saveSnapshot(src.m);
    const dst = board(new MemoryDisk(iso, true));
    await restoreSnapshot(dst.m, snap);
    expect(dst.ide.cdrom(2)!.media).toBe(null);
    expect(dst.packet([0x00])[0] >> 4).toBe(6);
    expect(dst.packet([0x00])[0] >> 4).toBe(2);

    await src.cmd('blockdev-change-medium', { device: 'ide1-cd0', filename: 'b.iso' });
    const changed = await saveSnapshot(src.m);
    const other = board(new MemoryDisk(iso, true));
    const before = await saveSnapshot(other.m);
    await expect(restoreSnapshot(other.m, changed)).rejects.toThrow(
      `CD-ROM ide1-cd0 held 'b.iso' (12288 bytes) in the snapshot and a ${iso.length}-byte medium here: put the same ISO in (-cdrom, or the monitor's change ide1-cd0 FILE)`);
    expect(await saveSnapshot(other.m)).toEqual(before);
    const same = board(new MemoryDisk(discBytes(6, 50), true));
    await restoreSnapshot(same.m, changed);
    expect(same.packet([0x00])[0] >> 4).toBe(6); // the change was not yet reported when saved
    for (const b of [src, dst, other, same]) b.m.destroy();
  }, 60_000);
});
