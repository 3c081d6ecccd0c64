// The board's device state as named byte blobs, for snapshots and migration:
// every device on the bus (and its declared parts), the bus's IRQ levels and
// the IRQ router, each in the layout its class declares (devices/state.ts).

import { layoutOf, loadState, saveState, stateDeclOf, stateEntries, StateMismatch } from '../devices/state.js';
import type { Machine } from './machine.js';

export interface DeviceBlob {
  name: string;
  /** The declaration's canonical layout text: a snapshot from a build whose layout differs is refused. */
  layout: string;
  bytes: Uint8Array;
}

/** Every object with device state on the board, in a fixed order, each under a stable name. */
export function deviceEntries(m: Machine): [string, object][] {
  const roots: [string, object][] = [['bus', m.bus], ['irq-router', m.devices.router]];
  for (const d of m.bus.devices()) roots.push([d.name, d.dev]);
  return stateEntries(roots);
}

function layoutOfDev(dev: object): string {
  return layoutOf(stateDeclOf(dev)!.fields);
}

export function saveDevices(m: Machine): DeviceBlob[] {
  return deviceEntries(m).map(([name, dev]) => ({ name, layout: layoutOfDev(dev), bytes: saveState(dev) }));
}

/**
 * Load saved device state. Everything is checked first (the same devices, the
 * same layouts), so a mismatch throws StateMismatch with nothing loaded.
 */
export function loadDevices(m: Machine, blobs: readonly DeviceBlob[]): void {
  const here = deviceEntries(m);
  const byName = new Map(here);
  for (const b of blobs) {
    const dev = byName.get(b.name);
    if (!dev) throw new StateMismatch(`the snapshot has a device "${b.name}" this machine does not have`);
    if (layoutOfDev(dev) !== b.layout) throw new StateMismatch(`device "${b.name}" keeps different state in this build (the snapshot comes from another version of emu)`);
  }
  const saved = new Set(blobs.map((b) => b.name));
  const missing = here.find(([name]) => !saved.has(name));
  if (missing) throw new StateMismatch(`the snapshot has no state for device "${missing[0]}" (it comes from a machine configured differently)`);
  for (const b of blobs) loadState(byName.get(b.name)!, b.bytes);
}
