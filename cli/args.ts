// Command-line parsing for `emu`, with QEMU's spellings where QEMU has one.
// Every mistake becomes a UsageError whose message is one line naming the
// problem and the fix; main() prints it and exits non-zero.

import type { BackendName } from '../contracts/backend.js';
import { MMU_MODELS, parseMmuModel, type MmuModelName } from '../mmu/model.js';
import { checkDrives, newIoArgs, parseCdrom, parseChardev, parseDrive, parseHd, parseIoDevice, type ChardevSpec, type IoArgs } from './drive-args.js';
import { parseMigrationUri } from '../machine/vm-control.js';
import { parseQmpSpec, type QmpSpec } from './qmp-server.js';
import { UsageError } from './usage-error.js';
import type { SmpTopology } from '../machine/smp.js';

export { UsageError };

export type SerialTarget = { kind: 'stdio' } | { kind: 'none' } | { kind: 'file'; path: string };

export interface RawLoad {
  path: string;
  addr: number;
}

/** -fw_cfg name=opt/...,file=F or string=S: a named blob for the guest's fw_cfg device. */
export interface FwCfgArg {
  name: string;
  file?: string;
  string?: string;
}

export interface Options {
  accel: BackendName | null; // null: the fastest available
  memory: number; // bytes
  kernel: string | null;
  initrd: string | null;
  append: string | null;
  image: string | null;
  raw: RawLoad[];
  fwCfg: FwCfgArg[];
  smp: SmpTopology;
  serial: SerialTarget;
  noReboot: boolean;
  irqchip: 'user' | 'kernel';
  mmu: MmuModelName;
  lockstep: [BackendName, BackendName] | null;
  /** Each lockstep side's memory model where it names one (interp:shadow), else null: --mmu's. */
  lockstepMmu: [MmuModelName | null, MmuModelName | null];
  /** Instructions between comparisons of two in-process backends in lockstep (null: the oracle's default). */
  lockstepEvery: number | null;
  /** Most instructions (or KVM steps) a lockstep run compares; Infinity: until the guest exits or the user stops it. */
  lockstepMax: number;
  deterministic: boolean;
  trace: boolean;
  /** --jit-dump=ADDR: print the x86 and wasm of the jit block holding this address when it is compiled. */
  jitDump: number | null;
  help: boolean;
  version: boolean;
  /** Disks and paravirtual devices (-drive, -hda, -device virtio-*, -snapshot). */
  io: IoArgs;
  /** -incoming file:PATH | tcp:HOST:PORT | defer: start from a snapshot or an incoming migration. */
  incoming: string | null;
  /** -qmp sockets to listen on. */
  qmp: QmpSpec[];
  /** -chardev host ends (the virtio console's, by id). */
  chardevs: ChardevSpec[];
}

export const DEFAULT_MEMORY = 128 * 1024 * 1024;
const MIN_MEMORY = 2 * 1024 * 1024;
const MAX_MEMORY = 3 * 1024 * 1024 * 1024;

