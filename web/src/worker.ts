// The machine worker: owns the emu Machine and runs guest code off the main
// thread. The page drives it through comlink (protocol.ts); serial output goes
// back in batches, one message per run-loop slice at most.

import * as Comlink from 'comlink';
// machine/index.js is the library's face for hosts (it also installs the Linux loader);
// machine/backends.ts registers the interpreter (and the JIT once it exists) for every host.
// KVM needs /dev/kvm and a native addon (machine/backends-node.ts), which this bundle never
// imports, so the worker reports it unavailable.
import { Machine, availableBackends, bootRecipe } from '../../machine/index.js';
import { MemoryDisk } from '../../devices/block.js';
import { KeptDisk } from './disk-store.js';
import { flatIoCounters } from '../../machine/io-devices.js';
import { flatVcpuCounters } from '../../mmu/vcpu-counters.js';
import { restoreSnapshot, saveSnapshot } from '../../machine/snapshot.js';
import { readHeader } from '../../machine/snapshot-format.js';
import type { BackendId, BackendInfo, BootRequest, JitBlockInfo, MachineEvent, MachineWorker, Sample, SnapshotLoaded } from './protocol.js';
import { jitBlocks, jitDump } from './jit-dump.js';

const ALL_BACKENDS: BackendId[] = ['interp', 'jit', 'kvm'];
const MiB = 1024 * 1024;
/** Modules at least this large compile asynchronously (Chromium refuses synchronous compiles above 4 KiB on a page's main thread). */
const JIT_ASYNC_BYTES = 4096;
/** Why a backend the machine library did not register cannot run in this page. */
const UNAVAILABLE_HERE: Record<BackendId, string> = {
  interp: 'the interpreter did not register',
  jit: 'the x86-to-wasm JIT did not register',
  kvm: 'KVM needs /dev/kvm and a native addon: use the CLI, emu --accel=kvm',
};

let machine: Machine | null = null;
let lastBoot: BootRequest | null = null;
let poweredOnAt = 0;
let serialOut: ((bytes: Uint8Array) => void) | null = null;
let events: ((e: MachineEvent) => void) | null = null;

// Serial output is collected per slice and sent in one message: a guest that
// prints a line per millisecond must not cost a postMessage per byte.
let pending = new Uint8Array(4096);
let pendingLength = 0;
let flushQueued = false;

function putSerial(byte: number): void {
  if (pendingLength === pending.length) {
    const bigger = new Uint8Array(pending.length * 2);
    bigger.set(pending);
    pending = bigger;
  }
  pending[pendingLength++] = byte;
  if (!flushQueued) {
    flushQueued = true;
    // A microtask runs as soon as the synchronous slice returns to the run loop.
    queueMicrotask(flushSerial);
  }
}

function flushSerial(): void {
  flushQueued = false;
  if (pendingLength === 0 || !serialOut) { pendingLength = 0; return; }
  const chunk = pending.slice(0, pendingLength);
  pendingLength = 0;
  serialOut(Comlink.transfer(chunk, [chunk.buffer]));
}

/** Events go out after the serial bytes that came before them, so the console keeps their order. */
function emit(e: MachineEvent): void {
  flushSerial();
  events?.(e);
}

// Interrupts delivered, counted at the interrupt-acknowledge cycle unless the
// backend counts them itself.
let acknowledged = 0;

function countInterrupts(m: Machine): void {
  const source = m.devices.interrupts;
  const acknowledge = source.acknowledge.bind(source);
  source.acknowledge = (): number => { acknowledged++; return acknowledge(); };
}

function interruptsOf(m: Machine): number {
  const c = m.backend.counters();
  return c.interrupts ?? c.irqs ?? acknowledged;
}

function stopMachine(): void {
  if (!machine) return;
  const old = machine;
  machine = null;
  old.powerOff(0, 'replaced');
  old.destroy();
}

/** The attached image: in memory, and with `keep` also stored in IndexedDB at each guest flush. */
function diskFor(d: NonNullable<BootRequest['disk']>): MemoryDisk {
  return d.keep ? new KeptDisk(d.bytes, d.keep, (text) => emit({ kind: 'message', text: `emu: ${text}` })) : new MemoryDisk(d.bytes);
}

