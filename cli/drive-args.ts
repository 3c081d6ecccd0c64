// QEMU's disk spellings: -drive file=F,format=raw,if=virtio|ide|none[,readonly=on][,id=X]
// [,index=N][,media=disk|cdrom], -hda..-hdd F, -cdrom F (IDE secondary master, read-only), -device virtio-blk-pci|ide-hd|ide-cd,drive=X,
// -device virtio-rng-pci, -device virtio-serial-pci (one console port, hvc0),
// -device virtconsole[,chardev=ID] (that port, on a -chardev; -chardev stdio|file|socket
// is parsed here, opened by cli/chardev.ts), -snapshot.

import { UsageError } from './usage-error.js';

export interface DriveOption {
  file: string;
  interface: 'virtio' | 'ide' | 'none';
  readOnly: boolean;
  id: string | null;
  /** IDE position (0 primary master .. 3 secondary slave), or null for the next free one. */
  index: number | null;
  /** Set when a -device claims an if=none drive. */
  device: 'virtio' | 'ide' | null;
  /** cdrom: an ATAPI CD-ROM drive on IDE (read-only). */
  media: 'disk' | 'cdrom';
}

export interface IoArgs {
  drives: DriveOption[];
  snapshot: boolean;
  virtioRng: boolean;
  virtioConsole: boolean;
  /** -device virtconsole,chardev=ID: the -chardev the console port is connected to (null: the serial output). */
  consoleChardev: string | null;
}

export function newIoArgs(): IoArgs {
  return { drives: [], snapshot: false, virtioRng: false, virtioConsole: false, consoleChardev: null };
}

function props(text: string): Map<string, string> {
  return new Map(text.split(',').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [p, 'on'] as const : [p.slice(0, i), p.slice(i + 1)] as const;
  }));
}

function onOff(v: string, what: string): boolean {
  if (v === 'on' || v === 'true' || v === 'yes') return true;
  if (v === 'off' || v === 'false' || v === 'no') return false;
  throw new UsageError(`${what}=${v}: write on or off`);
}

export function parseDrive(text: string, io: IoArgs): void {
  const kv = props(text);
  const file = kv.get('file');
  if (!file) throw new UsageError(`-drive ${text}: needs file=IMAGE`);
  const format = kv.get('format') ?? 'raw';
  if (format !== 'raw') throw new UsageError(`-drive ${text}: format=${format} is not supported; emu takes raw images (convert with: qemu-img convert -O raw IN OUT)`);
  const iface = kv.get('if') ?? 'ide';
  if (iface !== 'virtio' && iface !== 'ide' && iface !== 'none') throw new UsageError(`-drive ${text}: if=${iface} is not supported; use if=virtio, if=ide or if=none`);
  const media = kv.get('media') ?? 'disk';
  if (media !== 'disk' && media !== 'cdrom') throw new UsageError(`-drive ${text}: media=${media} is not supported; use media=disk or media=cdrom`);
  if (media === 'cdrom' && iface === 'virtio') throw new UsageError(`-drive ${text}: media=cdrom is an IDE (ATAPI) drive; use if=ide (or if=none with -device ide-cd)`);
  if (media === 'cdrom' && kv.has('readonly') && !onOff(kv.get('readonly')!, 'readonly')) throw new UsageError(`-drive ${text}: a CD-ROM is read-only; drop readonly=off`);
  const index = kv.has('index') ? Number(kv.get('index')) : null;
  if (index !== null && !(Number.isInteger(index) && index >= 0 && index < 4)) throw new UsageError(`-drive ${text}: index must be 0-3`);
  const known = new Set(['file', 'format', 'if', 'readonly', 'id', 'index', 'media', 'cache', 'snapshot']);
  for (const k of kv.keys()) if (!known.has(k)) throw new UsageError(`-drive ${text}: unknown property '${k}'; emu knows file, format, if, readonly, id, index, media, snapshot`);
  const id = kv.get('id') ?? null;
  if (id !== null && io.drives.some((d) => d.id === id)) throw new UsageError(`-drive ${text}: id=${id} is already used by another -drive`);
  if (kv.has('snapshot') && onOff(kv.get('snapshot')!, 'snapshot')) io.snapshot = true;
  const readOnly = media === 'cdrom' || (kv.has('readonly') ? onOff(kv.get('readonly')!, 'readonly') : false);
  io.drives.push({ file, interface: iface, readOnly, id, index, device: null, media });
}

/** -hda F .. -hdd F: an IDE disk at that position. */
export function parseHd(letter: string, file: string, io: IoArgs): void {
  const index = letter.charCodeAt(0) - 'a'.charCodeAt(0);
  io.drives.push({ file, interface: 'ide', readOnly: false, id: null, index, device: null, media: 'disk' });
}

/** -cdrom F: an ATAPI CD-ROM on the IDE secondary master (index 2), read-only, as QEMU places it. */
export function parseCdrom(file: string, io: IoArgs): void {
  io.drives.push({ file, interface: 'ide', readOnly: true, id: null, index: 2, device: null, media: 'cdrom' });
}

