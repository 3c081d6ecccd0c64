// Install the run's memory model (mmu/model.ts) on a CPU's page walker.

import type { MmuModelName } from './model.js';
import { NestedModel } from './nested.js';
import type { Mmu } from './paging.js';
import { ShadowModel } from './shadow.js';

/** Put model `name` behind `mmu`'s TLB miss path (direct: the walker alone). */
export function installModel(mmu: Mmu, name: MmuModelName): void {
  mmu.model?.detach();
  mmu.model = name === 'shadow' ? new ShadowModel(mmu) : name === 'nested' || name === 'nested-2m'
    ? new NestedModel(mmu, name === 'nested-2m') : null;
}
