// WebAssembly binary-format constants shared by the encoder's modules (core spec 2.0, section 5).

/** Value types (5.3.1); also the one-byte block types for a single result. */
export const enum ValType {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b,
  FuncRef = 0x70,
  ExternRef = 0x6f,
}

/** The block type of a block with no parameters and no results (5.4.1). */
export const BLOCK_EMPTY = 0x40;

/** Section ids (5.5.2). */
export const enum Section {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Table = 4,
  Memory = 5,
  Global = 6,
  Export = 7,
  Start = 8,
  Element = 9,
  Code = 10,
  Data = 11,
}

/** Import/export descriptor kinds (5.5.5, 5.5.10). */
export const enum ExternKind {
  Func = 0,
  Table = 1,
  Memory = 2,
  Global = 3,
}

/** The function type constructor byte (5.3.6). */
export const FUNC_TYPE = 0x60;

/** Spec text name of a value type, for messages. */
export function valTypeName(t: number): string {
  switch (t) {
    case ValType.I32: return 'i32';
    case ValType.I64: return 'i64';
    case ValType.F32: return 'f32';
    case ValType.F64: return 'f64';
    case ValType.V128: return 'v128';
    case ValType.FuncRef: return 'funcref';
    case ValType.ExternRef: return 'externref';
    default: return `type 0x${t.toString(16)}`;
  }
}

/** A function signature: parameter and result types. */
export interface FuncSig {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}
