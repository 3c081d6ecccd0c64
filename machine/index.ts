// The machine library's face for hosts (the CLI, the browser worker, tests):
// importing it also installs the Linux boot-protocol loader.

import './linux.js';

export { Machine, type MachineExit, type MachineOptions } from './machine.js';
export { bootRecipe, detectFormat, type BootSpec, type ImageFile } from './boot.js';
export { availableBackends, BackendUnavailable, unavailableReason } from './backends.js';
export { ImageError } from './elf.js';
