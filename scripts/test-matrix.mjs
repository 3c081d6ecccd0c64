// `npm run test:matrix`: the guest suites under each memory model that is not the default,
// on both in-process backends, one vitest run per (model, backend):
//   interp: the system guests and CPU tests, the paging and model tests, tinyos (interp and
//           jit boards), the SMP guest (-smp 2-4, interp and jit), the Linux boot (interp and
//           jit; where guests/linux/out has it);
//   jit:    the CPU and FPU guest tests again with every block compiled (EMU_TEST_ACCEL=jit).
// EMU_TEST_MMU (read by test/setup-mmu.ts) names the model. Ends with a table of counts and times.
// Usage: node scripts/test-matrix.mjs [model ...] [-- vitest filters]   (filters: one run per model)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const models = (dash < 0 ? args : args.slice(0, dash));
const runs = [];
for (const model of models.length ? models : ['shadow', 'nested', 'nested-2m']) {
  if (dash >= 0) { runs.push({ model, backend: 'interp', suites: args.slice(dash + 1) }); continue; }
  runs.push({ model, backend: 'interp', suites: ['test/cpu', 'test/mmu', 'test/tinyos.test.ts', 'test/machine/smp.test.ts', 'test/platform/linux-boot.test.ts'] });
  runs.push({ model, backend: 'jit', suites: ['test/cpu', 'test/fpu'] });
}

const dir = mkdtempSync(join(tmpdir(), 'emu-matrix-'));
const rows = [];
for (const [i, run] of runs.entries()) {
  console.log(`\n=== --mmu=${run.model}, ${run.backend}: ${run.suites.join(' ')} ===`);
  const json = join(dir, `${i}.json`), t0 = Date.now();
  const env = { ...process.env, EMU_TEST_MMU: run.model, ...(run.backend === 'jit' ? { EMU_TEST_ACCEL: 'jit' } : {}) };
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...run.suites], { stdio: 'inherit', env });
  let counts = 'no report';
  try {
    const j = JSON.parse(readFileSync(json, 'utf8'));
    counts = `${j.numPassedTests} passed, ${j.numFailedTests} failed, ${j.numPendingTests + j.numTodoTests} skipped`;
  } catch { /* vitest died before writing it: the status says so */ }
  rows.push({ ...run, ok: r.status === 0, counts, secs: (Date.now() - t0) / 1000 });
}
rmSync(dir, { recursive: true, force: true });

console.log('\nmodel      backend  result  tests                                  time');
for (const r of rows) {
  console.log(`${r.model.padEnd(10)} ${r.backend.padEnd(8)} ${(r.ok ? 'ok' : 'FAILED').padEnd(7)} ${r.counts.padEnd(38)} ${r.secs.toFixed(0)} s`);
}
const total = rows.reduce((s, r) => s + r.secs, 0);
console.log(`${rows.filter((r) => r.ok).length}/${rows.length} runs green in ${(total / 60).toFixed(1)} min`);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
