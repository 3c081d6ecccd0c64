// Function body builder: locals and one method per instruction form, writing opcode bytes straight
// into a growable buffer. Methods return `this` so code reads as a chain. With `debug`, every
// instruction also goes through BodyChecker, which throws at the first stack or nesting mistake.

import { ByteWriter, splitI64 } from './bytes.js';
import { Op, OP_ROWS } from './opcodes.js';
import { BLOCK_EMPTY, ValType, type FuncSig } from './types.js';
import { BodyChecker, opInfo, opName } from './validate.js';

/** What a function body needs to know about the module it belongs to. */
export interface FuncContext {
  funcSig(funcIndex: number): FuncSig | undefined;
  typeSig(typeIndex: number): FuncSig | undefined;
  typeIndex(sig: FuncSig): number;
  globalType(globalIndex: number): { type: ValType; mutable: boolean } | undefined;
  hasTable(tableIndex: number): boolean;
  hasMemory(): boolean;
}

/** A block's type: empty, one result type, or a full signature (multi-value, params). */
export type BlockType = typeof BLOCK_EMPTY | ValType | FuncSig;

// Natural alignment (log2 bytes) of the memory instructions, from the table's mN column; index is
// the single-byte opcode, with v128.load/store handled where they are emitted.
const NATURAL_ALIGN = new Int8Array(256).fill(-1);
for (const [code, , , imm] of OP_ROWS) {
  if (imm[0] === 'm' && code < 256) NATURAL_ALIGN[code] = Number(imm.slice(1));
}

const EMPTY: readonly ValType[] = [];

export class FuncBuilder {
  /** The instruction bytes (without the locals header), final `end` included once finished. */
  readonly code = new ByteWriter(128);
  /** Parameter types then declared local types, by local index. */
  private readonly locals: ValType[];
  private openBlocks = 1; // the function body itself
  private finished = false;
  /** The error a failed finish() threw: a broken body stays broken (the checker has moved on). */
  private failure: unknown = null;
  private readonly check: BodyChecker | null;

  constructor(
    private readonly ctx: FuncContext,
    readonly index: number,
    readonly name: string,
    readonly sig: FuncSig,
    readonly typeIndex: number,
    debug: boolean,
  ) {
    this.locals = sig.params.slice();
    this.check = debug ? new BodyChecker(`${index} "${name}"`, sig) : null;
  }

  /** Declares `count` locals of one type; returns the first one's index. Declare same-typed locals together: runs are encoded as one group. */
  addLocal(type: ValType, count = 1): number {
    const first = this.locals.length;
    for (let i = 0; i < count; i++) this.locals.push(type);
    return first;
  }

  localType(index: number): ValType {
    const t = this.locals[index];
    if (t === undefined) throw new RangeError(`wasm: function "${this.name}" has no local ${index}`);
    return t;
  }

  get localCount(): number {
    return this.locals.length;
  }

  // ---- plain opcodes -------------------------------------------------------------------------

  /** Any instruction without immediates (arithmetic, comparisons, conversions, SIMD lane-wise ops). */
  op(code: Op): this {
    const c: BodyChecker | null = this.check;
    if (c !== null) {
      const info = opInfo(code);
      c.begin(info?.name ?? opName(code));
      if (info === undefined) return c.fail('unknown opcode');
      if (info.imm !== '-' || info.params === null) return c.fail('has immediates or a computed effect: use its own builder method');
      c.simple(info.params, info.results);
    }
    this.opcode(code);
    return this;
  }

  /** Starts checking an instruction in debug mode; null otherwise. */
  private begin(name: string): BodyChecker | null {
    const c = this.check;
    if (c !== null) c.begin(name);
    return c;
  }

  /** begin() for an instruction that needs the module's memory. */
  private beginMemory(name: string): BodyChecker | null {
    const c = this.begin(name);
    if (c !== null && !this.ctx.hasMemory()) c.fail('the module has no memory (importMemory first)');
    return c;
  }

  /** An opcode with one u32 immediate: a local, global or function index, or a branch depth. */
  private withIndex(code: Op, index: number): this {
    this.code.byte(code);
    this.code.u32(index);
    return this;
  }

  private opcode(code: number): void {
    if (code < 0x100) {
      this.code.byte(code);
    } else {
      this.code.byte(code >>> 16);
      this.code.u32(code & 0xffff);
    }
  }

  // ---- control ---------------------------------------------------------------------------------

  unreachable(): this {
    this.begin('unreachable')?.setUnreachable();
    this.code.byte(Op.Unreachable);
    return this;
  }

  nop(): this {
    this.begin('nop');
    this.code.byte(Op.Nop);
    return this;
  }