/** A powered-on machine for `req`, its guest loaded, not running yet. */
function createMachine(req: BootRequest, smp = 1): Machine {
  const recipe = bootRecipe({ kernel: req.kernel, initrd: req.initrd, cmdline: req.cmdline });
  const m = new Machine({
    memory: req.memoryMiB * MiB,
    accel: req.accel,
    mmu: req.mmu,
    smp,
    // The JIT compiles modules of 4 KiB and more with WebAssembly.instantiate, off the run loop
    // (the guest runs interpreted until the code is ready); smaller ones at once.
    jit: { asyncBytes: JIT_ASYNC_BYTES },
    onSerial: putSerial,
    onExit: (status, reason) => {
      if (machine === m && reason !== 'replaced') emit({ kind: 'exit', status, reason });
    },
    onMessage: (text) => emit({ kind: 'message', text }),
    // The same bytes across resets: what the guest wrote is still there after a reboot.
    drives: req.disk ? [{ interface: req.disk.interface, disk: diskFor(req.disk), name: req.disk.name }] : undefined,
  });
  m.boot(recipe);
  return m;
}

function runMachine(m: Machine, req: BootRequest): void {
  countInterrupts(m);
  acknowledged = 0;
  machine = m;
  lastBoot = req;
  poweredOnAt = performance.now();
  m.run().catch((e: unknown) => {
    // A backend bug must not take the worker down: report it and stop this machine.
    if (machine === m) emit({ kind: 'error', text: `emu: the machine stopped on an internal error: ${(e as Error).message ?? e}` });
    m.powerOff(1, 'internal error');
  });
}

function startMachine(req: BootRequest): void {
  runMachine(createMachine(req), req);
}

const api: MachineWorker = {
  connect(serial, ev) {
    serialOut = serial;
    events = ev;
  },

  backends(): BackendInfo[] {
    const have = availableBackends();
    return ALL_BACKENDS.map((name) => (have.includes(name) ? { name, available: true } : { name, available: false, why: UNAVAILABLE_HERE[name] }));
  },

  async boot(req) {
    stopMachine();
    startMachine(req);
  },

  input(bytes) {
    machine?.serialInput(bytes);
  },

  pause() { machine?.pause(); },
  resume() { machine?.resume(); },

  reset() {
    if (!machine) return;
    if (machine.exited && lastBoot) {
      // Powered off: a reset is a fresh power-on with the same images.
      const req = lastBoot;
      stopMachine();
      startMachine(req);
      return;
    }
    machine.reset();
  },

  setBackend(name) {
    if (!machine) return 'no machine is running';
    try {
      machine.setBackend(name);
      if (lastBoot) lastBoot = { ...lastBoot, accel: name };
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  },

  async saveSnapshot() {
    const m = machine;
    if (!m || m.exited) throw new Error('no machine is running');
    const wasPaused = m.isPaused;
    m.pause();
    try {
      const bytes = await saveSnapshot(m, wasPaused);
      return Comlink.transfer(bytes, [bytes.buffer]);
    } finally {
      if (!wasPaused) m.resume();
    }
  },

  async loadSnapshot(bytes): Promise<SnapshotLoaded> {
    if (!lastBoot) throw new Error('boot a guest first: the snapshot replaces its machine');
    const header = readHeader(bytes); // one line for a file that is not a snapshot
    // A machine the snapshot's size, on the current backend; the snapshot replaces its guest.
    const req: BootRequest = { ...lastBoot, memoryMiB: header.ramSize / MiB, accel: machine?.backend.name ?? lastBoot.accel };
    const m = createMachine(req, header.vcpus);
    m.pause();
    let run;
    try {
      run = await restoreSnapshot(m, bytes);
    } catch (e) {
      m.destroy();
      throw e;
    }
    stopMachine();
    runMachine(m, req);
    if (!run.paused) m.resume();
    return { paused: run.paused, memoryMiB: req.memoryMiB };
  },

  sample(): Sample {
    const t = performance.now();
    const m = machine;
    if (!m) {
      return { t, instructions: 0, interrupts: 0, backend: lastBoot?.accel ?? 'interp', mmu: lastBoot?.mmu ?? 'direct', state: 'idle', counters: {}, io: [], resets: 0, uptime: 0 };
    }
    return {
      t,
      instructions: m.instructions(),
      interrupts: interruptsOf(m),
      backend: m.backend.name,
      mmu: m.options.mmu ?? 'direct',
      state: m.exited ? 'stopped' : m.isPaused ? 'paused' : 'running',
      counters: { ...flatVcpuCounters(m.vcpus.map((v) => v.backend.counters())), ...flatIoCounters(m.devices.io.stats()) },
      io: m.bus.stats().map(({ name, kind, reads, writes }) => ({ name, kind, reads, writes })),
      resets: m.stats.resets,
      uptime: t - poweredOnAt,
    };
  },

  jitBlocks(): JitBlockInfo[] {
    return machine ? jitBlocks(machine.backend) : [];
  },

  jitDump(address) {
    return machine ? jitDump(machine.backend, address) : 'no machine is running';
  },
};

Comlink.expose(api);
