// `node bench/fast-forms.mjs [iterations] [tree]`: one loop of the instruction forms the general
// memory, byte-register and CMOVcc fast ops cover (SIB MOVZX/LEA/ADD/MOV, CMP byte [m], TEST r8,
// CMOVcc) under interp and jit, 32- and 64-bit, paging on, best of 5, MIPS per CPU-second, on
// bench/interp.ts runLoop. `tree`: another checkout's root (e.g. a worktree of an older commit),
// to compare two versions side by side in one run of each.
import { join } from 'node:path';
import { root } from './bundle.mjs';

const n = Number(process.argv[2] ?? 500_000);
const tree = process.argv[3] ?? root;
const { load } = await import(join(tree, 'bench/bundle.mjs'));
const { runLoop } = await load('bench/interp.ts', 'bench-interp-forms');
const le32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const DATA = 0x100000;
console.log(`${tree}: MIPS per CPU-second, best of 5, ${n} iterations of 9 instructions`);
for (const mode of [32, 64]) {
  const W = mode === 64 ? [0x48] : [];
  // mov esi,DATA; mov ebp,8; mov ecx,n; L: movzx eax,word [rsi+rbp*2]; lea rdx,[rsi+rbp*4+8]; cmp byte [rsi+rbp],0x10;
  //   test al,al; add eax,[rsi+rbp*4]; mov [rsi+rbp*8],eax; cmovz edx,eax; sub ecx,1; jnz L; hlt
  const body = [0x0f, 0xb7, 0x04, 0x6e, ...W, 0x8d, 0x54, 0xae, 0x08, 0x80, 0x3c, 0x2e, 0x10, 0x84, 0xc0, 0x03, 0x04, 0xae, 0x89, 0x04, 0xee, 0x0f, 0x44, 0xd0, 0x83, 0xe9, 0x01];
  const loop = (k) => ({ name: 'forms', mode, code: [0xbe, ...le32(DATA), 0xbd, ...le32(8), 0xb9, ...le32(k), ...body, 0x75, (-(body.length + 2)) & 0xff, 0xf4] });
  for (let k = 0; k < 2; k++) for (const a of ['interp', 'jit']) runLoop(loop(100_000), a); // warm-up
  const mips = ['interp', 'jit'].map((a) => {
    const best = [0, 1, 2, 3, 4].map(() => runLoop(loop(n), a)).reduce((x, y) => (y.ms < x.ms ? y : x));
    return (best.instructions / best.ms / 1000).toFixed(1).padStart(8);
  });
  console.log(`${mode}-bit forms  interp ${mips[0]}  jit ${mips[1]}`);
}
