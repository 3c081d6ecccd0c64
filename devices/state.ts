// Device state declared once. Each device class lists its state fields (with
// their sizes) in one declaration, inside the class (a `static {}` block, so the
// declaration may name private fields); snapshots, migration and the
// save/restore tests all read that one list. Every other own property of the
// device must be named as wiring (callbacks, references, constructor
// configuration), so `undeclaredFields` catches a field nobody declared.
// Imports nothing: devices and the machine both build on it.

/** A scalar field and how it is stored (little-endian). */
export type Scalar = 'u8' | 'u16' | 'u32' | 'i32' | 'f64' | 'bool';

/**
 * A field: a scalar; `[scalar, n]` for a typed array or number array of n
 * elements; a nested object's fields; or `[fields, n]` for an array of n objects.
 */
export type Field = Scalar | readonly [Scalar, number] | StateFields | readonly [StateFields, number];

export interface StateFields { readonly [name: string]: Field }

export interface StateDecl<T extends object = object> {
  /** Everything that makes up the device's state, in save order. */
  readonly fields: StateFields;
  /** Own properties that are not state: callbacks, references to other parts, constructor configuration. */
  readonly wiring?: readonly string[];
  /** Re-derive what lives outside the fields (bus mappings, cached lookups) after a restore. */
  readonly afterLoad?: (dev: T) => void;
  /** Named parts with declarations of their own, saved right after the device (PCI functions, a BAR's device). */
  readonly parts?: (dev: T) => readonly (readonly [string, object])[];
}

/** A snapshot that does not fit this build's declarations (size or layout differs). */
export class StateMismatch extends Error {}

const SCALAR_SIZE: Record<Scalar, number> = { u8: 1, u16: 2, u32: 4, i32: 4, f64: 8, bool: 1 };

const decls = new WeakMap<object, StateDecl>();

type Ctor<T> = abstract new (...args: never[]) => T;

/** Declare the state of every instance of `cls` (call it from the class's `static {}` block). */
export function declareState<T extends object>(cls: Ctor<T>, decl: StateDecl<T>): void {
  decls.set(cls.prototype as object, decl as StateDecl);
}

/** The declaration that applies to `dev` (its class's, or the nearest base class's). */
export function stateDeclOf(dev: object): StateDecl | null {
  for (let p = Object.getPrototypeOf(dev) as object | null; p; p = Object.getPrototypeOf(p) as object | null) {
    const d = decls.get(p);
    if (d) return d;
  }
  return null;
}

function isArrayField(f: Field): f is readonly [Scalar, number] | readonly [StateFields, number] {
  return Array.isArray(f);
}

/** Bytes a set of fields occupies. */
export function fieldsSize(fields: StateFields): number {
  let n = 0;
  for (const name in fields) {
    const f = fields[name];
    if (typeof f === 'string') n += SCALAR_SIZE[f];
    else if (isArrayField(f)) n += f[1] * (typeof f[0] === 'string' ? SCALAR_SIZE[f[0] as Scalar] : fieldsSize(f[0] as StateFields));
    else n += fieldsSize(f as StateFields);
  }
  return n;
}

/** A canonical text of the layout: two builds agree on a device's bytes iff these agree. */
export function layoutOf(fields: StateFields): string {
  const parts: string[] = [];
  for (const name in fields) {
    const f = fields[name];
    if (typeof f === 'string') parts.push(`${name}:${f}`);
    else if (isArrayField(f)) parts.push(`${name}:${typeof f[0] === 'string' ? f[0] : `{${layoutOf(f[0] as StateFields)}}`}[${f[1]}]`);
    else parts.push(`${name}:{${layoutOf(f as StateFields)}}`);
  }
  return parts.join(',');
}

type Bag = Record<string, unknown>;

function writeScalar(dv: DataView, at: number, t: Scalar, v: unknown, where: string): number {
  if (t === 'bool') {
    if (typeof v !== 'boolean') throw new Error(`${where}: declared bool, holds ${typeof v}`);
    dv.setUint8(at, v ? 1 : 0);
  } else {
    if (typeof v !== 'number') throw new Error(`${where}: declared ${t}, holds ${typeof v}`);
    switch (t) {
      case 'u8': dv.setUint8(at, v); break;
      case 'u16': dv.setUint16(at, v, true); break;
      case 'u32': dv.setUint32(at, v, true); break;
      case 'i32': dv.setInt32(at, v, true); break;
      case 'f64': dv.setFloat64(at, v, true); break;
    }
  }
  return at + SCALAR_SIZE[t];
}

function readScalar(dv: DataView, at: number, t: Scalar): number | boolean {
  switch (t) {
    case 'bool': return dv.getUint8(at) !== 0;
    case 'u8': return dv.getUint8(at);
    case 'u16': return dv.getUint16(at, true);
    case 'u32': return dv.getUint32(at, true);
    case 'i32': return dv.getInt32(at, true);
    case 'f64': return dv.getFloat64(at, true);
  }
}

interface Indexed { length: number; [i: number]: unknown }

