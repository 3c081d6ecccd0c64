// `npm run test:matrix`: the guest suites under each memory model that is not the default,
// one vitest run per (model, pass):
//   interp: the system guests and CPU tests, the paging and model tests, tinyos (interp and
//           jit boards), the SMP guest (-smp 2-4, interp and jit);
//   jit:    the CPU and FPU guest tests again with every block compiled (EMU_TEST_ACCEL=jit);
//   linux:  the Debian boot test (where guests/linux/out has it) under the fastest in-process
//           backend, the JIT, with instruction time (--deterministic), so that a loaded host
//           slows it down but cannot starve its timers.
// EMU_TEST_MMU (read by test/setup-mmu.ts) names the model. Per-test limits are the host's,
// not CI's: --testTimeout 600 s (the CPU tests compile every block under jit: the Jcc test
// alone takes 40 s a case at load 20), the Linux boot 3600 s. Prints each run's row as it
// ends and the table at the end. The longest pass, Linux, runs first for every model.
// Usage: node scripts/test-matrix.mjs [model ...] [--only interp|jit|linux] [-- vitest filters]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const named = dash < 0 ? args : args.slice(0, dash);
const onlyAt = named.indexOf('--only');
const only = onlyAt < 0 ? null : named.splice(onlyAt, 2)[1];
const PASSES = {
  interp: { env: {}, suites: ['test/cpu', 'test/mmu', 'test/tinyos.test.ts', 'test/machine/smp.test.ts'] },
  jit: { env: { EMU_TEST_ACCEL: 'jit' }, suites: ['test/cpu', 'test/fpu'] },
  linux: { env: { EMU_TEST_LINUX_ACCEL: 'jit', EMU_TEST_DETERMINISTIC: '1', EMU_TEST_LINUX_LIMIT_S: '3600' }, suites: ['test/platform/linux-boot.test.ts'] },
};
if (only !== null && !(only in PASSES)) {
  console.error(`test-matrix: --only ${only}: not a pass (interp, jit, linux)`);
  process.exit(2);
}
const models = named.length ? named : ['shadow', 'nested', 'nested-2m'];
const runs = [];
if (dash >= 0) for (const model of models) runs.push({ model, pass: only ?? 'interp', suites: args.slice(dash + 1) });
else for (const pass of ['linux', 'interp', 'jit']) if (only === null || pass === only) for (const model of models) runs.push({ model, pass, suites: PASSES[pass].suites });

const dir = mkdtempSync(join(tmpdir(), 'emu-matrix-'));
const rows = [];
const rowText = (r) => `${r.model.padEnd(10)} ${r.pass.padEnd(7)} ${(r.ok ? 'ok' : 'FAILED').padEnd(7)} ${r.counts.padEnd(38)} ${r.secs.toFixed(0)} s`;
for (const [i, run] of runs.entries()) {
  console.log(`\n=== --mmu=${run.model}, ${run.pass}: ${run.suites.join(' ')} ===`);
  const json = join(dir, `${i}.json`), t0 = Date.now();
  const env = { ...process.env, EMU_TEST_MMU: run.model, ...PASSES[run.pass].env };
  const r = spawnSync('npx', ['vitest', 'run', '--testTimeout=600000', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...run.suites], { stdio: 'inherit', env });
  let counts = 'no report';
  try {
    const j = JSON.parse(readFileSync(json, 'utf8'));
    counts = `${j.numPassedTests} passed, ${j.numFailedTests} failed, ${j.numPendingTests + j.numTodoTests} skipped`;
  } catch { /* vitest died before writing it: the status says so */ }
  rows.push({ ...run, ok: r.status === 0, counts, secs: (Date.now() - t0) / 1000 });
  console.log(`matrix row: ${rowText(rows[rows.length - 1])}`);
}
rmSync(dir, { recursive: true, force: true });

console.log('\nmodel      pass    result  tests                                  time');
for (const r of rows) console.log(rowText(r));
const total = rows.reduce((s, r) => s + r.secs, 0);
console.log(`${rows.filter((r) => r.ok).length}/${rows.length} runs green in ${(total / 60).toFixed(1)} min`);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
