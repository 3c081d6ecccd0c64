// `npm run bench:jit-heap [-- count [deadModules]]`: bundle bench/jit-heap.ts and run it under
// node --expose-gc (it re-executes itself so): the heap after compiling and dropping `count`
// single-region modules, with the region table dropped past `deadModules` dead modules
// (default 1024; 'Infinity' never drops it, as before).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from './bundle.mjs';

const count = Number(process.argv[2] ?? 20000), dead = Number(process.argv[3] ?? 1024);
if (typeof globalThis.gc !== 'function') {
  execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(count), String(dead)], { stdio: 'inherit' });
} else {
  const { main } = await load('bench/jit-heap.ts', 'bench-jit-heap');
  main(count, dead);
}
