// `npm run test:matrix`: the guest suites (system guests and CPU tests, the paging tests,
// tinyos, the Linux boot where guests/linux/out has it) under each memory model that is
// not the default, one vitest run per model (EMU_TEST_MMU, read by test/setup-mmu.ts).
// Usage: node scripts/test-matrix.mjs [model ...] [-- vitest filters]
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const models = (dash < 0 ? args : args.slice(0, dash));
const suites = dash < 0 ? ['test/cpu', 'test/mmu', 'test/tinyos.test.ts', 'test/platform/linux-boot.test.ts'] : args.slice(dash + 1);
let failed = 0;
for (const model of models.length ? models : ['shadow', 'nested', 'nested-2m']) {
  console.log(`\n=== --mmu=${model} ===`);
  const r = spawnSync('npx', ['vitest', 'run', ...suites], { stdio: 'inherit', env: { ...process.env, EMU_TEST_MMU: model } });
  if (r.status !== 0) { failed++; console.log(`=== --mmu=${model}: FAILED`); }
}
process.exit(failed ? 1 : 0);