  block(type: BlockType = BLOCK_EMPTY): this {
    return this.structured(Op.Block, 'block', type);
  }

  loop(type: BlockType = BLOCK_EMPTY): this {
    return this.structured(Op.Loop, 'loop', type);
  }

  /** `if` (pops an i32 condition). */
  if(type: BlockType = BLOCK_EMPTY): this {
    this.begin('if')?.pop(ValType.I32);
    return this.structured(Op.If, 'if', type, true);
  }

  private structured(code: Op, name: string, type: BlockType, begun = false): this {
    const c: BodyChecker | null = this.check;
    if (c !== null) {
      if (!begun) c.begin(name);
      if (typeof type === 'object') c.enter(name, type.params, type.results);
      else c.enter(name, EMPTY, type === BLOCK_EMPTY ? EMPTY : [type]);
    }
    this.code.byte(code);
    if (typeof type === 'object') this.code.s32(this.ctx.typeIndex(type));
    else this.code.byte(type);
    this.openBlocks++;
    return this;
  }

  else(): this {
    this.begin('else')?.else();
    this.code.byte(Op.Else);
    return this;
  }

  end(): this {
    if (this.openBlocks <= 1) {
      throw new Error(`wasm: function ${this.index} "${this.name}": end with no open block (finish() closes the body)`);
    }
    this.begin('end')?.end();
    this.code.byte(Op.End);
    this.openBlocks--;
    return this;
  }

  /** Blocks open now (the function body counts one): a label opened at depth d is `depth - d` out. */
  get depth(): number { return this.openBlocks; }

  /** Branch to the label `depth` blocks out (0 = innermost). */
  br(depth: number): this {
    this.begin('br')?.br(depth);
    return this.withIndex(Op.Br, depth);
  }

  brIf(depth: number): this {
    this.begin('br_if')?.brIf(depth);
    return this.withIndex(Op.BrIf, depth);
  }

  /** Pops an i32 index and branches to depths[index], or to defaultDepth when out of range. */
  brTable(depths: ArrayLike<number>, defaultDepth: number): this {
    this.begin('br_table')?.brTable(depths, defaultDepth);
    const w = this.code;
    w.byte(Op.BrTable);
    w.u32(depths.length);
    for (let i = 0; i < depths.length; i++) w.u32(depths[i]);
    w.u32(defaultDepth);
    return this;
  }

  return(): this {
    this.begin('return')?.return();
    this.code.byte(Op.Return);
    return this;
  }

  call(funcIndex: number): this {
    return this.emitCall(Op.Call, 'call', funcIndex);
  }

  /** Tail call: the callee replaces this frame, so chains of any length use constant stack. */
  returnCall(funcIndex: number): this {
    return this.emitCall(Op.ReturnCall, 'return_call', funcIndex);
  }

  private emitCall(code: Op, name: string, funcIndex: number): this {
    const c: BodyChecker | null = this.check;
    if (c !== null) {
      c.begin(name);
      const sig = this.ctx.funcSig(funcIndex);
      if (sig === undefined) return c.fail(`there is no function ${funcIndex} (add every function before filling bodies that call ahead)`);
      if (code === Op.ReturnCall) c.tailCall(sig);
      else c.simple(sig.params, sig.results);
    }
    return this.withIndex(code, funcIndex);
  }

  /** Pops an i32 table slot and calls the function there, trapping unless its type is typeIndex. */
  callIndirect(typeIndex: number, tableIndex = 0): this {
    return this.emitCallIndirect(Op.CallIndirect, 'call_indirect', typeIndex, tableIndex);
  }

  returnCallIndirect(typeIndex: number, tableIndex = 0): this {
    return this.emitCallIndirect(Op.ReturnCallIndirect, 'return_call_indirect', typeIndex, tableIndex);
  }

  private emitCallIndirect(code: Op, name: string, typeIndex: number, tableIndex: number): this {
    const c: BodyChecker | null = this.check;
    if (c !== null) {
      c.begin(name);
      if (!this.ctx.hasTable(tableIndex)) c.fail(`there is no table ${tableIndex}`);
      const sig = this.ctx.typeSig(typeIndex);
      if (sig === undefined) return c.fail(`there is no type ${typeIndex}`);
      c.pop(ValType.I32);
      if (code === Op.ReturnCallIndirect) c.tailCall(sig);
      else c.simple(sig.params, sig.results);
    }
    this.code.byte(code);
    this.code.u32(typeIndex);
    this.code.u32(tableIndex);
    return this;
  }

  drop(): this {
    this.begin('drop')?.pop();
    this.code.byte(Op.Drop);
    return this;
  }

  /** select: [a b cond] -> cond ? a : b (numeric or v128 operands). */
  select(): this {
    this.begin('select')?.select();
    this.code.byte(Op.Select);
    return this;
  }

