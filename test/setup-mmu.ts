// `npm run test:matrix` runs the guest suites once per memory model: EMU_TEST_MMU names the
// model every CPU without an explicit one gets (mmu/model.ts defaultMmuModel). Unset: direct.
import { parseMmuModel, setDefaultMmuModel } from '../mmu/model.js';

const wanted = process.env.EMU_TEST_MMU;
if (wanted) {
  const m = parseMmuModel(wanted);
  if (m === null) throw new Error(`EMU_TEST_MMU=${wanted}: not a memory model (direct, shadow, nested, nested-2m)`);
  setDefaultMmuModel(m);
}
