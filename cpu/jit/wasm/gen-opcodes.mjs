// Generates cpu/jit/wasm/opcodes.ts from the instruction table below (WebAssembly core spec 2.0
// section 5.4 "Instructions", plus the tail-call proposal and a subset of 128-bit SIMD).
// Run: node cpu/jit/wasm/gen-opcodes.mjs; with --check it only exits 1 if opcodes.ts is stale
// (test/jit checks that).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// One row per instruction: opcode, spec name, stack signature, immediate kind.
//  opcode: a byte, or 0xFC:n / 0xFD:n for the prefixed forms (n is a LEB128 u32 after the prefix).
//  signature: params>results in letters i=i32 l=i64 f=f32 d=f64 v=v128; '*' means the builder
//    method that emits it computes the effect (control, variables, calls).
//  immediate: '-' none, mN memarg with natural alignment 2^N, L a lane index byte, x special
//    (emitted only by its own builder method).
const TABLE = `
0x00 unreachable * x
0x01 nop > -
0x02 block * x
0x03 loop * x
0x04 if * x
0x05 else * x
0x0b end * x
0x0c br * x
0x0d br_if * x
0x0e br_table * x
0x0f return * x
0x10 call * x
0x11 call_indirect * x
0x12 return_call * x
0x13 return_call_indirect * x
0x1a drop * x
0x1b select * x
0x20 local.get * x
0x21 local.set * x
0x22 local.tee * x
0x23 global.get * x
0x24 global.set * x
0x28 i32.load i>i m2
0x29 i64.load i>l m3
0x2a f32.load i>f m2
0x2b f64.load i>d m3
0x2c i32.load8_s i>i m0
0x2d i32.load8_u i>i m0
0x2e i32.load16_s i>i m1
0x2f i32.load16_u i>i m1
0x30 i64.load8_s i>l m0
0x31 i64.load8_u i>l m0
0x32 i64.load16_s i>l m1
0x33 i64.load16_u i>l m1
0x34 i64.load32_s i>l m2
0x35 i64.load32_u i>l m2
0x36 i32.store ii> m2
0x37 i64.store il> m3
0x38 f32.store if> m2
0x39 f64.store id> m3
0x3a i32.store8 ii> m0
0x3b i32.store16 ii> m1
0x3c i64.store8 il> m0
0x3d i64.store16 il> m1
0x3e i64.store32 il> m2
0x3f memory.size >i x
0x40 memory.grow i>i x
0x41 i32.const >i x
0x42 i64.const >l x
0x43 f32.const >f x
0x44 f64.const >d x
0x45 i32.eqz i>i -
0x46 i32.eq ii>i -
0x47 i32.ne ii>i -
0x48 i32.lt_s ii>i -
0x49 i32.lt_u ii>i -
0x4a i32.gt_s ii>i -
0x4b i32.gt_u ii>i -
0x4c i32.le_s ii>i -
0x4d i32.le_u ii>i -
0x4e i32.ge_s ii>i -
0x4f i32.ge_u ii>i -
0x50 i64.eqz l>i -
0x51 i64.eq ll>i -
0x52 i64.ne ll>i -
0x53 i64.lt_s ll>i -
0x54 i64.lt_u ll>i -
0x55 i64.gt_s ll>i -
0x56 i64.gt_u ll>i -
0x57 i64.le_s ll>i -
0x58 i64.le_u ll>i -
0x59 i64.ge_s ll>i -
0x5a i64.ge_u ll>i -
0x5b f32.eq ff>i -
0x5c f32.ne ff>i -
0x5d f32.lt ff>i -
0x5e f32.gt ff>i -
0x5f f32.le ff>i -
0x60 f32.ge ff>i -
0x61 f64.eq dd>i -
0x62 f64.ne dd>i -
0x63 f64.lt dd>i -
0x64 f64.gt dd>i -
0x65 f64.le dd>i -
0x66 f64.ge dd>i -
0x67 i32.clz i>i -
0x68 i32.ctz i>i -
0x69 i32.popcnt i>i -
0x6a i32.add ii>i -
0x6b i32.sub ii>i -
0x6c i32.mul ii>i -
0x6d i32.div_s ii>i -
0x6e i32.div_u ii>i -
0x6f i32.rem_s ii>i -
0x70 i32.rem_u ii>i -
0x71 i32.and ii>i -
0x72 i32.or ii>i -
0x73 i32.xor ii>i -
0x74 i32.shl ii>i -
0x75 i32.shr_s ii>i -
0x76 i32.shr_u ii>i -
0x77 i32.rotl ii>i -
0x78 i32.rotr ii>i -
0x79 i64.clz l>l -
0x7a i64.ctz l>l -
0x7b i64.popcnt l>l -
0x7c i64.add ll>l -
0x7d i64.sub ll>l -
0x7e i64.mul ll>l -
0x7f i64.div_s ll>l -
0x80 i64.div_u ll>l -
0x81 i64.rem_s ll>l -
0x82 i64.rem_u ll>l -
0x83 i64.and ll>l -
0x84 i64.or ll>l -
0x85 i64.xor ll>l -
0x86 i64.shl ll>l -
0x87 i64.shr_s ll>l -
0x88 i64.shr_u ll>l -
0x89 i64.rotl ll>l -
0x8a i64.rotr ll>l -
0x8b f32.abs f>f -
0x8c f32.neg f>f -
0x8d f32.ceil f>f -
0x8e f32.floor f>f -
0x8f f32.trunc f>f -
0x90 f32.nearest f>f -
0x91 f32.sqrt f>f -
0x92 f32.add ff>f -
0x93 f32.sub ff>f -
0x94 f32.mul ff>f -
0x95 f32.div ff>f -
0x96 f32.min ff>f -
0x97 f32.max ff>f -
0x98 f32.copysign ff>f -
0x99 f64.abs d>d -
0x9a f64.neg d>d -
0x9b f64.ceil d>d -
0x9c f64.floor d>d -
0x9d f64.trunc d>d -
0x9e f64.nearest d>d -
0x9f f64.sqrt d>d -
0xa0 f64.add dd>d -
0xa1 f64.sub dd>d -
0xa2 f64.mul dd>d -
0xa3 f64.div dd>d -
0xa4 f64.min dd>d -
0xa5 f64.max dd>d -
0xa6 f64.copysign dd>d -
0xa7 i32.wrap_i64 l>i -
0xa8 i32.trunc_f32_s f>i -
0xa9 i32.trunc_f32_u f>i -
0xaa i32.trunc_f64_s d>i -
0xab i32.trunc_f64_u d>i -
0xac i64.extend_i32_s i>l -
0xad i64.extend_i32_u i>l -
0xae i64.trunc_f32_s f>l -
0xaf i64.trunc_f32_u f>l -
0xb0 i64.trunc_f64_s d>l -
0xb1 i64.trunc_f64_u d>l -
0xb2 f32.convert_i32_s i>f -
0xb3 f32.convert_i32_u i>f -
0xb4 f32.convert_i64_s l>f -
0xb5 f32.convert_i64_u l>f -
0xb6 f32.demote_f64 d>f -
0xb7 f64.convert_i32_s i>d -
0xb8 f64.convert_i32_u i>d -
0xb9 f64.convert_i64_s l>d -
0xba f64.convert_i64_u l>d -
0xbb f64.promote_f32 f>d -
0xbc i32.reinterpret_f32 f>i -
0xbd i64.reinterpret_f64 d>l -
0xbe f32.reinterpret_i32 i>f -
0xbf f64.reinterpret_i64 l>d -
0xc0 i32.extend8_s i>i -
0xc1 i32.extend16_s i>i -
0xc2 i64.extend8_s l>l -
0xc3 i64.extend16_s l>l -
0xc4 i64.extend32_s l>l -
0xFC:0 i32.trunc_sat_f32_s f>i -
0xFC:1 i32.trunc_sat_f32_u f>i -
0xFC:2 i32.trunc_sat_f64_s d>i -
0xFC:3 i32.trunc_sat_f64_u d>i -
0xFC:4 i64.trunc_sat_f32_s f>l -
0xFC:5 i64.trunc_sat_f32_u f>l -
0xFC:6 i64.trunc_sat_f64_s d>l -
0xFC:7 i64.trunc_sat_f64_u d>l -
0xFC:10 memory.copy iii> x
0xFC:11 memory.fill iii> x
0xFD:0 v128.load i>v m4
0xFD:11 v128.store iv> m4
0xFD:12 v128.const >v x
0xFD:13 i8x16.shuffle vv>v x
0xFD:14 i8x16.swizzle vv>v -
0xFD:15 i8x16.splat i>v -
0xFD:16 i16x8.splat i>v -
0xFD:17 i32x4.splat i>v -
0xFD:18 i64x2.splat l>v -
0xFD:21 i8x16.extract_lane_s v>i L
0xFD:22 i8x16.extract_lane_u v>i L
0xFD:23 i8x16.replace_lane vi>v L
0xFD:24 i16x8.extract_lane_s v>i L
0xFD:25 i16x8.extract_lane_u v>i L
0xFD:26 i16x8.replace_lane vi>v L
0xFD:27 i32x4.extract_lane v>i L
0xFD:28 i32x4.replace_lane vi>v L
0xFD:29 i64x2.extract_lane v>l L
0xFD:30 i64x2.replace_lane vl>v L
0xFD:35 i8x16.eq vv>v -
0xFD:36 i8x16.ne vv>v -
0xFD:55 i32x4.eq vv>v -
0xFD:56 i32x4.ne vv>v -
0xFD:57 i32x4.lt_s vv>v -
0xFD:59 i32x4.gt_s vv>v -
0xFD:77 v128.not v>v -
0xFD:78 v128.and vv>v -
0xFD:79 v128.andnot vv>v -
0xFD:80 v128.or vv>v -
0xFD:81 v128.xor vv>v -
0xFD:82 v128.bitselect vvv>v -
0xFD:83 v128.any_true v>i -
0xFD:96 i8x16.abs v>v -
0xFD:97 i8x16.neg v>v -
0xFD:99 i8x16.all_true v>i -
0xFD:100 i8x16.bitmask v>i -
0xFD:107 i8x16.shl vi>v -
0xFD:108 i8x16.shr_s vi>v -
0xFD:109 i8x16.shr_u vi>v -
0xFD:110 i8x16.add vv>v -
0xFD:111 i8x16.add_sat_s vv>v -
0xFD:112 i8x16.add_sat_u vv>v -
0xFD:113 i8x16.sub vv>v -
0xFD:114 i8x16.sub_sat_s vv>v -
0xFD:115 i8x16.sub_sat_u vv>v -
0xFD:118 i8x16.min_s vv>v -
0xFD:119 i8x16.min_u vv>v -
0xFD:120 i8x16.max_s vv>v -
0xFD:121 i8x16.max_u vv>v -
0xFD:160 i32x4.abs v>v -
0xFD:161 i32x4.neg v>v -
0xFD:163 i32x4.all_true v>i -
0xFD:164 i32x4.bitmask v>i -
0xFD:171 i32x4.shl vi>v -
0xFD:172 i32x4.shr_s vi>v -
0xFD:173 i32x4.shr_u vi>v -
0xFD:174 i32x4.add vv>v -
0xFD:177 i32x4.sub vv>v -
0xFD:181 i32x4.mul vv>v -
0xFD:182 i32x4.min_s vv>v -
0xFD:183 i32x4.min_u vv>v -
0xFD:184 i32x4.max_s vv>v -
0xFD:185 i32x4.max_u vv>v -
0xFD:206 i64x2.add vv>v -
0xFD:209 i64x2.sub vv>v -
`;

