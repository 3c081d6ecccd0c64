// Module builder: collects types (deduplicated), imports, functions, a table with element
// segments, globals, exports, a start function and function names, and encodes the binary module.

import { ByteWriter } from './bytes.js';
import { FuncBuilder, type FuncContext } from './func.js';
import { Op } from './opcodes.js';
import { ExternKind, FUNC_TYPE, Section, ValType, type FuncSig } from './types.js';

const WASM_MAGIC_VERSION = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
/** Largest 32-bit memory, in 64 KiB pages. */
const MAX_PAGES = 65536;

/** A global's initial value: a constant of its type (i64 as lo/hi), or an imported global's value. */
export type GlobalInit =
  | { readonly i32: number }
  | { readonly i64: readonly [lo: number, hi: number] }
  | { readonly f32: number }
  | { readonly f64: number }
  | { readonly global: number };

interface Import {
  readonly module: string;
  readonly field: string;
  readonly kind: ExternKind;
  readonly write: (w: ByteWriter) => void; // the import descriptor after the kind byte
}

interface Global {
  readonly type: ValType;
  readonly mutable: boolean;
  readonly init: GlobalInit | null; // null: imported
}

export interface ModuleOptions {
  /** Check every body instruction as it is emitted (see validate.ts). */
  readonly debug?: boolean;
  /** Module name for the name section. */
  readonly name?: string;
}

export class ModuleBuilder implements FuncContext {
  private readonly types: FuncSig[] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly imports: Import[] = [];
  private readonly importedFuncTypes: number[] = [];
  private readonly importedFuncNames: string[] = [];
  private readonly funcs: FuncBuilder[] = [];
  private readonly globals: Global[] = [];
  private importedGlobals = 0;
  private tables = 0;
  private table: { min: number; max: number | null } | null = null;
  private readonly elements: { offset: number; funcs: number[] }[] = [];
  private readonly exports: { name: string; kind: ExternKind; index: number }[] = [];
  private readonly exportNames = new Set<string>();
  private hasMemoryImport = false;
  private start = -1;
  private readonly debug: boolean;
  private readonly moduleName: string | undefined;

  constructor(options: ModuleOptions = {}) {
    this.debug = options.debug ?? false;
    this.moduleName = options.name;
  }

  // ---- types ----------------------------------------------------------------------------------

  /** Index of the function type params -> results, adding it the first time it is seen. */
  typeIndex(sig: FuncSig): number {
    const key = `${sig.params.join(',')}>${sig.results.join(',')}`;
    let index = this.typeKeys.get(key);
    if (index === undefined) {
      index = this.types.length;
      this.types.push({ params: sig.params.slice(), results: sig.results.slice() });
      this.typeKeys.set(key, index);
    }
    return index;
  }

  typeSig(typeIndex: number): FuncSig | undefined {
    return this.types[typeIndex];
  }

  funcSig(funcIndex: number): FuncSig | undefined {
    const imported = this.importedFuncTypes.length;
    if (funcIndex < imported) return this.types[this.importedFuncTypes[funcIndex]];
    return this.funcs[funcIndex - imported]?.sig;
  }

  globalType(globalIndex: number): { type: ValType; mutable: boolean } | undefined {
    return this.globals[globalIndex];
  }

  hasMemory(): boolean {
    return this.hasMemoryImport;
  }

  hasTable(tableIndex: number): boolean {
    return tableIndex < this.tables;
  }

  // ---- imports (all before the first local definition of the same kind) ------------------------

  /** Imports a function; returns its function index. */
  importFunction(module: string, field: string, sig: FuncSig): number {
    if (this.funcs.length > 0) throw new Error(`wasm: import ${module}.${field}: import functions before adding local ones (imports come first in the index space)`);
    const type = this.typeIndex(sig);
    this.imports.push({ module, field, kind: ExternKind.Func, write: (w) => w.u32(type) });
    this.importedFuncTypes.push(type);
    this.importedFuncNames.push(`${module}.${field}`);
    return this.importedFuncTypes.length - 1;
  }

  /**
   * Imports the one linear memory. emu's memory is fixed-size, so limits are written with
   * max = min unless maxPages says otherwise; shared memories need a max.
   */
  importMemory(module: string, field: string, minPages: number, maxPages = minPages, shared = false): void {
    if (this.hasMemoryImport) throw new Error('wasm: one memory only (Node 20 has no multi-memory)');
    checkPages(minPages, maxPages);
    this.hasMemoryImport = true;
    this.imports.push({
      module,
      field,
      kind: ExternKind.Memory,
      write: (w) => {
        w.byte(shared ? 0x03 : 0x01); // limits flags: has max (bit 0), shared (bit 1)
        w.u32(minPages);
        w.u32(maxPages);
      },
    });
  }

