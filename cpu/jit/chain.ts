// Chaining between regions: the jump cache. A region whose block ends where the region
// cannot follow statically (an indirect JMP or CALL, a RET to no return point of the
// region, a direct branch or fall-through off the region) looks the next linear RIP up in
// a per-vCPU jump cache in the vCPU area (V.JUMP_CACHE) and, on a hit, tail-calls that
// region's function through the module-shared table (return_call_indirect), passing the
// instructions done so far: the run loop is not re-entered between regions, and the wasm
// stack does not grow.
//
// The run loop fills an entry each time it enters a region (the block's linear address,
// its region's table slot and entry index) with the chain epoch: JitBackend bumps the epoch
// whenever an entry could have gone stale (cpu.attention moved: a TLB flush, a mode
// change, a write to code; the block cache's epoch moved; the JIT dropped or replaced a
// region) and writes it to V.JIT_GEN before each entry, 0 when compiled code must not chain
// (breakpoints armed). An entry is followed only while its epoch is V.JIT_GEN, at least
// MAX_BLOCK_INSNS instructions of the entry's limit remain (the block entered runs whole),
// and RFLAGS has neither TF nor RF (the run loop steps those): so the event-latency bound
// (one entry from the run loop runs at most its limit) and precise exceptions hold as for
// one region.

import { MAX_BLOCK_INSNS } from '../blocks.js';
import { V, JUMP_ENTRIES } from '../vcpu-layout.js';
import { W } from '../words.js';
import { FLAG_RF, FLAG_TF } from '../state.js';
import { ModuleBuilder, Op, ValType, type FuncBuilder } from './wasm/index.js';

const I32 = ValType.I32;

/** The region functions' type: (base, limit, entry, done) -> done, or ~done after a fault. */
export const REGION_SIG = { params: [I32, I32, I32, I32], results: [I32] };

/** Jump-cache index of linear address lo:hi (the wasm side computes the same). */
export function jumpIndex(lo: number, hi: number): number {
  return (lo ^ (lo >>> 12) ^ hi) & (JUMP_ENTRIES - 1);
}

let tailCallsKnown: boolean | undefined;

/** Whether this engine validates return_call_indirect (V8 and current browsers do; without it regions do not chain). */
export function tailCalls(): boolean {
  if (tailCallsKnown !== undefined) return tailCallsKnown;
  try {
    const m = new ModuleBuilder();
    m.addTable(1);
    const sig = { params: [], results: [] };
    const f = m.addFunction('f', sig);
    f.i32Const(0).returnCallIndirect(m.typeIndex(sig));
    tailCallsKnown = WebAssembly.validate(m.encode());
  } catch {
    tailCallsKnown = false;
  }
  return tailCallsKnown;
}

/** Locals the chain attempt uses (its caller's: i32 temporaries, RIP, the running total). */
export interface ChainLocals {
  wide: boolean;
  limit: number;
  done: number;
  rip: number;
  gen: number;
  lo: number;
  hi: number;
  at: number;
}

const B_RFLAGS = W.W_RFLAGS * 4, B_CSBASE = W.W_CSBASE * 4;

/**
 * The chain attempt, at the end of a region function (the state record written back, V.JIT_EXIT
 * set, `done` the instructions run so far, `rip` where the guest goes next): on a jump-cache hit
 * it tail-calls the region there; else it falls out, and the function returns `done`.
 */
export function emitChain(f: FuncBuilder, l: ChainLocals, typeIndex: number): void {
  const base = (): void => { f.localGet(0); };
  f.block();
  f.localGet(l.limit).localGet(l.done).op(Op.I32Sub).i32Const(MAX_BLOCK_INSNS).op(Op.I32LtS).brIf(0);
  base(); f.load(Op.I32Load, V.JIT_GEN).localTee(l.gen).op(Op.I32Eqz).brIf(0);
  base(); f.load(Op.I32Load, B_RFLAGS).i32Const(FLAG_TF | FLAG_RF).op(Op.I32And).brIf(0);
  if (l.wide) {
    f.localGet(l.rip).op(Op.I32WrapI64).localSet(l.lo);
    f.localGet(l.rip).i64Const(32, 0).op(Op.I64ShrU).op(Op.I32WrapI64).localSet(l.hi);
  } else {
    f.localGet(l.rip); base(); f.load(Op.I32Load, B_CSBASE).op(Op.I32Add).localSet(l.lo);
    f.i32Const(0).localSet(l.hi);
  }
  f.localGet(l.lo).localGet(l.lo).i32Const(12).op(Op.I32ShrU).op(Op.I32Xor).localGet(l.hi).op(Op.I32Xor);
  f.i32Const(JUMP_ENTRIES - 1).op(Op.I32And).i32Const(4).op(Op.I32Shl);
  base(); f.op(Op.I32Add).localSet(l.at);
  f.localGet(l.at).load(Op.I32Load, V.JUMP_CACHE).localGet(l.lo).op(Op.I32Ne).brIf(0);
  f.localGet(l.at).load(Op.I32Load, V.JUMP_CACHE + 4).localGet(l.hi).op(Op.I32Ne).brIf(0);
  f.localGet(l.at).load(Op.I32Load, V.JUMP_CACHE + 8).localGet(l.gen).op(Op.I32Ne).brIf(0);
  base(); base(); f.load(Op.I32Load, V.JIT_CHAINS).i32Const(1).op(Op.I32Add).store(Op.I32Store, V.JIT_CHAINS);
  base();
  f.localGet(l.limit);
  f.localGet(l.at).load(Op.I32Load, V.JUMP_CACHE + 12).i32Const(0xff).op(Op.I32And);
  f.localGet(l.done);
  f.localGet(l.at).load(Op.I32Load, V.JUMP_CACHE + 12).i32Const(8).op(Op.I32ShrU);
  f.returnCallIndirect(typeIndex, 0);
  f.end();
}

/** The run loop's side: one vCPU's jump cache and its V.JIT_GEN word. */
export class JumpCache {
  private readonly words: Int32Array;
  private readonly gen: Int32Array;
  readonly chains: Int32Array;

  constructor(buffer: ArrayBufferLike, base: number) {
    this.words = new Int32Array(buffer, base + V.JUMP_CACHE, JUMP_ENTRIES * 4);
    this.gen = new Int32Array(buffer, base + V.JIT_GEN, 1);
    this.chains = new Int32Array(buffer, base + V.JIT_CHAINS, 1);
    // Entries another backend left here name slots of its own table.
    this.words.fill(0);
    this.gen[0] = 0;
    this.chains[0] = 0;
  }

  /** The epoch compiled code may follow entries of (0: none). */
  set epoch(e: number) { this.gen[0] = e; }

  /** Linear address lo:hi enters table slot `slot` at region block `entry`, under epoch e. */
  fill(lo: number, hi: number, e: number, slot: number, entry: number): void {
    const w = this.words, k = jumpIndex(lo, hi) << 2;
    w[k] = lo; w[k + 1] = hi; w[k + 2] = e; w[k + 3] = (slot << 8) | entry;
  }
}