export const HELP = `usage: emu [options] [image]

Boots an x86-64 PC. With no image and no -kernel, boots tinyos, the built-in guest.
The image may be a multiboot kernel (ELF or a.out-kludge) or a Linux bzImage.

options:
  --accel=interp|jit|kvm   how the CPU runs: interpreter, x86->wasm JIT (alias: tcg), or KVM
                           (also -accel NAME, --enable-kvm); default: the fastest available
  -m, --memory SIZE        guest RAM, e.g. 256M or 1G (a bare number means MiB; default 128M)
  -kernel FILE             kernel to boot (multiboot ELF/a.out-kludge, or Linux bzImage)
  -initrd FILE             initial ramdisk (Linux) or first module (multiboot)
  -append STRING           kernel command line
  -device loader,file=FILE,addr=ADDR
                           copy a raw binary to ADDR and start there (real mode below 1 MiB,
                           flat 32-bit protected mode above)
  -smp N | -smp cpus=N,sockets=S,cores=C,threads=T
                           vCPUs (1 to 16; one thread, round-robin; kvm: --irqchip=user)
  -fw_cfg name=opt/NAME,file=FILE | -fw_cfg name=opt/NAME,string=TEXT
                           a named blob the guest reads through QEMU's fw_cfg device (0x510)
  -drive file=F,format=raw,if=virtio|ide|none[,readonly=on][,id=X][,index=N][,media=cdrom]
                           a raw disk image on virtio-blk or IDE (if=none: attach it with -device;
                           media=cdrom: an ATAPI CD-ROM drive on IDE, read-only)
  -hda/-hdb/-hdc/-hdd F    a raw image as IDE disk 0-3
  -cdrom F                 an ISO image in an ATAPI CD-ROM drive on the IDE secondary master
  -device virtio-blk-pci,drive=X | ide-hd,drive=X | ide-cd,drive=X
                           put the -drive with id=X on virtio-blk, an IDE disk or an IDE CD-ROM
  -device virtio-rng-pci   a virtio entropy source; -device virtio-serial-pci: a virtio console (hvc0)
  -device virtconsole,chardev=ID
                           the virtio console (hvc0) on -chardev ID instead of the serial output
  -chardev stdio,id=ID | file,id=ID,path=F | socket,id=ID,path=SOCK|host=H,port=N,server=on,wait=off
                           a host end: the terminal (keystrokes go to hvc0), a file, or a socket
  -snapshot                disk writes go to memory and are dropped at exit; the images stay unchanged
  -incoming file:PATH      start from a snapshot (made with QMP migrate to file:PATH, or Ctrl-A w)
  -incoming tcp:HOST:PORT  wait for a live migration from another emu (QMP migrate tcp:HOST:PORT)
  -incoming defer          wait for QMP migrate-incoming
  -qmp unix:PATH,server=on,wait=off | -qmp tcp:127.0.0.1:PORT,server=on,wait=off
                           the QEMU Machine Protocol (stop, cont, migrate, query-migrate, ...)
  -serial stdio|none|file:PATH
                           where the first serial port goes (default stdio)
  -nographic               accepted for QEMU compatibility (emu has no display)
  -no-reboot               exit instead of rebooting when the guest resets or triple-faults
  --mmu=direct|shadow|nested|nested-2m
                           memory model behind the TLB (interp, jit): walk the guest's page tables,
                           shadow page tables, or a two-dimensional walk through an EPT-format
                           table (4 KiB or 2 MiB second-level pages); Ctrl-A s shows its counters
  --irqchip=user|kernel    with KVM: interrupt controllers in TypeScript (switchable) or in the kernel
  --lockstep=kvm,B         the oracle: KVM single-steps, backend B follows; stop at the first divergence
  --lockstep=A,B           two in-process backends (e.g. interp,jit) on two boards, compared every N
  --lockstep-every=N         instructions (default 1000); interrupts are taken only between chunks
  --lockstep-max=N         stop a lockstep run after N instructions (default 10000000; 0: until the
                           guest exits or Ctrl-A x)
  --lockstep=A:M,B:N       the same with a memory model per side (e.g. interp:direct,interp:shadow):
                           one model checked against another; a side without one takes --mmu's
  --jit-dump=ADDR          with jit (the default when given): when the block holding linear or
                           physical ADDR is compiled, print its x86 disassembly and its wasm text
  --deterministic          derive time from instructions retired (reproducible runs)
  --trace                  log port I/O and backend exits to stderr
  -h, --help               this text
  -V, --version            print the version

console keys: Ctrl-A x quit, Ctrl-A b cycle CPU backends, Ctrl-A s show statistics,
Ctrl-A w save a snapshot (emu-snapshot-N.emusnap), Ctrl-A h help, Ctrl-A Ctrl-A send Ctrl-A.
The exit status is the guest's: isa-debug-exit (port 0xf4) value v exits with (v << 1) | 1.`;

const ACCELS: Record<string, BackendName> = { interp: 'interp', jit: 'jit', tcg: 'jit', kvm: 'kvm' };