/** Parses the table into rows { code, name, sig, imm, member }. */
export function parseTable(text = TABLE) {
  const rows = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const [op, name, sig, imm] = t.split(/\s+/);
    let code;
    if (op.includes(':')) {
      const [prefix, sub] = op.split(':');
      // Prefixed opcodes are encoded as prefix * 0x10000 + sub, so one number names every op.
      code = Number(prefix) * 0x10000 + Number(sub);
    } else {
      code = Number(op);
    }
    // i64.extend_i32_s -> I64ExtendI32S, v128.any_true -> V128AnyTrue
    const member = name
      .split(/[._]/)
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('');
    rows.push({ code, name, sig, imm, member });
  }
  return rows;
}

function hex(n) {
  return '0x' + n.toString(16);
}

/** The text of opcodes.ts. */
export function generate() {
  const rows = parseTable();
  const out = [];
  out.push('// WebAssembly opcodes, names, stack signatures and immediate kinds.');
  out.push('// GENERATED by cpu/jit/wasm/gen-opcodes.mjs from its table: edit the table, then run it.');
  out.push('');
  out.push('/** Every opcode the encoder knows; 0xFC/0xFD-prefixed ones are prefix * 0x10000 + subopcode. */');
  out.push('export const enum Op {');
  for (const r of rows) out.push(`  ${r.member} = ${hex(r.code)},`);
  out.push('}');
  out.push('');
  out.push('/** Per opcode: spec name, signature (params>results in i l f d v, or * for builder-computed), immediate kind. */');
  out.push('export const OP_ROWS: ReadonlyArray<readonly [number, string, string, string]> = [');
  for (const r of rows) out.push(`  [${hex(r.code)}, '${r.name}', '${r.sig}', '${r.imm}'],`);
  out.push('];');
  out.push('');
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL('./opcodes.ts', import.meta.url));
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== generate()) {
      console.error(`${target} is stale: run node cpu/jit/wasm/gen-opcodes.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(target, generate());
    console.log(`wrote ${target}`);
  }
}