function writeFields(dv: DataView, at: number, obj: Bag, fields: StateFields, where: string): number {
  for (const name in fields) {
    const f = fields[name];
    const v = obj[name];
    const here = `${where}.${name}`;
    if (typeof f === 'string') { at = writeScalar(dv, at, f, v, here); continue; }
    if (!isArrayField(f)) { at = writeFields(dv, at, v as Bag, f as StateFields, here); continue; }
    const arr = v as Indexed;
    if (!arr || arr.length !== f[1]) throw new Error(`${here}: declared ${f[1]} elements, holds ${arr?.length}`);
    for (let i = 0; i < f[1]; i++) {
      at = typeof f[0] === 'string'
        ? writeScalar(dv, at, f[0] as Scalar, arr[i], `${here}[${i}]`)
        : writeFields(dv, at, arr[i] as Bag, f[0] as StateFields, `${here}[${i}]`);
    }
  }
  return at;
}

function readFields(dv: DataView, at: number, obj: Bag, fields: StateFields): number {
  for (const name in fields) {
    const f = fields[name];
    if (typeof f === 'string') { obj[name] = readScalar(dv, at, f); at += SCALAR_SIZE[f]; continue; }
    if (!isArrayField(f)) { at = readFields(dv, at, obj[name] as Bag, f as StateFields); continue; }
    // Arrays are filled in place: typed arrays and element objects may be shared with other code.
    const arr = obj[name] as Indexed;
    for (let i = 0; i < f[1]; i++) {
      if (typeof f[0] === 'string') { arr[i] = readScalar(dv, at, f[0] as Scalar); at += SCALAR_SIZE[f[0] as Scalar]; }
      else at = readFields(dv, at, arr[i] as Bag, f[0] as StateFields);
    }
  }
  return at;
}

function declOrThrow(dev: object): StateDecl {
  const d = stateDeclOf(dev);
  if (!d) throw new Error(`${dev.constructor.name} declares no state (add declareState in a static block)`);
  return d;
}

/** The device's state as bytes, in its declaration's layout. */
export function saveState(dev: object): Uint8Array {
  const d = declOrThrow(dev);
  const out = new Uint8Array(fieldsSize(d.fields));
  writeFields(new DataView(out.buffer), 0, dev as Bag, d.fields, dev.constructor.name);
  return out;
}

/** Put bytes from `saveState` back; throws StateMismatch (touching nothing) if they cannot be this layout. */
export function loadState(dev: object, bytes: Uint8Array): void {
  const d = declOrThrow(dev);
  const size = fieldsSize(d.fields);
  if (bytes.length !== size) throw new StateMismatch(`${dev.constructor.name} state is ${bytes.length} bytes, this build's is ${size}`);
  readFields(new DataView(bytes.buffer, bytes.byteOffset, bytes.length), 0, dev as Bag, d.fields);
  d.afterLoad?.(dev);
}

/**
 * Own properties of `dev` (and of its nested state objects) that are neither
 * declared state nor wiring, and declared fields it does not have: empty when
 * the declaration is complete.
 */
export function undeclaredFields(dev: object): string[] {
  const d = stateDeclOf(dev);
  if (!d) return [`${dev.constructor.name}: no declaration`];
  const out: string[] = [];
  const wiring = new Set(d.wiring ?? []);
  const check = (obj: Bag, fields: StateFields, where: string, allowed: Set<string>): void => {
    for (const k of Object.keys(obj)) if (!(k in fields) && !allowed.has(k)) out.push(`${where}.${k} is not declared`);
    for (const k in fields) {
      if (!(k in obj)) { out.push(`${where}.${k} is declared but absent`); continue; }
      const f = fields[k];
      if (typeof f === 'string') continue;
      if (!isArrayField(f)) { check(obj[k] as Bag, f as StateFields, `${where}.${k}`, new Set()); continue; }
      if (typeof f[0] !== 'string') {
        const arr = obj[k] as Indexed;
        for (let i = 0; i < arr.length; i++) check(arr[i] as Bag, f[0] as StateFields, `${where}.${k}[${i}]`, new Set());
      }
    }
  };
  check(dev as Bag, d.fields, dev.constructor.name, wiring);
  return out;
}

/**
 * Every object with state reachable from `roots`, each once, parts right after
 * their owner (named owner/part), objects with an empty declaration left out.
 * Throws if one has no declaration: a device cannot be left out of a snapshot.
 */
export function stateEntries(roots: Iterable<readonly [string, object]>): [string, object][] {
  const seen = new Set<object>();
  const names = new Set<string>();
  const out: [string, object][] = [];
  const visit = (name: string, obj: object): void => {
    if (seen.has(obj)) return;
    seen.add(obj);
    const d = declOrThrow(obj);
    let unique = name;
    for (let i = 2; names.has(unique); i++) unique = `${name}#${i}`;
    names.add(unique);
    if (Object.keys(d.fields).length > 0) out.push([unique, obj]);
    for (const [part, o] of d.parts?.(obj) ?? []) visit(`${unique}/${part}`, o);
  };
  for (const [name, obj] of roots) visit(name, obj);
  return out;
}
