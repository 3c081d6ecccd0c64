// What the page and the machine worker say to each other (through comlink).
// Plain data only: everything here crosses a postMessage.

import type { MmuModelName } from '../../mmu/model.js';

export type BackendId = 'interp' | 'jit' | 'kvm';

export interface ImageBytes {
  name: string;
  bytes: Uint8Array;
}

export interface BootRequest {
  /** Shown in the page ("tinyos", "my-kernel.elf"). */
  label: string;
  kernel: ImageBytes;
  initrd?: ImageBytes;
  cmdline?: string;
  memoryMiB: number;
  accel: BackendId;
  /** The memory model behind the TLB miss path (interp and jit; KVM uses the host's). */
  mmu: MmuModelName;
  /**
   * A raw disk image attached with the File API; the guest's writes stay in the worker's copy,
   * and with `keep` (its IndexedDB key, web/src/disk-store.ts) what the guest flushes is also
   * stored in the browser, so it survives a reload.
   */
  disk?: ImageBytes & { interface: 'virtio' | 'ide'; keep?: string };
}

export interface BackendInfo {
  name: BackendId;
  available: boolean;
  /** Why it cannot be used here (shown as the option's tooltip). */
  why?: string;
}

/** One I/O range's traffic, as devices/bus.ts counts it. */
export interface IoCount {
  name: string;
  kind: 'pio' | 'mmio';
  reads: number;
  writes: number;
}

/** A sample of the machine's counters; the page turns two samples into rates. */
export interface Sample {
  /** Worker clock, ms. */
  t: number;
  instructions: number;
  interrupts: number;
  backend: BackendId;
  /** The memory model (its counters are among `counters`, keyed `<model>.<name>`). */
  mmu: MmuModelName;
  state: 'running' | 'paused' | 'stopped' | 'idle';
  counters: Record<string, number>;
  io: IoCount[];
  resets: number;
  /** ms since this machine was powered on. */
  uptime: number;
}

/** A block the JIT compiled (the JIT view's list), by the physical address it starts at. */
export interface JitBlockInfo {
  phys: number;
  instructions: number;
  bytes: number;
}

/** Things the worker tells the page without being asked. */
export type MachineEvent =
  | { kind: 'message'; text: string }
  | { kind: 'exit'; status: number; reason: string }
  | { kind: 'error'; text: string };

/** What a loaded snapshot became: running or paused as its source was. */
export interface SnapshotLoaded {
  paused: boolean;
  memoryMiB: number;
}

/** The worker's face, as the page calls it through comlink. */
export interface MachineWorker {
  /** Where guest serial output (batched) and events go. */
  connect(serial: (bytes: Uint8Array) => void, events: (e: MachineEvent) => void): void;
  backends(): BackendInfo[];
  /** Build a machine for these images and start it; rejects with one line if the images are unusable. */
  boot(req: BootRequest): Promise<void>;
  input(bytes: Uint8Array): void;
  pause(): void;
  resume(): void;
  reset(): void;
  /** Move the running guest to another backend; resolves with an error line, or null. */
  setBackend(name: BackendId): string | null;
  sample(): Sample;
  /** The JIT's compiled blocks, newest first (at most 64); empty on another backend. */
  jitBlocks(): JitBlockInfo[];
  /** The translated code holding an address (linear first, then physical): x86 beside wasm text, or one line why there is none. */
  jitDump(address: number): string;
  /** The running machine as an emu snapshot file (the CLI resumes it with -incoming file:PATH). */
  saveSnapshot(): Promise<Uint8Array>;
  /** Replace the machine with a snapshot's (one taken here or by the CLI); rejects with one line. */
  loadSnapshot(bytes: Uint8Array): Promise<SnapshotLoaded>;
}
