// A whole machine to one file and back: the CPU state record(s), guest RAM
// (zero pages elided), every device's declared state, and the machine's own
// time and retired-instruction count, in the container of snapshot-format.ts.
// A restore checks everything before it changes anything.

import { STATE_SIZE } from '../cpu/state.js';
import { StateMismatch } from '../devices/state.js';
import type { GuestMemory } from '../mmu/memory.js';
import { loadDevices, saveDevices, type DeviceBlob } from './device-state.js';
import { prepareDisks, saveDisks } from './snapshot-disks.js';
import type { Machine, MachineRunState } from './machine.js';
import { decodeSnapshot, encodeSnapshot, SnapshotError, SNAPSHOT_VERSION, type Sections } from './snapshot-format.js';

export const PAGE_SIZE = 4096;
const RUN_STATE_SIZE = 25;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

// ---- Pieces shared with live migration.

export function encodeRunState(s: MachineRunState): Uint8Array {
  const b = new Uint8Array(RUN_STATE_SIZE);
  const dv = new DataView(b.buffer);
  dv.setFloat64(0, s.instructions, true);
  dv.setFloat64(8, s.now, true);
  dv.setFloat64(16, s.timersNext, true);
  b[24] = s.paused ? 1 : 0;
  return b;
}

export function decodeRunState(b: Uint8Array): MachineRunState {
  if (b.length !== RUN_STATE_SIZE) throw new SnapshotError('snapshot is corrupt: the machine section has the wrong size');
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  return { instructions: dv.getFloat64(0, true), now: dv.getFloat64(8, true), timersNext: dv.getFloat64(16, true), paused: b[24] !== 0 };
}

export function encodeDevice(d: DeviceBlob): Uint8Array {
  const layout = utf8.encode(d.layout);
  const b = new Uint8Array(4 + layout.length + d.bytes.length);
  new DataView(b.buffer).setUint32(0, layout.length, true);
  b.set(layout, 4);
  b.set(d.bytes, 4 + layout.length);
  return b;
}

export function decodeDevice(name: string, b: Uint8Array): DeviceBlob {
  const n = b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : -1;
  if (n < 0 || 4 + n > b.length) throw new SnapshotError(`snapshot is corrupt: device "${name}" is cut short`);
  return { name, layout: fromUtf8.decode(b.subarray(4, 4 + n)), bytes: b.subarray(4 + n) };
}

/** True if the 4 KiB page at byte offset `off` of `words` (the RAM as 32-bit words) is all zero. */
function zeroPage(words: Int32Array, off: number): boolean {
  for (let i = off >> 2, end = i + PAGE_SIZE / 4; i < end; i++) if (words[i] !== 0) return false;
  return true;
}

/** RAM as a page bitmap followed by the non-zero pages. */
export function encodeRam(mem: GuestMemory): Uint8Array {
  const pages = Math.ceil(mem.ramSize / PAGE_SIZE);
  const words = new Int32Array(mem.buffer, 0, pages * (PAGE_SIZE / 4));
  const bitmap = new Uint8Array(Math.ceil(pages / 8));
  let present = 0;
  for (let p = 0; p < pages; p++) if (!zeroPage(words, p * PAGE_SIZE)) { bitmap[p >> 3] |= 1 << (p & 7); present++; }
  const out = new Uint8Array(4 + bitmap.length + present * PAGE_SIZE);
  new DataView(out.buffer).setUint32(0, pages, true);
  out.set(bitmap, 4);
  const ram = new Uint8Array(mem.buffer, 0, pages * PAGE_SIZE);
  let at = 4 + bitmap.length;
  for (let p = 0; p < pages; p++) {
    if (!(bitmap[p >> 3] & (1 << (p & 7)))) continue;
    out.set(ram.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), at);
    at += PAGE_SIZE;
  }
  return out;
}

/** Check an encodeRam section against this memory; returns a function that writes it. */
function prepareRam(mem: GuestMemory, b: Uint8Array): () => void {
  const pages = Math.ceil(mem.ramSize / PAGE_SIZE);
  const bitmapLen = Math.ceil(pages / 8);
  if (b.length < 4 + bitmapLen || new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) !== pages) {
    throw new SnapshotError('snapshot is corrupt: its RAM section does not match its RAM size');
  }
  const bitmap = b.subarray(4, 4 + bitmapLen);
  let present = 0;
  for (let p = 0; p < pages; p++) if (bitmap[p >> 3] & (1 << (p & 7))) present++;
  if (b.length !== 4 + bitmapLen + present * PAGE_SIZE) throw new SnapshotError('snapshot is corrupt: its RAM section has the wrong size');
  return () => {
    const ram = new Uint8Array(mem.buffer, 0, mem.ramSize);
    let at = 4 + bitmapLen;
    for (let p = 0; p < pages; p++) {
      const off = p * PAGE_SIZE, len = Math.min(PAGE_SIZE, mem.ramSize - off);
      if (bitmap[p >> 3] & (1 << (p & 7))) { ram.set(b.subarray(at, at + len), off); at += PAGE_SIZE; }
      else ram.fill(0, off, off + len);
    }
  };
}

// ---- Whole snapshots.

