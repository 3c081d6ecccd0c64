// Table rows for port I/O (IN/OUT; INS/OUTS live with the string instructions),
// HLT and UD2 (INT n/INT3/INTO are cpu-system's rows). Privilege checks that need TSS/IOPL knowledge go
// through Cpu.sys (SystemHooks.checkIo).

import type { Cpu, Exec } from './cpu.js';
import type { Insn } from './decoder.js';
import { CpuFault, VEC_GP, VEC_UD } from './fault.js';
import { RUN_HALTED } from './state.js';
import { F_STOP, OpRow, row } from './table.js';
import { W } from './words.js';

/** Port read/write of `size` bytes after the permission check; values zero-extended. I/O breakpoints see both (cpu/system/debug.ts). */
export function portIn(c: Cpu, port: number, size: 1 | 2 | 4): number {
  c.sys.checkIo(c, port, size);
  const v = c.host.portRead(port, size);
  if (c.watch !== null) c.watch.port(port, size);
  return size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff);
}
export function portOut(c: Cpu, port: number, size: 1 | 2 | 4, v: number): void {
  c.sys.checkIo(c, port, size);
  c.host.portWrite(port, size, size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff));
  if (c.watch !== null) c.watch.port(port, size);
}

/** IN AL/eAX, Ib|DX and OUT Ib|DX, AL/eAX. */
function io(out: boolean, byte: boolean, viaDx: boolean) {
  return (d: Insn): Exec => {
    const size = (byte ? 1 : d.opSize === 2 ? 2 : 4) as 1 | 2 | 4;
    const imm = d.imm & 0xff;
    return (c) => {
      const r = c.r32;
      const port = viaDx ? r[W.W_RDX] & 0xffff : imm;
      if (out) portOut(c, port, size, r[W.W_RAX]);
      else {
        const v = portIn(c, port, size);
        if (size === 4) { r[W.W_RAX] = v; r[W.W_RAX + 1] = 0; } else if (size === 2) r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | v; else r[W.W_RAX] = (r[W.W_RAX] & ~0xff) | v;
      }
    };
  };
}

/** HLT: privileged; the run loop sees RUN_HALTED at the block end. */
function hlt(): Exec {
  return (c) => {
    if (c.cpl !== 0) throw new CpuFault(VEC_GP, 0, true);
    c.r32[W.W_RUN] = RUN_HALTED;
    c.hlts++;
  };
}

const ud = (): Exec => () => { throw new CpuFault(VEC_UD); };

export const IO_ROWS: OpRow[] = [
  row('e4', 'in AL,Ib', io(false, true, false)),
  row('e5', 'in eAX,Ib', io(false, false, false)),
  row('e6', 'out Ib,AL', io(true, true, false)),
  row('e7', 'out Ib,eAX', io(true, false, false)),
  row('ec', 'in AL,DX', io(false, true, true)),
  row('ed', 'in eAX,DX', io(false, false, true)),
  row('ee', 'out DX,AL', io(true, true, true)),
  row('ef', 'out DX,eAX', io(true, false, true)),
  row('f4', 'hlt', hlt, F_STOP),
  row('0f 0b', 'ud2', ud),
  row('0f b9', 'ud1 Gv,Ev', ud),
  row('0f ff', 'ud0 Gv,Ev', ud),
];