  // ---- variables ------------------------------------------------------------------------------

  localGet(index: number): this {
    this.begin('local.get')?.push(this.checkedLocal(index));
    return this.withIndex(Op.LocalGet, index);
  }

  localSet(index: number): this {
    this.begin('local.set')?.pop(this.checkedLocal(index));
    return this.withIndex(Op.LocalSet, index);
  }

  localTee(index: number): this {
    if (this.check !== null) {
      this.check.begin('local.tee');
      const t = this.checkedLocal(index);
      this.check.pop(t);
      this.check.push(t);
    }
    return this.withIndex(Op.LocalTee, index);
  }

  private checkedLocal(index: number): ValType {
    const t = this.locals[index];
    if (t === undefined) return this.check!.fail(`local ${index} does not exist (${this.locals.length} declared)`);
    return t;
  }

  private checkedGlobal(index: number): { type: ValType; mutable: boolean } {
    const g = this.ctx.globalType(index);
    if (g === undefined) return this.check!.fail(`global ${index} does not exist`);
    return g;
  }

  globalGet(index: number): this {
    this.begin('global.get')?.push(this.checkedGlobal(index).type);
    return this.withIndex(Op.GlobalGet, index);
  }

  globalSet(index: number): this {
    if (this.check !== null) {
      this.check.begin('global.set');
      const g = this.checkedGlobal(index);
      if (!g.mutable) this.check.fail(`global ${index} is immutable`);
      this.check.pop(g.type);
    }
    return this.withIndex(Op.GlobalSet, index);
  }

  // ---- constants ------------------------------------------------------------------------------

  /** i32.const; any value in [-2^31, 2^32) (the int32 bits are what counts). */
  i32Const(v: number): this {
    this.begin('i32.const')?.push(ValType.I32);
    this.code.byte(Op.I32Const);
    this.code.s32(v);
    return this;
  }

  /** i64.const of the 64-bit value hi:lo. */
  i64Const(lo: number, hi: number): this {
    this.begin('i64.const')?.push(ValType.I64);
    this.code.byte(Op.I64Const);
    this.code.s64(lo, hi);
    return this;
  }

  /** i64.const of an integer JS number in [-2^63, 2^64); throws for anything inexact. */
  i64ConstNumber(n: number): this {
    const { lo, hi } = splitI64(n);
    return this.i64Const(lo, hi);
  }

  f32Const(v: number): this {
    this.begin('f32.const')?.push(ValType.F32);
    this.code.byte(Op.F32Const);
    this.code.f32Value(v);
    return this;
  }

  /** f32.const by bit pattern (exact NaN payloads). */
  f32ConstBits(bits: number): this {
    this.begin('f32.const')?.push(ValType.F32);
    this.code.byte(Op.F32Const);
    this.code.u32le(bits);
    return this;
  }

  f64Const(v: number): this {
    this.begin('f64.const')?.push(ValType.F64);
    this.code.byte(Op.F64Const);
    this.code.f64Value(v);
    return this;
  }

  /** f64.const by bit pattern hi:lo. */
  f64ConstBits(lo: number, hi: number): this {
    this.begin('f64.const')?.push(ValType.F64);
    this.code.byte(Op.F64Const);
    this.code.u32le(lo);
    this.code.u32le(hi);
    return this;
  }

  /** v128.const from 16 bytes (lane 0 first). */
  v128Const(bytes: ArrayLike<number>): this {
    if (bytes.length !== 16) throw new RangeError('wasm: v128.const takes exactly 16 bytes');
    this.begin('v128.const')?.push(ValType.V128);
    this.opcode(Op.V128Const);
    for (let i = 0; i < 16; i++) this.code.byte(bytes[i] & 0xff);
    return this;
  }

  // ---- memory ---------------------------------------------------------------------------------

  /** A load: pops an i32 address; effective address = address + offset (unsigned, no wrap). */
  load(code: Op, offset = 0, alignLog2 = -1): this {
    return this.memoryOp(code, offset, alignLog2);
  }

  /** A store: pops the value, then the i32 address. */
  store(code: Op, offset = 0, alignLog2 = -1): this {
    return this.memoryOp(code, offset, alignLog2);
  }