  /** Imports a funcref table, e.g. one shared by several JIT modules. */
  importTable(module: string, field: string, min: number, max: number | null = null): number {
    if (this.table !== null) throw new Error('wasm: import tables before defining one');
    this.imports.push({ module, field, kind: ExternKind.Table, write: (w) => writeTableType(w, min, max) });
    return this.tables++;
  }

  importGlobal(module: string, field: string, type: ValType, mutable: boolean): number {
    if (this.globals.length > this.importedGlobals) throw new Error(`wasm: import ${module}.${field}: import globals before adding local ones`);
    this.imports.push({
      module,
      field,
      kind: ExternKind.Global,
      write: (w) => {
        w.byte(type);
        w.byte(mutable ? 1 : 0);
      },
    });
    this.globals.push({ type, mutable, init: null });
    return this.importedGlobals++;
  }

  // ---- definitions ----------------------------------------------------------------------------

  /** Adds a function and returns its body builder (`.index` is its function index). */
  addFunction(name: string, sig: FuncSig): FuncBuilder {
    const index = this.importedFuncTypes.length + this.funcs.length;
    const f = new FuncBuilder(this, index, name, sig, this.typeIndex(sig), this.debug);
    this.funcs.push(f);
    return f;
  }

  /** Defines the module's funcref table (table index after any imported ones). */
  addTable(min: number, max: number | null = null): number {
    if (this.table !== null) throw new Error('wasm: one defined table only');
    this.table = { min, max };
    return this.tables++;
  }

  /** An active element segment: table 0 slots offset.. hold these functions at instantiation. */
  addElements(offset: number, funcIndices: readonly number[]): void {
    if (this.tables === 0) throw new Error('wasm: addElements needs a table (addTable or importTable)');
    this.elements.push({ offset, funcs: funcIndices.slice() });
  }

  addGlobal(type: ValType, mutable: boolean, init: GlobalInit): number {
    this.globals.push({ type, mutable, init });
    return this.globals.length - 1;
  }

  exportFunction(name: string, funcIndex: number): void {
    this.addExport(name, ExternKind.Func, funcIndex);
  }

  exportMemory(name: string): void {
    this.addExport(name, ExternKind.Memory, 0);
  }

  exportTable(name: string, tableIndex = 0): void {
    this.addExport(name, ExternKind.Table, tableIndex);
  }

  exportGlobal(name: string, globalIndex: number): void {
    this.addExport(name, ExternKind.Global, globalIndex);
  }

  private addExport(name: string, kind: ExternKind, index: number): void {
    if (this.exportNames.has(name)) throw new Error(`wasm: export "${name}" declared twice`);
    this.exportNames.add(name);
    this.exports.push({ name, kind, index });
  }

  /** The function run at instantiation (no params, no results). */
  setStart(funcIndex: number): void {
    this.start = funcIndex;
  }

  // ---- encoding -------------------------------------------------------------------------------

