// Debug-mode structural checker for function bodies: follows the operand and control stacks as
// instructions are emitted (the algorithm of the core spec's validation appendix, A.3) and throws
// at the first mistake, naming the function and the instruction's index. WebAssembly.validate
// remains the judge; this exists so a code-generator bug points at the instruction that caused it.

import { OP_ROWS } from './opcodes.js';
import { ValType, valTypeName, type FuncSig } from './types.js';

/** A stack slot whose type is unknown because the code after br/return/unreachable is dead. */
const UNKNOWN = 0;

const LETTER: Record<string, ValType> = {
  i: ValType.I32,
  l: ValType.I64,
  f: ValType.F32,
  d: ValType.F64,
  v: ValType.V128,
};

interface OpInfo {
  readonly name: string;
  readonly params: readonly ValType[] | null; // null: the builder method computes the effect
  readonly results: readonly ValType[];
  readonly imm: string;
}

let infoByCode: Map<number, OpInfo> | null = null;

function parseTypes(s: string): ValType[] {
  const out: ValType[] = [];
  for (const ch of s) out.push(LETTER[ch]);
  return out;
}

/** Name, signature and immediate kind of an opcode from the generated table. */
export function opInfo(code: number): OpInfo | undefined {
  if (infoByCode === null) {
    infoByCode = new Map();
    for (const [c, name, sig, imm] of OP_ROWS) {
      if (sig === '*') {
        infoByCode.set(c, { name, params: null, results: [], imm });
      } else {
        const [p, r] = sig.split('>');
        infoByCode.set(c, { name, params: parseTypes(p), results: parseTypes(r), imm });
      }
    }
  }
  return infoByCode.get(code);
}

/** Spec name of an opcode, or its number when unknown. */
export function opName(code: number): string {
  return opInfo(code)?.name ?? `opcode 0x${code.toString(16)}`;
}

interface Frame {
  readonly opcode: string; // 'function', 'block', 'loop', 'if', 'else'
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly height: number;
  unreachable: boolean;
}

export class ValidationError extends Error {}

/** Follows one function body; every method may throw a ValidationError. */
export class BodyChecker {
  private stack: number[] = [];
  private frames: Frame[] = [];
  /** Index of the instruction being checked (0-based, in emission order). */
  index = -1;
  private current = '';

  constructor(private readonly fnLabel: string, sig: FuncSig) {
    this.frames.push({ opcode: 'function', params: [], results: sig.results, height: 0, unreachable: false });
  }

  /** Starts checking the next instruction. */
  begin(name: string): void {
    this.index++;
    this.current = name;
    if (this.frames.length === 0) this.fail('instruction after the function body\'s final end');
  }

  fail(msg: string): never {
    throw new ValidationError(`wasm: function ${this.fnLabel}, instruction #${this.index} (${this.current}): ${msg}`);
  }

  push(t: number): void {
    this.stack.push(t);
  }

  pop(expect: number = UNKNOWN): number {
    const frame = this.frames[this.frames.length - 1];
    if (this.stack.length === frame.height) {
      if (frame.unreachable) return expect;
      this.fail(
        expect === UNKNOWN
          ? `needs a value but the ${frame.opcode}'s stack is empty`
          : `needs ${valTypeName(expect)} but the ${frame.opcode}'s stack is empty`,
      );
    }
    const got = this.stack.pop()!;
    if (expect !== UNKNOWN && got !== UNKNOWN && got !== expect) {
      this.fail(`needs ${valTypeName(expect)} but found ${valTypeName(got)}`);
    }
    return got;
  }

  popAll(types: readonly number[]): void {
    for (let i = types.length - 1; i >= 0; i--) this.pop(types[i]);
  }

  pushAll(types: readonly number[]): void {
    for (const t of types) this.push(t);
  }

  /** An instruction with a fixed signature. */
  simple(params: readonly number[], results: readonly number[]): void {
    this.popAll(params);
    this.pushAll(results);
  }

  /** The rest of the current block is dead: the stack becomes polymorphic. */
  setUnreachable(): void {
    const frame = this.frames[this.frames.length - 1];
    this.stack.length = frame.height;
    frame.unreachable = true;
  }

  enter(opcode: string, params: readonly ValType[], results: readonly ValType[]): void {
    this.popAll(params);
    this.frames.push({ opcode, params, results, height: this.stack.length, unreachable: false });
    this.pushAll(params);
  }

  private leave(): Frame {
    const frame = this.frames[this.frames.length - 1];
    this.popAll(frame.results);
    if (this.stack.length !== frame.height) {
      this.fail(`${this.stack.length - frame.height} value(s) left on the stack at the end of the ${frame.opcode}`);
    }
    this.frames.pop();
    return frame;
  }

  else(): void {
    const frame = this.frames[this.frames.length - 1];
    if (frame.opcode !== 'if') this.fail(`else inside a ${frame.opcode}, not an if`);
    this.leave();
    // The else arm starts from the if's parameters again (the if already consumed them outside).
    this.frames.push({ opcode: 'else', params: frame.params, results: frame.results, height: this.stack.length, unreachable: false });
    this.pushAll(frame.params);
  }

  end(): void {
    const frame = this.frames[this.frames.length - 1];
    // An if without else must have matching params and results (the missing else passes them on).
    if (frame.opcode === 'if' && !sameTypes(frame.params, frame.results)) {
      this.fail('an if whose results differ from its parameters needs an else');
    }
    this.leave();
    this.pushAll(frame.results);
  }

  /** Types a branch to `depth` must carry. */
  labelTypes(depth: number): readonly ValType[] {
    if (!Number.isInteger(depth) || depth < 0 || depth >= this.frames.length) {
      this.fail(`branch depth ${depth} is outside the ${this.frames.length} enclosing block(s)`);
    }
    const frame = this.frames[this.frames.length - 1 - depth];
    return frame.opcode === 'loop' ? frame.params : frame.results;
  }

  br(depth: number): void {
    this.popAll(this.labelTypes(depth));
    this.setUnreachable();
  }

  brIf(depth: number): void {
    this.pop(ValType.I32);
    const types = this.labelTypes(depth);
    this.popAll(types);
    this.pushAll(types);
  }

  brTable(depths: ArrayLike<number>, defaultDepth: number): void {
    this.pop(ValType.I32);
    const types = this.labelTypes(defaultDepth);
    for (let i = 0; i < depths.length; i++) {
      const t = this.labelTypes(depths[i]);
      if (t.length !== types.length) this.fail(`br_table target ${depths[i]} carries ${t.length} value(s), the default ${types.length}`);
    }
    this.popAll(types);
    this.setUnreachable();
  }

  return(): void {
    this.popAll(this.frames[0].results);
    this.setUnreachable();
  }

  /** Tail calls: the callee's results must be exactly this function's results. */
  tailCall(sig: FuncSig): void {
    if (!sameTypes(sig.results, this.frames[0].results)) this.fail('a tail call\'s callee must return what this function returns');
    this.popAll(sig.params);
    this.setUnreachable();
  }

  select(): void {
    this.pop(ValType.I32);
    const b = this.pop();
    const a = this.pop(b);
    this.push(a === UNKNOWN ? b : a);
  }

  /** Called once the final end has been checked: the body must be complete. */
  finish(): void {
    if (this.frames.length !== 0) {
      this.fail(`${this.frames.length} block(s) still open at the end of the body (missing end)`);
    }
  }

  depth(): number {
    return this.frames.length;
  }
}

function sameTypes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
