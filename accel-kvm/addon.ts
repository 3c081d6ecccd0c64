// Loads the native addon and answers "can this host run --accel=kvm?" with
// one clear line per reason (no addon, no /dev/kvm, no permission, missing
// capability), plus a warning where /dev/kvm is nested or software-assisted.

import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The native VM object (accel-kvm/src/kvm.cc). */
export interface NativeVm {
  checkExtension(cap: number): number;
  /** `logDirty`: KVM logs the slot's written pages (KVM_MEM_LOG_DIRTY_PAGES) for dirtyLog. */
  mapRam(slot: number, guestPhys: number, buffer: ArrayBuffer, offset: number, size: number, logDirty?: boolean): void;
  /** KVM_GET_DIRTY_LOG: the slot's pages written since the last call, one bit each, into `bitmap` (8-byte multiple). */
  dirtyLog(slot: number, bitmap: Uint8Array): void;
  /** The selected vCPU's kvm_run page. */
  runBuffer(): ArrayBuffer;
  /** vCPU ioctls, runBuffer, the slice and run() go to vCPU i (of `vcpus`) from now on. */
  select(i: number): void;
  ioctl(name: string, arg?: Uint8Array | number): number;
  irqLine(irq: number, level: boolean): void;
  startSlice(ns: number): void;
  endSlice(): void;
  /** 0: exited (see kvm_run.exit_reason); 1: slice over / immediate completion; < 0: -errno. */
  run(immediate?: boolean): number;
  guestNs(): number;
  destroy(): void;
}

export interface NativeAddon {
  /** `vcpus` (default 1): that many vCPU fds, ids 0..vcpus-1; vCPU 0 is selected. */
  Vm: new (opts: { irqchip: boolean; pit: boolean; vcpus?: number }) => NativeVm;
}

/** A host problem that stops --accel=kvm: the message is one line naming the problem and the fix. */
export class KvmUnavailable extends Error {}

const FALLBACK = 'use --accel=interp or --accel=jit';

let loaded: NativeAddon | null = null;
let loadError: string | null = null;

function candidateDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.EMU_KVM_ADDON) dirs.push(dirname(process.env.EMU_KVM_ADDON));
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    // Source tree (accel-kvm/), or a bundle in dist/ or bin/ next to accel-kvm/.
    dirs.push(join(here, 'build', 'Release'), join(here, '..', 'accel-kvm', 'build', 'Release'),
      join(here, '..', '..', 'accel-kvm', 'build', 'Release'));
  } catch { /* not a file: URL (browser bundle) */ }
  dirs.push(join(process.cwd(), 'accel-kvm', 'build', 'Release'));
  return dirs;
}

/** The addon, or a KvmUnavailable explaining why it is not there. */
export function loadAddon(): NativeAddon {
  if (loaded) return loaded;
  if (loadError) throw new KvmUnavailable(loadError);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    loadError = `--accel=kvm needs Linux on x86-64 (this is ${process.platform}/${process.arch}); ${FALLBACK}`;
    throw new KvmUnavailable(loadError);
  }
  const file = candidateDirs().map((d) => join(d, 'kvm.node')).find((f) => existsSync(f));
  if (!file) {
    const reasonFile = candidateDirs().map((d) => join(d, '..', 'unavailable.txt')).find((f) => existsSync(f));
    const why = reasonFile ? readFileSync(reasonFile, 'utf8').trim() : 'accel-kvm/build/Release/kvm.node is missing';
    loadError = `the KVM addon was not built (${why}); run npm install with a C++ compiler present, or ${FALLBACK}`;
    throw new KvmUnavailable(loadError);
  }
  try {
    loaded = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    loadError = `the KVM addon ${file} does not load (${(e as Error).message.split('\n')[0]}); rebuild it with npm install, or ${FALLBACK}`;
    throw new KvmUnavailable(loadError);
  }
  return loaded;
}

/** Why /dev/kvm cannot be used, or null when it can be opened read-write. */
export function devKvmProblem(path = '/dev/kvm'): string | null {
  if (!existsSync(path)) {
    return `/dev/kvm does not exist: load the kvm module (modprobe kvm_intel or kvm_amd) and enable virtualization in the firmware, or ${FALLBACK}`;
  }
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    return `no permission to open /dev/kvm: add yourself to its group (sudo usermod -aG kvm $USER, then log in again), or ${FALLBACK}`;
  }
  return null;
}

/** Turn the addon's errno text from opening the VM into the same one-liners. */
export function explainOpenError(e: unknown): KvmUnavailable {
  const msg = (e as Error).message ?? String(e);
  if (msg.startsWith('ENOENT')) return new KvmUnavailable(devKvmProblem() ?? msg);
  if (msg.startsWith('EACCES')) {
    return new KvmUnavailable(`no permission to open /dev/kvm: add yourself to its group (sudo usermod -aG kvm $USER), or ${FALLBACK}`);
  }
  if (msg.startsWith('missing capability')) return new KvmUnavailable(`${msg}: this host's KVM is too old for emu; ${FALLBACK}`);
  return new KvmUnavailable(`KVM could not create a VM (${msg}); ${FALLBACK}`);
}

/** Full check: addon loads and /dev/kvm is usable. Returns the reason it is not, or null. */
export function kvmUnavailableReason(): string | null {
  try {
    loadAddon();
  } catch (e) {
    return (e as Error).message;
  }
  return devKvmProblem();
}

/**
 * A warning when timings from this /dev/kvm would mislead: the kvm_pvm module
 * (software-assisted, ~1 us per guest instruction) or KVM nested in another
 * hypervisor. Null on bare metal.
 */
export function nestedKvmWarning(): string | null {
  if (existsSync('/sys/module/kvm_pvm')) {
    return 'warning: /dev/kvm is the software-assisted kvm_pvm module; guest speed under --accel=kvm is not representative of hardware virtualization';
  }
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '';
    if (/\bhypervisor\b/.test(flags)) {
      return 'warning: this host is itself a virtual machine (nested KVM); guest speed under --accel=kvm is not representative';
    }
  } catch { /* no /proc: say nothing */ }
  return null;
}