/** Parse a size like 256M, 1G, 512 (MiB), 65536K, 1.5G. */
export function parseMemorySize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?$/.exec(text.trim());
  if (!m) throw new UsageError(`-m ${text}: not a memory size; write it like 256M or 1G`);
  const unit = m[2].toUpperCase();
  const mult = unit === 'K' ? 1024 : unit === 'G' ? 1024 ** 3 : unit === 'T' ? 1024 ** 4 : 1024 ** 2;
  const bytes = Math.round(Number(m[1]) * mult);
  if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) {
    throw new UsageError(`-m ${text}: guest memory must be between 2M and 3G (emu keeps RAM below the 32-bit MMIO hole)`);
  }
  if (bytes % 4096 !== 0) throw new UsageError(`-m ${text}: guest memory must be a whole number of 4 KiB pages`);
  return bytes;
}

function parseNumber(text: string, what: string): number {
  const v = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? parseInt(text, 10) : NaN;
  if (!Number.isFinite(v)) throw new UsageError(`${what} '${text}' is not a number; write it like 0x7c00`);
  return v;
}

function parseSerial(text: string): SerialTarget {
  if (text === 'stdio' || text === 'mon:stdio') return { kind: 'stdio' };
  if (text === 'none' || text === 'null') return { kind: 'none' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  throw new UsageError(`-serial ${text}: unsupported serial target; use stdio, none or file:PATH`);
}

function parseDevice(text: string, opts: Options): void {
  const [kind, ...props] = text.split(',');
  if (parseIoDevice(kind, text, opts.io)) return;
  if (kind !== 'loader') {
    throw new UsageError(`-device ${kind}: unknown device; emu takes -device loader, virtio-blk-pci, ide-hd, virtio-rng-pci and virtio-serial-pci`);
  }
  const kv = new Map(props.map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [p, ''] as const : [p.slice(0, i), p.slice(i + 1)] as const;
  }));
  const file = kv.get('file');
  const addr = kv.get('addr');
  if (!file || addr === undefined) throw new UsageError(`-device ${text}: loader needs file=FILE and addr=ADDR`);
  opts.raw.push({ path: file, addr: parseNumber(addr, 'loader addr') });
}

function parseFwCfg(text: string): FwCfgArg {
  const kv = new Map<string, string>();
  for (const p of text.split(',')) {
    const i = p.indexOf('=');
    kv.set(i < 0 ? 'name' : p.slice(0, i), i < 0 ? p : p.slice(i + 1));
  }
  const name = kv.get('name') ?? '';
  const file = kv.get('file'), str = kv.get('string');
  if (!name.startsWith('opt/') || name.length < 5 || name.length > 55) {
    throw new UsageError(`-fw_cfg ${text}: the name must start with opt/ and be at most 55 characters, e.g. name=opt/com.example/blob`);
  }
  if ((file === undefined) === (str === undefined)) throw new UsageError(`-fw_cfg ${text}: give exactly one of file=FILE or string=TEXT`);
  return file !== undefined ? { name, file } : { name, string: str };
}

/** Most vCPUs (mmu/memory.ts MAX_VCPUS). */
const MAX_SMP = 16;

