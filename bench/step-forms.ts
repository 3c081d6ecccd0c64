// Which instruction forms compiled code leaves to the interpreter (the JIT's `step` import):
// a histogram by form, e.g. `movzx r32,m16[b+d]` or `lea r64,[b+i*s+d]`, for bench/jit-profile.ts's
// --steps. Counting is one typed-array increment per step; forms are named once at the end by
// disassembling each counted instruction and reducing its text to operand shapes.
import type { Block } from '../cpu/blocks.js';
import { disassemble } from '../cpu/disasm.js';
import type { OpTable } from '../cpu/table.js';

const REG_SIZE: [RegExp, string][] = [
  [/^(r[0-9]+b|[abcd]l|[abcd]h|[sd]il|[sb]pl)$/, 'r8'],
  [/^(r[0-9]+w|[abcd]x|[sd]i|[sb]p)$/, 'r16'],
  [/^(r[0-9]+d|e[abcd]x|e[sd]i|e[sb]p)$/, 'r32'],
  [/^(r[0-9]+|r[abcd]x|r[sd]i|r[sb]p)$/, 'r64'],
  [/^[cdefgs]s$/, 'sreg'],
  [/^(cr|dr)[0-9]+$/, 'creg'],
  [/^[xy]mm[0-9]+$/, 'xmm'],
  [/^mm[0-7]$/, 'mm'],
  [/^st(\([0-7]\))?$/, 'st'],
];
const PTR_SIZE: Record<string, string> = { BYTE: 'm8', WORD: 'm16', DWORD: 'm32', QWORD: 'm64', TBYTE: 'm80', XMMWORD: 'm128', FWORD: 'm48' };

/** The shape of one operand of objdump-style Intel text: r32, imm, m16[b+i*s+d], [rip+d]... */
function shape(op: string, branch: boolean): string {
  const t = op.trim();
  for (const [re, name] of REG_SIZE) if (re.test(t)) return name;
  const mem = /^(?:(\w+) PTR )?(?:([cdefgs]s):)?(\[([^\]]*)\]|0x[0-9a-f]+)$/.exec(t);
  if (mem !== null && (mem[1] !== undefined || mem[2] !== undefined || mem[3].startsWith('['))) {
    const size = mem[1] !== undefined ? PTR_SIZE[mem[1]] ?? mem[1] : '';
    const inner = mem[4];
    let addr: string;
    if (inner === undefined) addr = '[abs]';
    else if (/\b[re]?ip\b/.test(inner)) addr = '[rip+d]';
    else if (inner.includes('*')) addr = /^[a-z0-9]+\+[a-z0-9]+\*/.test(inner) ? '[b+i*s+d]' : '[i*s+d]';
    else addr = /^[a-z][a-z0-9]*(\+|-|$)/.test(inner) ? '[b+d]' : '[abs]';
    return size + addr;
  }
  if (/^-?0x[0-9a-f]+$|^[0-9]+$/.test(t)) return branch ? 'rel' : 'imm';
  return t;
}

/** The form of one instruction's text: mnemonic (with lock/rep) and operand shapes. */
export function formOf(text: string): string {
  const m = /^((?:(?:lock|rep|repz|repnz|repe|repne|data16|addr32) )*)(\S+)\s*(.*)$/.exec(text);
  if (m === null) return text;
  let mn = m[2];
  const branch = /^(j|call|loop)/.test(mn);
  if (/^j(?!mp)[a-z]+$/.test(mn)) mn = 'jcc';
  else if (/^set[a-z]+$/.test(mn)) mn = 'setcc';
  else if (/^cmov[a-z]+$/.test(mn)) mn = 'cmovcc';
  const ops = m[3] === '' ? [] : m[3].split(',').map((o) => shape(o, branch));
  return `${m[1]}${mn}${ops.length > 0 ? ' ' + ops.join(',') : ''}`;
}

/** Counts per (block, instruction) of the instructions compiled code stepped. */
export class StepForms {
  private readonly counts = new Map<Block, { size: number; n: Float64Array; slow: Float64Array }>();
  total = 0;

  /** `codeSize` of the vCPU at the step (2, 4, 8), for disassembly. */
  count(b: Block, i: number, slow: boolean, codeSize: number): void {
    let e = this.counts.get(b);
    if (e === undefined) { e = { size: codeSize, n: new Float64Array(b.n), slow: new Float64Array(b.n) }; this.counts.set(b, e); }
    if (slow) e.slow[i]++; else e.n[i]++;
    this.total++;
  }

  /** Forms by count, most first: [form, count]; an inline op's slow path is '(slow) form'. */
  forms(table: OpTable, read8: (phys: number) => number): [string, number][] {
    const by = new Map<string, number>();
    const add = (k: string, v: number): void => { by.set(k, (by.get(k) ?? 0) + v); };
    for (const [b, e] of this.counts) {
      for (let i = 0; i < b.n; i++) {
        if (e.n[i] === 0 && e.slow[i] === 0) continue;
        const at = b.phys + b.starts[i];
        const bits = e.size === 8 ? '64' : e.size === 4 ? '32' : '16';
        const form = `${formOf(disassemble(table, (k) => read8(at + k), e.size, 0, 0).text)} (${bits})`;
        if (e.n[i] !== 0) add(form, e.n[i]);
        if (e.slow[i] !== 0) add(`(slow) ${form}`, e.slow[i]);
      }
    }
    return [...by].sort((x, y) => y[1] - x[1]);
  }
}