  private memoryOp(code: Op, offset: number, alignLog2: number): this {
    const natural = code === Op.V128Load || code === Op.V128Store ? 4 : code < 256 ? NATURAL_ALIGN[code] : -1;
    const c: BodyChecker | null = this.check;
    if (c !== null) {
      const info = opInfo(code);
      c.begin(info?.name ?? opName(code));
      if (info === undefined || natural < 0 || info.params === null) return c.fail('is not a load or store');
      if (!this.ctx.hasMemory()) c.fail('the module has no memory (importMemory first)');
      if (alignLog2 > natural) c.fail(`alignment 2^${alignLog2} exceeds the natural 2^${natural}`);
      if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) c.fail(`offset ${offset} is not a u32`);
      c.simple(info.params, info.results);
    }
    this.opcode(code);
    this.code.u32(alignLog2 < 0 ? natural : alignLog2);
    this.code.u32(offset);
    return this;
  }

  memorySize(): this {
    this.beginMemory('memory.size')?.push(ValType.I32);
    this.code.byte(Op.MemorySize);
    this.code.byte(0);
    return this;
  }

  /** memory.copy: [dest src n] -> [] (x86 REP MOVS for non-overlapping or forward copies). */
  memoryCopy(): this {
    this.beginMemory('memory.copy')?.simple([ValType.I32, ValType.I32, ValType.I32], EMPTY);
    this.opcode(Op.MemoryCopy);
    this.code.byte(0);
    this.code.byte(0);
    return this;
  }

  /** memory.fill: [dest byte n] -> []. */
  memoryFill(): this {
    this.beginMemory('memory.fill')?.simple([ValType.I32, ValType.I32, ValType.I32], EMPTY);
    this.opcode(Op.MemoryFill);
    this.code.byte(0);
    return this;
  }

  // ---- SIMD with immediates -------------------------------------------------------------------

  /** extract_lane / replace_lane forms. */
  lane(code: Op, laneIndex: number): this {
    const c: BodyChecker | null = this.check;
    if (c !== null) {
      const info = opInfo(code);
      c.begin(info?.name ?? opName(code));
      if (info === undefined || info.imm !== 'L' || info.params === null) return c.fail('is not a lane instruction');
      const lanes = info.name.startsWith('i8x16') ? 16 : info.name.startsWith('i16x8') ? 8 : info.name.startsWith('i32x4') ? 4 : 2;
      if (!Number.isInteger(laneIndex) || laneIndex < 0 || laneIndex >= lanes) c.fail(`lane ${laneIndex} out of range 0..${lanes - 1}`);
      c.simple(info.params, info.results);
    }
    this.opcode(code);
    this.code.byte(laneIndex);
    return this;
  }

  /** i8x16.shuffle: result lane i = (a ++ b)[lanes[i]], each lane index in 0..31. */
  i8x16Shuffle(lanes: ArrayLike<number>): this {
    if (lanes.length !== 16) throw new RangeError('wasm: i8x16.shuffle takes exactly 16 lane indices');
    const c: BodyChecker | null = this.check;
    if (c !== null) {
      c.begin('i8x16.shuffle');
      for (let i = 0; i < 16; i++) if (!(lanes[i] >= 0 && lanes[i] < 32)) c.fail(`lane index ${lanes[i]} out of range 0..31`);
      c.simple([ValType.V128, ValType.V128], [ValType.V128]);
    }
    this.opcode(Op.I8x16Shuffle);
    for (let i = 0; i < 16; i++) this.code.byte(lanes[i]);
    return this;
  }

  // ---- finishing ------------------------------------------------------------------------------

  /** Closes the body with its final `end`; throws if blocks are still open. Idempotent. */
  finish(): this {
    if (this.finished) return this;
    if (this.failure !== null) throw this.failure;
    try {
      this.close();
    } catch (e) {
      this.failure = e;
      throw e;
    }
    return this;
  }

  private close(): void {
    if (this.openBlocks !== 1) {
      throw new Error(`wasm: function ${this.index} "${this.name}": ${this.openBlocks - 1} block(s) still open at the end of the body (missing end)`);
    }
    if (this.check !== null) {
      this.check.begin('end');
      this.check.end();
      this.check.finish();
    }
    this.code.byte(Op.End);
    this.openBlocks = 0;
    this.finished = true;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Writes this function's code-section entry: size, local groups, instructions. */
  encode(out: ByteWriter, scratch: ByteWriter): void {
    this.finish();
    scratch.reset();
    // Local declarations: runs of equal types become one (count, type) group.
    const first = this.sig.params.length;
    let groups = 0;
    for (let i = first; i < this.locals.length; i++) if (i === first || this.locals[i] !== this.locals[i - 1]) groups++;
    scratch.u32(groups);
    for (let i = first; i < this.locals.length; ) {
      let j = i + 1;
      while (j < this.locals.length && this.locals[j] === this.locals[i]) j++;
      scratch.u32(j - i);
      scratch.byte(this.locals[i]);
      i = j;
    }
    out.u32(scratch.len + this.code.len);
    out.raw(scratch.bytes());
    out.raw(this.code.bytes());
  }
}