/** -smp N or QEMU's -smp [cpus=]N[,sockets=S][,cores=C][,threads=T]: missing factors are derived as QEMU does. */
export function parseSmp(text: string): SmpTopology {
  const kv = new Map<string, number>();
  for (const p of text.split(',')) {
    const i = p.indexOf('=');
    const key = i < 0 ? 'cpus' : p.slice(0, i), v = i < 0 ? p : p.slice(i + 1);
    if (!['cpus', 'sockets', 'cores', 'threads', 'maxcpus'].includes(key)) throw new UsageError(`-smp ${text}: unknown property '${key}'; use cpus, sockets, cores, threads`);
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`-smp ${text}: ${key} must be a positive whole number`);
    kv.set(key, Number(v));
  }
  const threads = kv.get('threads') ?? 1;
  const cores = kv.get('cores') ?? (kv.has('cpus') && kv.has('sockets') ? Math.max(1, Math.floor(kv.get('cpus')! / (kv.get('sockets')! * threads))) : 1);
  const sockets = kv.get('sockets') ?? Math.max(1, Math.floor((kv.get('cpus') ?? cores * threads) / (cores * threads)));
  const cpus = kv.get('cpus') ?? sockets * cores * threads;
  if (kv.has('maxcpus') && kv.get('maxcpus') !== cpus) throw new UsageError(`-smp ${text}: CPU hot-plug is not emulated; leave out maxcpus or make it equal to cpus`);
  if (sockets * cores * threads !== cpus) {
    throw new UsageError(`-smp ${text}: sockets (${sockets}) x cores (${cores}) x threads (${threads}) must equal cpus (${cpus})`);
  }
  if (cpus > MAX_SMP) throw new UsageError(`-smp ${text}: emu runs at most ${MAX_SMP} vCPUs`);
  return { cpus, sockets, cores, threads };
}

function parseAccel(text: string): BackendName {
  const name = text.split(',')[0];
  const accel = ACCELS[name];
  if (!accel) throw new UsageError(`--accel=${text}: unknown accelerator; choose interp, jit (or tcg) or kvm`);
  return accel;
}

/** One side of --lockstep: a backend, optionally with a memory model (interp:shadow). */
function parseLockstepSide(text: string): { accel: BackendName; mmu: MmuModelName | null } {
  const [name, model] = text.split(':');
  const accel = parseAccel(name);
  if (model === undefined) return { accel, mmu: null };
  const mmu = parseMmuModel(model);
  if (mmu === null) throw new UsageError(`--lockstep side ${text}: unknown memory model; choose ${MMU_MODELS.join(', ')}`);
  if (accel === 'kvm') throw new UsageError(`--lockstep side ${text}: kvm runs the host's memory model; name a model on the other side only`);
  return { accel, mmu };
}