  /** Encodes the module; unfinished function bodies are finished first. */
  encode(): Uint8Array<ArrayBuffer> {
    // Encoding is synchronous and not re-entrant, so the buffers are shared by all modules and
    // only the result is copied out: building many small modules allocates little.
    const out = OUT.reset();
    const s = SECTION.reset(); // one section's contents
    out.raw(WASM_MAGIC_VERSION);
    const section = (id: Section): void => {
      out.byte(id);
      out.sized(s);
      s.reset();
    };

    // Bodies first: finishing one may not add types, but encoding them early surfaces errors
    // before any bytes are produced.
    const code = CODE.reset();
    code.u32(this.funcs.length);
    for (const f of this.funcs) f.encode(code, LOCALS.reset());

    if (this.types.length > 0) {
      s.u32(this.types.length);
      for (const t of this.types) {
        s.byte(FUNC_TYPE);
        s.u32(t.params.length);
        for (const p of t.params) s.byte(p);
        s.u32(t.results.length);
        for (const r of t.results) s.byte(r);
      }
      section(Section.Type);
    }
    if (this.imports.length > 0) {
      s.u32(this.imports.length);
      for (const imp of this.imports) {
        s.name(imp.module);
        s.name(imp.field);
        s.byte(imp.kind);
        imp.write(s);
      }
      section(Section.Import);
    }
    if (this.funcs.length > 0) {
      s.u32(this.funcs.length);
      for (const f of this.funcs) s.u32(f.typeIndex);
      section(Section.Function);
    }
    if (this.table !== null) {
      s.u32(1);
      writeTableType(s, this.table.min, this.table.max);
      section(Section.Table);
    }
    const localGlobals = this.globals.length - this.importedGlobals;
    if (localGlobals > 0) {
      s.u32(localGlobals);
      for (let i = this.importedGlobals; i < this.globals.length; i++) {
        const g = this.globals[i];
        s.byte(g.type);
        s.byte(g.mutable ? 1 : 0);
        writeConstExpr(s, g.init!);
      }
      section(Section.Global);
    }
    if (this.exports.length > 0) {
      s.u32(this.exports.length);
      for (const e of this.exports) {
        s.name(e.name);
        s.byte(e.kind);
        s.u32(e.index);
      }
      section(Section.Export);
    }
    if (this.start >= 0) {
      s.u32(this.start);
      section(Section.Start);
    }
    if (this.elements.length > 0) {
      s.u32(this.elements.length);
      for (const e of this.elements) {
        s.u32(0); // flags 0: active, table 0, offset expression, vector of function indices
        writeConstExpr(s, { i32: e.offset });
        s.u32(e.funcs.length);
        for (const f of e.funcs) s.u32(f);
      }
      section(Section.Element);
    }
    if (this.funcs.length > 0) {
      out.byte(Section.Code);
      out.sized(code);
    }
    this.writeNames(s);
    if (s.len > 0) section(Section.Custom);
    return out.bytes().slice();
  }

  /** The "name" custom section: module name and function names, for stack traces and profilers. */
  private writeNames(s: ByteWriter): void {
    const sub = NAME_SUB.reset();
    const hasFuncNames = this.importedFuncNames.length + this.funcs.length > 0;
    if (this.moduleName === undefined && !hasFuncNames) return;
    s.name('name');
    if (this.moduleName !== undefined) {
      sub.name(this.moduleName);
      s.byte(0);
      s.sized(sub);
      sub.reset();
    }
    if (hasFuncNames) {
      sub.u32(this.importedFuncNames.length + this.funcs.length);
      this.importedFuncNames.forEach((n, i) => {
        sub.u32(i);
        sub.name(n);
      });
      for (const f of this.funcs) {
        sub.u32(f.index);
        sub.name(f.name);
      }
      s.byte(1);
      s.sized(sub);
    }
  }

  /** Encodes, then compiles and instantiates synchronously (fine for small JIT modules in Node). */
  instantiate(imports: WebAssembly.Imports = {}): WebAssembly.Instance {
    return new WebAssembly.Instance(new WebAssembly.Module(this.encode()), imports);
  }
}

const OUT = new ByteWriter(4096);
const SECTION = new ByteWriter(1024);
const CODE = new ByteWriter(4096);
const LOCALS = new ByteWriter(64);
const NAME_SUB = new ByteWriter(1024);

function checkPages(min: number, max: number): void {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min || max > MAX_PAGES) {
    throw new RangeError(`wasm: memory limits ${min}..${max} pages must satisfy 0 <= min <= max <= ${MAX_PAGES}`);
  }
}

function writeTableType(w: ByteWriter, min: number, max: number | null): void {
  w.byte(ValType.FuncRef);
  if (max === null) {
    w.byte(0x00);
    w.u32(min);
  } else {
    w.byte(0x01);
    w.u32(min);
    w.u32(max);
  }
}

/** A constant expression (5.4.9): one const or global.get, then end. */
function writeConstExpr(w: ByteWriter, init: GlobalInit): void {
  if ('i32' in init) {
    w.byte(Op.I32Const);
    w.s32(init.i32);
  } else if ('i64' in init) {
    w.byte(Op.I64Const);
    w.s64(init.i64[0], init.i64[1]);
  } else if ('f32' in init) {
    w.byte(Op.F32Const);
    w.f32Value(init.f32);
  } else if ('f64' in init) {
    w.byte(Op.F64Const);
    w.f64Value(init.f64);
  } else {
    w.byte(Op.GlobalGet);
    w.u32(init.global);
  }
  w.byte(Op.End);
}
