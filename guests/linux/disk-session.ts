// Debian's kernel with disks: boot with out/initrd-disk.img (the disk drivers as modules),
// raw images on virtio-blk and/or IDE, type commands at the busybox prompt, and return the
// transcript, the exit and each disk device's I/O counters. Used by the disk boot test
// (bundled into a child process, as session.ts is) and by bench/io-models.
import { existsSync, readFileSync } from 'node:fs';
import type { BackendName } from '../../contracts/backend.js';
import { bootRecipe } from '../../machine/boot.js';
import { FileDisk } from '../../machine/disk-file.js';
import type { IoDeviceStats } from '../../machine/io-devices.js';
import '../../machine/linux.js';
import { Machine } from '../../machine/machine.js';
import { registerNodeBackends } from '../../machine/backends-node.js';
import { PROMPT } from './session.js';

export interface DiskSessionOptions {
  outDir: string;
  /** media cdrom: an ATAPI CD-ROM drive on IDE with the image (an ISO) as its medium, read-only. */
  drives: { path: string; interface: 'virtio' | 'ide'; media?: 'disk' | 'cdrom'; index?: number }[];
  /** Typed once at the first prompt (the shell runs them in order). */
  commands: string;
  accel?: BackendName;
  /** Print serial output to stderr as it comes (for watching a bench). */
  echo?: boolean;
  /** Output lines starting with this mark are recorded (marks) with the I/O counters at that moment. */
  markPrefix?: string;
  /** Called at each mark as it comes (in-process callers: a bench printing as it goes). */
  onMark?: (mark: SessionMark) => void;
  /** Also a virtio-rng. */
  virtioRng?: boolean;
  /** Also a virtio console (hvc0): its output is the result's `console`; each reply is typed into it once its `when` has appeared there. */
  virtioConsole?: { replies: { when: string; send: string }[] };
  /** Time by instructions retired (as --deterministic): a loaded host cannot starve the guest's timers. */
  deterministic?: boolean;
  /** Appended to the kernel command line (e.g. pci=nomsi). */
  cmdline?: string;
  /** Output that shows the typed line started running (default: an ext4 mount message); without it a new prompt means busybox dropped the line, so it is typed again (up to 3 times). */
  startedWhen?: string;
}

export interface DiskSessionResult {
  serial: string;
  status: number;
  reason: string;
  instructions: number;
  ms: number;
  io: IoDeviceStats[];
  /** What the guest wrote to the virtio console. */
  console: string;
  /** Every output line starting with markPrefix, with the counters and clocks then. */
  marks: SessionMark[];
}

/** A mark line and, when it came: host wall ms, host CPU ms of this process (user + system), guest instructions retired, the devices' I/O counters. */
export interface SessionMark { line: string; ms: number; cpuMs: number; instructions: number; io: IoDeviceStats[] }

export async function runDiskSession(o: DiskSessionOptions): Promise<DiskSessionResult> {
  registerNodeBackends();
  const kernel = `${o.outDir}/vmlinuz`, initrd = `${o.outDir}/initrd-disk.img`;
  const disks = o.drives.map((d) => new FileDisk(d.path, d.media === 'cdrom'));
  let serial = '', line = '', typed = 0, typedAt = 0;
  const started = o.startedWhen ?? 'EXT4-fs (';
  const marks: DiskSessionResult['marks'] = [];
  let hvc = '';
  const replies = [...(o.virtioConsole?.replies ?? [])];
  const snapshotIo = (): IoDeviceStats[] => m.devices.io.stats().map((s) => ({ name: s.name, counters: { ...s.counters } }));
  const m = new Machine({
    memory: 256 << 20, accel: o.accel ?? 'interp', deterministic: o.deterministic, noReboot: true,
    drives: o.drives.map((d, i) => ({ interface: d.interface, disk: disks[i], name: d.path, media: d.media, index: d.index })),
    virtioRng: o.virtioRng,
    virtioConsole: o.virtioConsole ? (bytes) => {
      hvc += new TextDecoder().decode(bytes);
      while (replies.length > 0 && hvc.includes(replies[0].when)) m.devices.io.virtioConsole!.receive(new TextEncoder().encode(replies.shift()!.send));
    } : undefined,
    onSerial: (b) => {
      serial += String.fromCharCode(b);
      if (o.echo) process.stderr.write(String.fromCharCode(b));
      if (b === 10) {
        if (o.markPrefix && line.startsWith(o.markPrefix)) {
          const cpu = process.cpuUsage();
          const mark = { line, ms: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000, instructions: m.instructions(), io: snapshotIo() };
          marks.push(mark);
          o.onMark?.(mark);
        }
        line = '';
      } else if (b !== 13) line += String.fromCharCode(b);
      // At the first prompt, and again at a new prompt if the shell dropped the line while it
      // asked the terminal for the cursor position (nothing of ours ran since).
      if (typed < 3 && serial.endsWith(PROMPT) && (typed === 0 || !serial.includes(started, typedAt))) {
        typed++;
        typedAt = serial.length;
        m.serialInput(new TextEncoder().encode(o.commands));
      }
    },
  });
  m.boot(bootRecipe({
    kernel: { name: kernel, bytes: new Uint8Array(readFileSync(kernel)) },
    initrd: { name: initrd, bytes: new Uint8Array(readFileSync(initrd)) },
    // nowatchdog: on a loaded host the slow interpreter trips the soft-lockup detector.
    cmdline: `console=ttyS0 nowatchdog${o.cmdline ? ` ${o.cmdline}` : ''}`,
  }));
  const t0 = performance.now();
  const exit = await m.run();
  for (const d of disks) d.close();
  return { serial, status: exit.status, reason: exit.reason, instructions: m.instructions(), ms: performance.now() - t0, io: snapshotIo(), console: hvc, marks };
}

/** Child-process entry: argv = JSON of DiskSessionOptions; prints the result as JSON on the last line. */
export async function runDiskSessionCli(argv: string[]): Promise<void> {
  const o = JSON.parse(argv[0]) as DiskSessionOptions;
  if (!existsSync(`${o.outDir}/initrd-disk.img`)) {
    console.error(`${o.outDir}/initrd-disk.img is missing; run npm run guest:linux and npm run guest:linux-disk`);
    process.exit(1);
  }
  const r = await runDiskSession(o);
  process.stdout.write(`\n${JSON.stringify(r)}\n`);
  process.exit(0);
}