export function parseArgs(argv: string[]): Options {
  const opts: Options = {
    accel: null, memory: DEFAULT_MEMORY, kernel: null, initrd: null, append: null, image: null, raw: [], fwCfg: [],
    smp: { cpus: 1, sockets: 1, cores: 1, threads: 1 },
    serial: { kind: 'stdio' }, noReboot: false, irqchip: 'user', mmu: 'direct', lockstep: null, lockstepMmu: [null, null], lockstepEvery: null, lockstepMax: 1e7, deterministic: false,
    trace: false, jitDump: null, help: false, version: false, io: newIoArgs(), incoming: null, qmp: [],
    chardevs: [],
  };
  const args = [...argv];
  while (args.length > 0) {
    const arg = args.shift()!;
    // --name=value and -name=value are the same as "--name value".
    let name = arg;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('-') && eq > 0) {
      name = arg.slice(0, eq);
      inline = arg.slice(eq + 1);
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args.shift();
      if (v === undefined) throw new UsageError(`${name} needs a value; see emu --help`);
      return v;
    };
    const flag = name.replace(/^--?/, '');
    if (!arg.startsWith('-') || arg === '-') {
      if (opts.image !== null) throw new UsageError(`two images given ('${opts.image}' and '${arg}'); pass one, or use -kernel`);
      opts.image = arg;
      continue;
    }
    switch (flag) {
      case 'h': case 'help': opts.help = true; break;
      case 'V': case 'version': opts.version = true; break;
      case 'accel': opts.accel = parseAccel(value()); break;
      case 'enable-kvm': opts.accel = 'kvm'; break;
      case 'machine': case 'M': {
        const v = value();
        const m = /(?:^|,)accel=([a-z]+)/.exec(v);
        if (m) opts.accel = parseAccel(m[1]);
        break;
      }
      case 'm': case 'memory': opts.memory = parseMemorySize(value().replace(/^size=/, '')); break;
      case 'kernel': opts.kernel = value(); break;
      case 'initrd': opts.initrd = value(); break;
      case 'append': opts.append = value(); break;
      case 'serial': opts.serial = parseSerial(value()); break;
      case 'device': parseDevice(value(), opts); break;
      case 'smp': opts.smp = parseSmp(value()); break;
      case 'fw_cfg': {
        const f = parseFwCfg(value());
        if (opts.fwCfg.some((g) => g.name === f.name)) throw new UsageError(`-fw_cfg ${f.name} given twice; name each blob once`);
        opts.fwCfg.push(f);
        break;
      }
      case 'drive': parseDrive(value(), opts.io); break;
      case 'hda': case 'hdb': case 'hdc': case 'hdd': parseHd(flag.slice(2), value(), opts.io); break;
      case 'cdrom': parseCdrom(value(), opts.io); break;
      case 'snapshot': opts.io.snapshot = true; break;
      case 'nographic': case 'display': if (flag === 'display') value(); break;
      case 'no-reboot': opts.noReboot = true; break;
      case 'irqchip': {
        const v = value();
        if (v !== 'user' && v !== 'kernel') throw new UsageError(`--irqchip=${v}: choose user or kernel`);
        opts.irqchip = v;
        break;
      }
      case 'mmu': {
        const v = value(), m = parseMmuModel(v);
        if (m === null) throw new UsageError(`--mmu=${v}: unknown memory model; choose ${MMU_MODELS.join(', ')}`);
        opts.mmu = m;
        break;
      }
      case 'lockstep': {
        const sides = value().split(',').map(parseLockstepSide);
        if (sides.length !== 2 || (sides[0].accel === 'kvm' && sides[1].accel === 'kvm')) throw new UsageError('--lockstep needs two backends, e.g. --lockstep=kvm,interp or --lockstep=interp,jit');
        opts.lockstep = [sides[0].accel, sides[1].accel];
        opts.lockstepMmu = [sides[0].mmu, sides[1].mmu];
        break;
      }
      case 'lockstep-every': {
        const n = parseNumber(value(), '--lockstep-every');
        if (n < 1) throw new UsageError('--lockstep-every needs a positive number of instructions, e.g. --lockstep-every=1000');
        opts.lockstepEvery = n;
        break;
      }
      case 'lockstep-max': {
        const n = parseNumber(value(), '--lockstep-max');
        opts.lockstepMax = n === 0 ? Infinity : n;
        break;
      }
      case 'deterministic': opts.deterministic = true; break;
      case 'incoming': {
        const v = value();
        if (v !== 'defer' && !parseMigrationUri(v)) throw new UsageError(`-incoming ${v}: write it as file:PATH, tcp:HOST:PORT or defer`);
        opts.incoming = v;
        break;
      }
      case 'qmp': opts.qmp.push(parseQmpSpec(value())); break;
      case 'chardev': opts.chardevs.push(parseChardev(value(), opts.chardevs)); break;
      case 'trace': opts.trace = true; break;
      case 'jit-dump': opts.jitDump = parseNumber(value(), '--jit-dump address'); break;
      default:
        throw new UsageError(`unknown option '${arg}'; see emu --help`);
    }
  }
  checkDrives(opts.io);
  const cd = opts.io.consoleChardev;
  if (cd !== null && !opts.chardevs.some((c) => c.id === cd)) throw new UsageError(`-device virtconsole,chardev=${cd}: no -chardev has id=${cd}; add e.g. -chardev socket,id=${cd},path=/tmp/${cd}.sock,server=on,wait=off`);
  if (opts.jitDump !== null && opts.accel !== null && opts.accel !== 'jit') {
    throw new UsageError(`--jit-dump shows what the jit compiled; it needs --accel=jit, not --accel=${opts.accel}`);
  }
  if (opts.image !== null && opts.kernel !== null) {
    throw new UsageError(`both an image ('${opts.image}') and -kernel ('${opts.kernel}') given; pass only one`);
  }
  if ((opts.initrd !== null || opts.append !== null) && opts.kernel === null && opts.image === null) {
    throw new UsageError(`${opts.initrd !== null ? '-initrd' : '-append'} needs a kernel: add -kernel FILE`);
  }
  return opts;
}
