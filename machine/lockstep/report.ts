// What both lockstep oracles (KVM against a backend, and two in-process
// backends) say about a divergence: field names of the state record, the
// differing fields and bytes, register dumps and disassembly.

import {
  ARCH_END, CR0, CR0_PE, CS, EFER, EFER_LMA, EVENTS, FXSAVE, FX_ST0, FX_XMM0, GPR_NAMES, MSR_AREA, RFLAGS, RIP,
  SEG, SEG_ATTR, SEG_BASE, SEG_NAMES, SEG_SIZE, ATTR_DB, ATTR_L, StateView, gprOffset, segOffset,
} from '../../cpu/state.js';
import type { GuestMemory } from '../../mmu/memory.js';
import { disassemble } from '../../cpu/disasm.js';
import { fullTable } from '../../cpu/compose.js';

/** The interpreter's disassembler: up to `count` instructions from `bytes`, one "addr: bytes text" line each. */
export function disassembleCount(bytes: Uint8Array, codeSize: 2 | 4 | 8, rip: number, count: number): string {
  const t = fullTable();
  const lines: string[] = [];
  for (let off = 0, i = 0; i < count && off < bytes.length; i++) {
    const base = off;
    const d = disassemble(t, (k) => (base + k < bytes.length ? bytes[base + k] : 0), codeSize, (rip + base) | 0, 0);
    lines.push(`${(rip + base).toString(16).padStart(8, '0')}: ${hexBytes(bytes.subarray(base, base + d.len)).padEnd(30)} ${d.text}`);
    off += d.len;
  }
  return lines.join('\n    ');
}

export function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** The code size (2, 4, 8 bytes) a state record runs in. */
export function codeSizeOf(s: StateView): 2 | 4 | 8 {
  const attr = s.u32(segOffset(CS) + SEG_ATTR);
  if ((s.lo(EFER) & EFER_LMA) !== 0 && (attr & ATTR_L) !== 0) return 8;
  if ((s.lo(CR0) & CR0_PE) === 0) return 2;
  return attr & ATTR_DB ? 4 : 2;
}

/** Linear address of RIP (CS.base + RIP). */
export function ripLinear(s: StateView): number {
  return (s.num64(segOffset(CS) + SEG_BASE) + s.num64(RIP)) % 2 ** 52;
}

/** A readable name for a state-record byte offset. */
export function fieldName(off: number): string {
  if (off < 0x80) return GPR_NAMES[off >> 3];
  if (off < 0x88) return 'rip';
  if (off < 0x90) return 'rflags';
  if (off < SEG) return ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'xcr0', 'dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7'][(off - 0x90) >> 3] ?? `0x${off.toString(16)}`;
  if (off < 0x200) {
    const n = (off - SEG) / SEG_SIZE | 0, f = (off - SEG) % SEG_SIZE;
    return `${SEG_NAMES[n]}.${f < 4 ? 'selector' : f < 8 ? 'attributes' : f < 16 ? 'limit' : 'base'}`;
  }
  if (off < MSR_AREA) return off < 0x210 ? 'gdtr' : 'idtr';
  if (off < EVENTS) return `msr area +0x${(off - MSR_AREA).toString(16)}`;
  if (off < FXSAVE) return ['run_state', 'int_shadow', 'nmi_pending', 'nmi_masked', 'pending_event', 'pending_error', 'pending_irq'][(off - EVENTS) >> 2] ?? `events +0x${(off - EVENTS).toString(16)}`;
  if (off >= FX_XMM0 && off < FX_XMM0 + 256) return `xmm${(off - FX_XMM0) >> 4}`;
  if (off >= FX_ST0 && off < FX_ST0 + 128) return `st${(off - FX_ST0) >> 4}`;
  return `fxsave +0x${(off - FXSAVE).toString(16)}`;
}

/** Field-by-field differences (64-bit granularity) between two records, as "field (0xoff): A x, B y". */
export function diffStates(a: StateView, b: StateView, nameA = 'kvm', nameB = 'other'): string[] {
  const out: string[] = [];
  for (let off = 0; off < ARCH_END; off += 8) {
    if (a.lo(off) !== b.lo(off) || a.hi(off) !== b.hi(off)) out.push(`${fieldName(off)} (0x${off.toString(16)}): ${nameA} ${a.hex64(off)}, ${nameB} ${b.hex64(off)}`);
  }
  return out;
}

/** Compact dump of the registers that matter most (for the divergence report). */
export function describeState(s: StateView): string {
  const gprs = GPR_NAMES.map((n, i) => `${n}=${s.hex64(gprOffset(i))}`);
  const lines = [];
  for (let i = 0; i < 16; i += 4) lines.push('  ' + gprs.slice(i, i + 4).join(' '));
  lines.push(`  rip=${s.hex64(RIP)} rflags=${s.hex64(RFLAGS)} cr0=${s.hex64(CR0)} efer=${s.hex64(EFER)}`);
  return lines.join('\n');
}

/** Differences between two memories' RAM in [start, start+len), as "memory addr: A xx, B yy" (first 8). */
export function diffMemory(a: GuestMemory, b: GuestMemory, start: number, len: number, nameA = 'kvm', nameB = 'other'): string[] {
  const end = Math.min(start + len, a.ramSize, b.ramSize);
  const out: string[] = [];
  const hex = (v: number): string => v.toString(16).padStart(2, '0');
  for (let p = start; p < end; p++) {
    if (a.u8[p] !== b.u8[p]) {
      out.push(`memory 0x${p.toString(16)}: ${nameA} ${hex(a.u8[p])}, ${nameB} ${hex(b.u8[p])}`);
      if (out.length >= 8) break;
    }
  }
  return out;
}

/** RAM compared 32 bits at a time (both memories' common part). */
export function memoryEqual(a: GuestMemory, b: GuestMemory): boolean {
  const n = Math.min(a.ramSize, b.ramSize) >>> 2;
  const x = new Int32Array(a.buffer, 0, n), y = new Int32Array(b.buffer, 0, n);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}