/**
 * Each vCPU's run state beside its state record: instructions retired and whether it
 * waits for a STARTUP IPI (an AP before INIT-SIPI-SIPI is not run at all). 9 bytes each.
 */
const VCPU_RUN_SIZE = 9;

function encodeVcpuRun(m: Machine): Uint8Array {
  const b = new Uint8Array(m.vcpus.length * VCPU_RUN_SIZE);
  const dv = new DataView(b.buffer);
  for (const v of m.vcpus) {
    dv.setFloat64(v.index * VCPU_RUN_SIZE, m.vcpuInstructions(v.index), true);
    b[v.index * VCPU_RUN_SIZE + 8] = v.waitSipi ? 1 : 0;
  }
  return b;
}

/**
 * The sections of everything but RAM: the machine's run state, one CPU state record
 * per vCPU with its run state, and every device (the LAPICs and the APIC bus among them).
 */
export function machineSections(m: Machine, paused: boolean): Sections {
  const sections: Sections = new Map();
  sections.set('run', encodeRunState({ ...m.runState(), paused }));
  for (const v of m.vcpus) sections.set(`cpu${v.index}`, v.backend.getState().slice());
  sections.set('vcpus', encodeVcpuRun(m));
  for (const d of saveDevices(m)) sections.set(`dev/${d.name}`, encodeDevice(d));
  saveDisks(m, sections);
  return sections;
}

/**
 * The machine as one snapshot file. Take it between run slices (paused, or from the run
 * loop's caller); `paused` is the run state a restore resumes in (default: the machine's).
 */
export async function saveSnapshot(m: Machine, paused = m.runState().paused): Promise<Uint8Array> {
  const sections = machineSections(m, paused);
  sections.set('ram', encodeRam(m.memory));
  return encodeSnapshot({ version: SNAPSHOT_VERSION, ramSize: m.memory.ramSize, vcpus: m.vcpus.length }, sections);
}

function mib(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)}M` : `${bytes}`;
}

/**
 * Load a snapshot into `m` (built with the same options as the machine that
 * took it). Throws SnapshotError with one line, having changed nothing, if the
 * file is unusable. Returns the saved run state (whether the source was paused).
 */
export async function restoreSnapshot(m: Machine, file: Uint8Array): Promise<MachineRunState> {
  const { header, sections } = await decodeSnapshot(file);
  return applySections(m, header.ramSize, header.vcpus, sections);
}

/** Apply decoded sections (a snapshot's, or what a migration stream delivered). */
export function applySections(m: Machine, ramSize: number, vcpus: number, sections: Sections, ramApplied = false): MachineRunState {
  if (ramSize !== m.memory.ramSize) {
    throw new SnapshotError(`the snapshot's guest has ${mib(ramSize)} of RAM and this machine ${mib(m.memory.ramSize)}: start emu with -m ${mib(ramSize)}`);
  }
  const cpus = m.vcpus.length;
  if (vcpus !== cpus) throw new SnapshotError(`the snapshot's guest has ${vcpus} vCPUs and this machine ${cpus}: start emu with -smp ${vcpus}`);
  const need = (name: string): Uint8Array => {
    const s = sections.get(name);
    if (!s) throw new SnapshotError(`snapshot is incomplete: it has no "${name}" section`);
    return s;
  };
  const run = decodeRunState(need('run'));
  const states: Uint8Array[] = [];
  for (let i = 0; i < vcpus; i++) {
    const s = need(`cpu${i}`);
    if (s.length !== STATE_SIZE) throw new SnapshotError(`snapshot is corrupt: CPU ${i}'s state is ${s.length} bytes, not ${STATE_SIZE}`);
    states.push(s);
  }
  // One vCPU's snapshot may lack the section (it came later): that vCPU runs.
  const vcpuRun = sections.get('vcpus') ?? (vcpus === 1 ? null : need('vcpus'));
  if (vcpuRun && vcpuRun.length !== vcpus * VCPU_RUN_SIZE) throw new SnapshotError('snapshot is corrupt: the vCPU section has the wrong size');
  const writeRam = ramApplied ? () => {} : prepareRam(m.memory, need('ram'));
  const loadDisks = prepareDisks(m, sections);
  const devices: DeviceBlob[] = [];
  for (const [name, body] of sections) if (name.startsWith('dev/')) devices.push(decodeDevice(name.slice(4), body));
  try {
    loadDevices(m, devices); // checks every device before loading any
  } catch (e) {
    if (e instanceof StateMismatch) throw new SnapshotError(`snapshot does not fit this machine: ${e.message}`);
    throw e;
  }
  writeRam();
  loadDisks();
  if (vcpuRun) {
    const dv = new DataView(vcpuRun.buffer, vcpuRun.byteOffset, vcpuRun.length);
    for (const v of m.vcpus) {
      v.retiredBefore += dv.getFloat64(v.index * VCPU_RUN_SIZE, true) - m.vcpuInstructions(v.index);
      v.waitSipi = vcpuRun[v.index * VCPU_RUN_SIZE + 8] !== 0;
    }
  }
  m.restoreRunState(run); // time first: the state record's TSC is read against the clock
  for (const v of m.vcpus) {
    v.backend.setState(states[v.index]);
    v.backend.invalidateCode?.();
  }
  return run;
}
