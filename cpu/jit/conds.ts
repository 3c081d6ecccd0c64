// Conditions in generated code (cpu/jit/codegen.ts): a Jcc whose flags an inline ALU op of
// the same block made tests them with one wasm compare on that op's operands and result,
// which the generator keeps in locals (lfA, lfB, lfRes: i64, the low half for 32-bit ops),
// instead of materialising the lazy flags.

import { Fast as F } from '../fastops.js';
import { Op, type FuncBuilder } from './wasm/index.js';

// ALU kinds of the RR/RI fast ops, and their wasm operations.
export const K_ADD = 0, K_OR = 1, K_AND = 2, K_SUB = 3, K_XOR = 4, K_CMP = 5, K_TEST = 6;
export const ALU_OP32 = [Op.I32Add, Op.I32Or, Op.I32And, Op.I32Sub, Op.I32Xor, Op.I32Sub, Op.I32And];
export const ALU_OP64 = [Op.I64Add, Op.I64Or, Op.I64And, Op.I64Sub, Op.I64Xor, Op.I64Sub, Op.I64And];
export const ALU_KIND: number[] = [];
{
  const set = (ids: number[], kinds: number[]): void => { ids.forEach((id, n) => { ALU_KIND[id] = kinds[n]; }); };
  set([F.ADD_RR32, F.OR_RR32, F.AND_RR32, F.SUB_RR32, F.XOR_RR32, F.CMP_RR32, F.TEST_RR32], [K_ADD, K_OR, K_AND, K_SUB, K_XOR, K_CMP, K_TEST]);
  set([F.ADD_RI32, F.OR_RI32, F.AND_RI32, F.SUB_RI32, F.XOR_RI32, F.CMP_RI32], [K_ADD, K_OR, K_AND, K_SUB, K_XOR, K_CMP]);
  set([F.ADD_RR64, F.SUB_RR64, F.CMP_RR64, F.AND_RR64, F.OR_RR64, F.XOR_RR64, F.TEST_RR64], [K_ADD, K_SUB, K_CMP, K_AND, K_OR, K_XOR, K_TEST]);
  set([F.ADD_RI64, F.SUB_RI64, F.CMP_RI64, F.AND_RI64, F.OR_RI64, F.XOR_RI64], [K_ADD, K_SUB, K_CMP, K_AND, K_OR, K_XOR]);
  for (let id = 0; id < F.FAST_COUNT; id++) if (ALU_KIND[id] === undefined) ALU_KIND[id] = -1;
}

/**
 * Pushes condition cc (0-15) as an i32 0/1 computed from the flag producer `prod` (a fast-op
 * id, -1 if unknown) and its operands in locals; false (nothing pushed) where it cannot.
 */
export function emitCond(f: FuncBuilder, prod: number, cc: number, lfRes: number, lfA: number, lfB: number): boolean {
  const neg = (cc & 1) !== 0, base = cc & ~1;
  const wide = (prod >= F.ADD_RR64 && prod <= F.XOR_RI64) || prod === F.INC64 || prod === F.DEC64;
  const kind = prod >= 0 && prod < F.FAST_COUNT ? ALU_KIND[prod] : -1;
  const sub = kind === K_SUB || kind === K_CMP;
  const logic = kind === K_AND || kind === K_OR || kind === K_XOR || kind === K_TEST;
  const res = (): void => { f.localGet(lfRes); if (!wide) f.op(Op.I32WrapI64); };
  const zero = (): void => { if (wide) f.i64Const(0, 0); else f.i32Const(0); };
  const cmp = (op32: Op, op64: Op): void => { f.op(wide ? op64 : op32); };
  const incdec = prod === F.INC32 || prod === F.DEC32 || prod === F.INC64 || prod === F.DEC64;
  if ((kind >= 0 || incdec) && (base === 4 || base === 8)) {
    // ZF and SF come from the result for every kind.
    res(); zero(); cmp(base === 4 ? (neg ? Op.I32Ne : Op.I32Eq) : (neg ? Op.I32GeS : Op.I32LtS), base === 4 ? (neg ? Op.I64Ne : Op.I64Eq) : (neg ? Op.I64GeS : Op.I64LtS));
    return true;
  }
  if (sub && base !== 0 && base !== 10) {
    const a = (): void => { f.localGet(lfA); if (!wide) f.op(Op.I32WrapI64); };
    const b = (): void => { f.localGet(lfB); if (!wide) f.op(Op.I32WrapI64); };
    a(); b();
    const ops32: Record<number, Op> = { 2: Op.I32LtU, 3: Op.I32GeU, 6: Op.I32LeU, 7: Op.I32GtU, 12: Op.I32LtS, 13: Op.I32GeS, 14: Op.I32LeS, 15: Op.I32GtS };
    const ops64: Record<number, Op> = { 2: Op.I64LtU, 3: Op.I64GeU, 6: Op.I64LeU, 7: Op.I64GtU, 12: Op.I64LtS, 13: Op.I64GeS, 14: Op.I64LeS, 15: Op.I64GtS };
    cmp(ops32[cc], ops64[cc]);
    return true;
  }
  if (logic && base !== 10) {
    // CF = OF = 0: B/O never, BE is ZF, L is SF, LE is ZF | SF.
    if (base === 0 || base === 2) { f.i32Const(neg ? 1 : 0); return true; }
    res(); zero();
    const ops32: Record<number, Op> = { 6: Op.I32Eq, 7: Op.I32Ne, 12: Op.I32LtS, 13: Op.I32GeS, 14: Op.I32LeS, 15: Op.I32GtS };
    const ops64: Record<number, Op> = { 6: Op.I64Eq, 7: Op.I64Ne, 12: Op.I64LtS, 13: Op.I64GeS, 14: Op.I64LeS, 15: Op.I64GtS };
    cmp(ops32[cc], ops64[cc]);
    return true;
  }
  return false;
}
