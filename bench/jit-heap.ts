// The JIT's memory when code keeps dying: a flat 32-bit guest writes `count` small functions
// (mov eax, k; ret), each 16 bytes past the last, and calls each three times, so every one is
// compiled into a module of its own (threshold 2, batch 1) and dropped when the next write lands
// on its page. V8 keeps every instance that imports the region table alive while the table lives
// (cpu/jit/entry.ts), so without dropping the table the heap grows with every module. Prints one
// JSON line: the heap in use after a full GC before and after the run and after each quarter
// of the modules (MB), and the JIT counters.
// Run by bench/jit-heap.mjs (node --expose-gc) and test/jit/heap.test.ts.
import v8 from 'node:v8';
import { bootRecipe } from '../machine/boot.js';
import { Machine } from '../machine/machine.js';
import type { JitBackend } from '../cpu/jit/backend.js';

const COUNT_AT = 0x8000, SUM_AT = 0x8004;
/** At 0x100000: esp = 0x90000, edi = 0x200000, ecx = [COUNT_AT], ebx = 0; then per function: write it, call it 3x, add its eax to ebx. */
const GUEST = [
  0xbc, 0x00, 0x00, 0x09, 0x00, //             mov esp, 0x90000
  0xbf, 0x00, 0x00, 0x20, 0x00, //             mov edi, 0x200000
  0x8b, 0x0d, 0x00, 0x80, 0x00, 0x00, //       mov ecx, [COUNT_AT]
  0x31, 0xdb, //                               xor ebx, ebx
  0xc6, 0x07, 0xb8, //                   next: mov byte [edi], 0xb8  (mov eax, imm32)
  0x89, 0x4f, 0x01, //                         mov [edi + 1], ecx
  0xc6, 0x47, 0x05, 0xc3, //                   mov byte [edi + 5], 0xc3  (ret)
  0xff, 0xd7, 0xff, 0xd7, 0xff, 0xd7, //       call edi (3x)
  0x01, 0xc3, //                               add ebx, eax
  0x83, 0xc7, 0x10, //                         add edi, 16
  0x49, //                                     dec ecx
  0x75, 0xe8, //                               jnz next
  0x89, 0x1d, 0x04, 0x80, 0x00, 0x00, //       mov [SUM_AT], ebx
  0xb0, 0x10, 0xe6, 0xf4, //                   isa-debug-exit: status 33
  0xf4,
];

function heapMB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench/jit-heap: run node with --expose-gc');
  gc(); gc();
  return v8.getHeapStatistics().used_heap_size / 1e6;
}

export function main(count: number, deadModules: number): void {
  const m = new Machine({ memory: 16 << 20, accel: 'jit', noReboot: true, deterministic: true, jit: { threshold: 2, batch: 1, all: true, deadModules } });
  try {
    m.boot(bootRecipe({ raw: [{ file: { name: 'jit-heap.bin', bytes: new Uint8Array(GUEST) }, addr: 0x100000 }] }));
    m.memory.write32(COUNT_AT, count);
    const jit = (m.backend as JitBackend).jit;
    const before = heapMB(), t0 = performance.now();
    // The heap after a full GC each time another quarter of the modules has been compiled.
    const samples: [number, number][] = [];
    while (!m.exited) {
      m.runSlice(20);
      if (jit.stats.jitModules >= ((samples.length + 1) * count) / 4) samples.push([jit.stats.jitModules, +heapMB().toFixed(2)]);
    }
    const seconds = (performance.now() - t0) / 1000, after = heapMB();
    const j = m.backend.counters();
    const sum = m.memory.read32(SUM_AT) >>> 0, expected = ((count * (count + 1)) / 2) % 2 ** 32;
    console.log(JSON.stringify({
      count, deadModules, exit: m.exited?.reason, sumOk: sum === expected, heapBeforeMB: +before.toFixed(2), heapAfterMB: +after.toFixed(2), samples,
      seconds: +seconds.toFixed(1), never: deadModules === Infinity, jitModules: j.jitModules, jitTableDrops: j.jitTableDrops, jitRegionsLive: j.jitRegionsLive, jitInvalidations: j.jitInvalidations,
    }));
  } finally {
    m.destroy();
  }
}