/** The -device kinds of this file; returns false for a kind it does not know. */
export function parseIoDevice(kind: string, text: string, io: IoArgs): boolean {
  if (kind === 'virtio-rng-pci' || kind === 'virtio-rng') { io.virtioRng = true; return true; }
  if (kind === 'virtio-serial-pci' || kind === 'virtio-serial') { io.virtioConsole = true; return true; }
  if (kind === 'virtconsole') {
    const kv = props(text.slice(kind.length + 1));
    for (const k of kv.keys()) if (k !== 'chardev' && k !== 'id' && k !== 'name') throw new UsageError(`-device ${text}: unknown property '${k}'; virtconsole takes chardev=ID`);
    if (io.consoleChardev !== null && kv.has('chardev')) throw new UsageError(`-device ${text}: emu's virtio console has one port, already on chardev ${io.consoleChardev}`);
    io.virtioConsole = true;
    io.consoleChardev = kv.get('chardev') ?? io.consoleChardev;
    return true;
  }
  if (kind !== 'virtio-blk-pci' && kind !== 'virtio-blk' && kind !== 'ide-hd' && kind !== 'ide-cd') return false;
  const id = props(text.slice(kind.length + 1)).get('drive');
  if (!id) throw new UsageError(`-device ${text}: needs drive=ID naming a -drive if=none,id=ID`);
  const d = io.drives.find((x) => x.id === id);
  if (!d) throw new UsageError(`-device ${text}: no -drive has id=${id}; give the -drive before the -device`);
  if (d.interface !== 'none' || d.device) throw new UsageError(`-device ${text}: drive ${id} is already attached; give it if=none`);
  d.device = kind === 'ide-hd' || kind === 'ide-cd' ? 'ide' : 'virtio';
  if (kind === 'ide-cd') { d.media = 'cdrom'; d.readOnly = true; }
  return true;
}

/** After all options: every if=none drive has a device, IDE positions are free and valid. */
export function checkDrives(io: IoArgs): void {
  const used = new Set<number>();
  for (const d of io.drives) {
    if (d.interface === 'none' && !d.device) throw new UsageError(`-drive id=${d.id ?? '?'} (${d.file}) is not attached; add -device virtio-blk-pci,drive=${d.id ?? 'ID'}`);
    if (d.interface === 'ide' || d.device === 'ide') {
      if (d.index === null) continue;
      if (used.has(d.index)) throw new UsageError(`two IDE drives at index ${d.index}; give each its own -hdX or index=`);
      used.add(d.index);
    }
  }
  for (const d of io.drives) {
    if ((d.interface === 'ide' || d.device === 'ide') && d.index === null) {
      let i = 0;
      while (used.has(i)) i++;
      if (i > 3) throw new UsageError('more than 4 IDE drives; the PIIX3 has two channels of two');
      d.index = i;
      used.add(i);
    }
  }
}

export type ChardevSpec =
  | { id: string; kind: 'stdio' }
  | { id: string; kind: 'file'; path: string }
  | { id: string; kind: 'unix'; path: string }
  | { id: string; kind: 'tcp'; host: string; port: number };

const KNOWN: Record<string, string[]> = {
  stdio: ['id', 'signal', 'mux'],
  file: ['id', 'path'],
  socket: ['id', 'path', 'host', 'port', 'server', 'wait', 'nowait', 'telnet'],
};

export function parseChardev(text: string, existing: ChardevSpec[]): ChardevSpec {
  const [backend, ...rest] = text.split(',');
  const kv = new Map(rest.filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [p, 'on'] as const : [p.slice(0, i), p.slice(i + 1)] as const;
  }));
  if (!(backend in KNOWN)) throw new UsageError(`-chardev ${backend}: unsupported backend; emu takes stdio, file and socket`);
  for (const k of kv.keys()) {
    if (!KNOWN[backend].includes(k)) throw new UsageError(`-chardev ${text}: unknown property '${k}' for ${backend}; emu knows ${KNOWN[backend].join(', ')}`);
  }
  const id = kv.get('id');
  if (!id) throw new UsageError(`-chardev ${text}: needs id=NAME (then -device virtconsole,chardev=NAME)`);
  if (existing.some((c) => c.id === id)) throw new UsageError(`-chardev ${text}: id=${id} is already used by another -chardev`);
  if (backend === 'stdio') {
    if (existing.some((c) => c.kind === 'stdio')) throw new UsageError(`-chardev ${text}: stdio is already taken by -chardev id=${existing.find((c) => c.kind === 'stdio')!.id}`);
    return { id, kind: 'stdio' };
  }
  const path = kv.get('path');
  if (backend === 'file') {
    if (!path) throw new UsageError(`-chardev ${text}: needs path=FILE`);
    return { id, kind: 'file', path };
  }
  if (kv.get('server') !== 'on') throw new UsageError(`-chardev ${text}: emu only listens; add server=on,wait=off and connect your client to it`);
  if (kv.has('nowait') ? false : kv.get('wait') !== 'off') throw new UsageError(`-chardev ${text}: emu does not wait for a client before starting; add wait=off`);
  if (kv.has('telnet') && kv.get('telnet') !== 'off') throw new UsageError(`-chardev ${text}: telnet is not supported; connect with a raw client (socat, nc)`);
  if (path) return { id, kind: 'unix', path };
  const port = Number(kv.get('port'));
  if (!kv.has('port') || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`-chardev ${text}: needs path=SOCKET (Unix) or port=N (TCP, 1-65535)`);
  return { id, kind: 'tcp', host: kv.get('host') || '127.0.0.1', port };
}
