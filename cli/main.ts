// The `emu` command: parse options, read images, build the machine, connect
// the console, run, and exit with the guest's status.

import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../contracts/backend.js';
import { registerNodeBackends } from '../machine/backends-node.js';
import { lockstepCli, LockstepUsageError } from '../machine/lockstep/cli.js';
import { availableBackends, BackendUnavailable, bootRecipe, ImageError, Machine, unavailableReason, type ImageFile } from '../machine/index.js';
import { MemoryError } from '../mmu/memory.js';
import { combineVcpuCounters } from '../mmu/vcpu-counters.js';
import { DiskError, openDisk } from '../machine/disk-file.js';
import type { DriveSpec } from '../machine/io-devices.js';
import { HELP, parseArgs, UsageError, type Options } from './args.js';
import { openChardev, type Chardev } from './chardev.js';
import { EscapeReader, SerialSink, type ConsoleActions } from './console.js';
import { existsSync } from 'node:fs';
import { VmControl } from '../machine/vm-control.js';
import { nodeControlIo, startQmp } from './qmp-server.js';

export const VERSION = '0.1.0';

/** The repository root (dist/emu.mjs and cli/main.ts are both one level down). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TINYOS_IMAGE = join(ROOT, 'guests/tinyos/tinyos.elf');

/** Read an image the user named, turning every file-system problem into one clear line. */
export function readImage(path: string, what: string): ImageFile {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new ImageError(`${what} '${path}' is a directory, not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof ImageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`${what} '${path}' does not exist; check the path`);
    if (code === 'EACCES') throw new ImageError(`${what} '${path}' cannot be read: permission denied`);
    throw new ImageError(`${what} '${path}' cannot be read: ${(e as Error).message}`);
  }
  if (size === 0) throw new ImageError(`${what} '${path}' is empty`);
  try {
    return { name: path, bytes: new Uint8Array(readFileSync(path)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new ImageError(`${what} '${path}' cannot be read: permission denied`);
    throw new ImageError(`${what} '${path}' cannot be read: ${(e as Error).message}`);
  }
}

export interface MainIo {
  stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Returns the process exit status. */
export async function main(argv: string[], io: MainIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const err = (line: string): void => { io.stderr.write(`emu: ${line}\n`); };
  let opts: Options;
  let machine: Machine;
  let control: VmControl | null = null;
  let chardev: Chardev | null = null;
  try {
    opts = parseArgs(argv);
    if (opts.help) { io.stdout.write(HELP + '\n'); return 0; }
    if (opts.version) { io.stdout.write(`emu ${VERSION}\n`); return 0; }
    registerNodeBackends();
    const kernelPath = opts.kernel ?? opts.image ?? (opts.raw.length === 0 ? TINYOS_IMAGE : null);
    const recipe = bootRecipe({
      kernel: kernelPath ? readImage(kernelPath, kernelPath === TINYOS_IMAGE ? 'built-in tinyos image' : 'kernel image') : undefined,
      initrd: opts.initrd ? readImage(opts.initrd, 'initrd') : undefined,
      cmdline: opts.append ?? undefined,
      raw: opts.raw.map((r) => ({ file: readImage(r.path, 'loader file'), addr: r.addr })),
    });
    const sink = new SerialSink(opts.serial, io.stdout);
    if (opts.lockstep && opts.io.drives.length > 0) throw new UsageError('--lockstep boards have no disks; drop the -drive/-hda options');
    if (opts.lockstep) return await runLockstepCli(opts, opts.lockstep, recipe, sink, io);
    const drives = openDrives(opts);
    const chardevSpec = opts.chardevs.find((c) => c.id === opts.io.consoleChardev) ?? null;
    chardev = chardevSpec ? await openChardev(chardevSpec, io.stdout) : null;
    machine = new Machine({
      memory: opts.memory,
      accel: opts.accel ?? (opts.jitDump !== null ? 'jit' : defaultAccel()),
      jit: opts.jitDump !== null ? { dumpAt: opts.jitDump, onDump: (text) => io.stderr.write(`${text.replace(/\n/g, '\r\n')}\r\n`) } : undefined,
      irqchip: opts.irqchip,
      mmu: opts.mmu,
      noReboot: opts.noReboot,
      deterministic: opts.deterministic,
      smp: opts.smp,
      fwCfg: opts.fwCfg.map((f) => ({
        name: f.name,
        bytes: f.file !== undefined ? readImage(f.file, `-fw_cfg ${f.name} file`).bytes : new TextEncoder().encode(f.string),
      })),
      onSerial: (b) => sink.put(b),
      onMessage: (text) => io.stderr.write(`\r\n${text}\r\n`),
      onExit: (_status, reason) => control?.shutdown(reason),
      drives,
      virtioRng: opts.io.virtioRng,
      virtioConsole: opts.io.virtioConsole ? (bytes) => { if (chardev) chardev.write(bytes); else for (const b of bytes) sink.put(b); } : undefined,
    });
    const m0 = machine;
    if (chardev) chardev.onInput = (bytes) => m0.virtioConsoleInput(bytes);
    if (opts.trace) {
      machine.bus.onPortAccess = (port, size, value, write) => {
        io.stderr.write(`io ${write ? 'out' : 'in '} 0x${port.toString(16).padStart(4, '0')}/${size} = 0x${(value >>> 0).toString(16)}\n`);
      };
    }
    machine.boot(recipe);
    const m = machine;
    control = new VmControl(m, nodeControlIo(() => m.powerOff(0, 'quit (QMP)')));
    const closeQmp = await Promise.all(opts.qmp.map((q) => startQmp(q, control!)));
    try {
      return await runConsole(machine, sink, io, control, opts.incoming, chardevSpec?.kind === 'stdio');
    } finally {
      await chardev?.close();
      for (const close of closeQmp) close();
      for (const d of drives) d.disk.close?.();
    }
  } catch (e) {
    await chardev?.close(); // a listening socket would keep the process alive
    if (e instanceof UsageError || e instanceof ImageError || e instanceof MemoryError || e instanceof BackendUnavailable || e instanceof DiskError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
}

/**
 * `--lockstep=A,B`: two boards from the same images (deterministic time, TypeScript irqchip):
 * KVM single-stepping with the other backend checked after every instruction, or two
 * in-process backends compared every --lockstep-every instructions.
 */
async function runLockstepCli(opts: Options, pair: [BackendName, BackendName], recipe: (m: Machine) => void,
  sink: SerialSink, io: MainIo): Promise<number> {
  // Typed bytes reach both boards at the same instruction; Ctrl-A x or Ctrl-C ends the run
  // with its summary (not a failure).
  const typed: number[] = [];
  let stop: string | null = null, compared = 0;
  const say = (text: string): void => { io.stderr.write(text); };
  const detach = attachConsole(io, {
    input: (bytes) => { typed.push(...bytes); },
    quit: () => { stop = 'quit from the console (Ctrl-A x)'; },
    cycleBackend: () => say('\r\nemu: the backends are fixed while in lockstep\r\n'),
    showStats: () => say(`\r\nemu: lockstep: ${compared} instructions compared so far\r\n`),
  }, () => { stop = 'interrupted'; });
  let first = true; // the first board's serial output is the one shown
  try {
    const r = await lockstepCli(pair, (accel, extra) => {
      const m = new Machine({
        memory: opts.memory, accel, irqchip: 'user', mmu: opts.mmu, noReboot: true, deterministic: true, ...extra,
        onSerial: first ? (b) => sink.put(b) : undefined,
        onMessage: (text) => io.stderr.write(`${text}\n`),
      });
      first = false;
      m.boot(recipe);
      return m;
    }, opts.lockstepMax, {
      takeInput: () => (typed.length ? typed.splice(0) : null),
      stopReason: () => stop,
      pause: (steps) => { compared = steps; return new Promise((done) => setImmediate(done)); },
    }, opts.lockstepEvery ?? undefined, opts.lockstepMmu);
    await sink.close();
    io.stderr.write(`\nemu: ${r.text}\n`);
    return r.status;
  } catch (e) {
    if (e instanceof LockstepUsageError) throw new UsageError(e.message);
    throw e;
  } finally {
    detach();
  }
}

/** Raw-mode stdin through the Ctrl-A reader, and SIGINT; returns what undoes both. */
function attachConsole(io: MainIo, actions: ConsoleActions, onSigint: () => void): () => void {
  const stdin = io.stdin as NodeJS.ReadStream;
  const tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const reader = new EscapeReader(actions, (text) => { io.stderr.write(text); });
  const onData = (d: Buffer): void => reader.feed(d);
  // A closed or failing terminal must not kill the process with a stack trace: input just stops,
  // and messages to a closed stderr are dropped.
  const ignore = (): void => {};
  if (tty) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('error', ignore);
  io.stderr.on('error', ignore);
  stdin.resume?.();
  process.on('SIGINT', onSigint);
  return () => {
    stdin.off('data', onData);
    stdin.off('error', ignore);
    io.stderr.off('error', ignore);
    process.off('SIGINT', onSigint);
    if (tty) stdin.setRawMode(false);
    stdin.pause?.();
  };
}

/** Open every -drive image (one DiskError line for a missing, read-only or busy one). */
function openDrives(opts: Options): (DriveSpec & { disk: { close?: () => void } })[] {
  const out: (DriveSpec & { disk: { close?: () => void } })[] = [];
  try {
    for (const d of opts.io.drives) {
      out.push({
        interface: d.interface === 'none' ? d.device ?? 'virtio' : d.interface,
        disk: openDisk(d.file, { readOnly: d.readOnly, snapshot: opts.io.snapshot, cdrom: d.media === 'cdrom' }),
        name: d.file,
        index: d.index ?? undefined,
        media: d.media,
        id: d.id ?? undefined,
      });
    }
  } catch (e) {
    for (const d of out) d.disk.close?.();
    throw e;
  }
  return out;
}

function defaultAccel(): BackendName {
  // KVM on these nested hosts is far slower than the interpreter; a user asks for it by name.
  // jit is the default: every guest test (tinyos, the system and x87 guests, smc, Linux) passes under it.
  return availableBackends().includes('jit') ? 'jit' : 'interp';
}

/** The first emu-snapshot-N.emusnap in the current directory that does not exist yet. */
function nextSnapshotPath(): string {
  for (let n = 1; ; n++) if (!existsSync(`emu-snapshot-${n}.emusnap`)) return `emu-snapshot-${n}.emusnap`;
}

/** `typeToVirtio`: keystrokes go to the virtio console (-chardev stdio) instead of COM1. */
async function runConsole(machine: Machine, sink: SerialSink, io: MainIo, control: VmControl, incoming: string | null, typeToVirtio: boolean): Promise<number> {
  const say = (text: string): void => { io.stderr.write(text); };
  if (incoming === 'defer') control.stop('inmigrate');
  else if (incoming) {
    control.incoming(incoming).catch((e: Error) => machine.powerOff(1, `incoming migration failed: ${e.message}`));
  }
  // The reader of our output went away (EPIPE, e.g. `emu ... | head`): stop quietly, as QEMU does.
  sink.onError = (e) => machine.powerOff(e.code === 'EPIPE' ? 0 : 1, `serial output failed: ${e.message}`);
  const detach = attachConsole(io, {
    input: (bytes) => (typeToVirtio ? machine.virtioConsoleInput(bytes) : machine.serialInput(bytes)),
    quit: () => machine.powerOff(0, 'quit from the console (Ctrl-A x)'),
    cycleBackend: () => say(`\r\n${cycleBackend(machine)}\r\n`),
    showStats: () => say(`\r\n${formatStats(machine)}\r\n`),
    saveSnapshot: () => {
      const path = nextSnapshotPath();
      control.saveSnapshotFile(path).then(
        (n) => say(`\r\nemu: saved a snapshot to ${path} (${(n / 1048576).toFixed(1)} MiB); resume it with the same options and -incoming file:${path}\r\n`),
        (e: Error) => say(`\r\nemu: could not save a snapshot: ${e.message}\r\n`));
    },
  }, () => machine.powerOff(130, 'interrupted'));
  try {
    const exit = await machine.run();
    await sink.close();
    if (exit.status !== 0 && !exit.reason.startsWith('isa-debug-exit')) io.stderr.write(`\r\nemu: ${exit.reason}\r\n`);
    return exit.status;
  } finally {
    detach();
    machine.destroy();
  }
}

/**
 * Ctrl-A b: switch to the next backend this host can run. Returns the line to show: which
 * backend runs now, which are available, and why each other one is not.
 */
export function cycleBackend(
  machine: Machine, all = availableBackends(), reason: (n: BackendName) => string | null = unavailableReason,
): string {
  const others = (['interp', 'jit', 'kvm'] as BackendName[]).filter((n) => !all.includes(n));
  const why = others.map((n) => `; ${n}: ${reason(n) ?? 'not available'}`).join('');
  if (all.length < 2) return `emu: ${machine.backend.name} is the only backend available here${why}`;
  const next = all[(all.indexOf(machine.backend.name) + 1) % all.length];
  try {
    machine.setBackend(next);
  } catch (e) {
    return `emu: ${(e as Error).message}`;
  }
  return `emu: switched to ${next} (available: ${all.join(', ')}${why})`;
}

export function formatStats(m: Machine): string {
  const { totals, perVcpu } = combineVcpuCounters(m.vcpus.map((v) => v.backend.counters()));
  const lines = [`backend ${m.backend.name}, ${m.instructions()} instructions retired${perVcpu.length ? ` (memory model counters: sums over ${perVcpu.length} vCPUs)` : ''}`];
  for (const [k, v] of Object.entries(totals)) lines.push(`  ${k}: ${v}`);
  perVcpu.forEach((c, i) => lines.push(`  vCPU ${i}: ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')}`));
  for (const r of m.bus.stats()) if (r.reads + r.writes > 0) lines.push(`  ${r.name}: ${r.reads} reads, ${r.writes} writes`);
  for (const { name, counters: k } of m.devices.io.stats()) {
    const kb = (k.bytesRead + k.bytesWritten) / 1024;
    lines.push(`  ${name}: ${k.traps} traps, ${k.interrupts} interrupts (${k.msi} MSI-X), ${k.bytesRead} bytes read, ${k.bytesWritten} written, ${kb > 0 ? (k.traps / kb).toFixed(2) : '-'} traps/KB, ${k.requests} requests, ${k.flushes} flushes, ${k.errors} errors`);
  }
  return lines.join('\r\n');
}
