// Which CPU backends this build has, and how to make one for a machine.

import type { Backend, BackendName, CpuHost } from '../contracts/backend.js';
import { createInterpreter, createJit } from '../cpu/full.js';
import type { JitOptions } from '../cpu/jit/backend.js';
import type { Bus } from '../devices/bus.js';

export class BackendUnavailable extends Error {}

/** What a backend factory may ask of the board (machine.ts's Machine). */
export interface BackendBoard {
  readonly bus: Bus;
  readonly vcpuCount: number;
  readonly options: { jit?: JitOptions; irqchip?: 'user' | 'kernel'; onMessage?: (text: string) => void };
}

/** Makes the backend of one vCPU (`host` is that vCPU's: its index, its local APIC). */
export type BackendFactory = (m: BackendBoard, host: CpuHost) => Backend;

const factories = new Map<BackendName, BackendFactory>();
const unavailable = new Map<BackendName, string>([
  ['kvm', 'the KVM backend is not built yet; use --accel=interp'],
]);

/** The interpreter: the integer core, system architecture, x87 and SSE. */
factories.set('interp', (_m, host) => createInterpreter(host));
/** The JIT: the same interpreter with hot blocks translated to wasm (cpu/jit/). */
factories.set('jit', (m, host) => createJit(host, m.options.jit));

export function registerBackend(name: BackendName, factory: BackendFactory): void {
  factories.set(name, factory);
  unavailable.delete(name);
}

/** Record why a backend cannot be used here (no /dev/kvm, addon not built, ...). */
export function markUnavailable(name: BackendName, why: string): void {
  factories.delete(name);
  unavailable.set(name, why);
}

/** Why a backend cannot be used here (one line), or null if it can. */
export function unavailableReason(name: BackendName): string | null {
  return factories.has(name) ? null : unavailable.get(name) ?? 'unknown backend';
}

export function availableBackends(): BackendName[] {
  return (['interp', 'jit', 'kvm'] as BackendName[]).filter((n) => factories.has(n));
}

export function createBackend(name: BackendName, m: BackendBoard, host: CpuHost): Backend {
  const f = factories.get(name);
  if (!f) throw new BackendUnavailable(`--accel=${name}: ${unavailable.get(name) ?? 'unknown backend'}`);
  return f(m, host);
}
