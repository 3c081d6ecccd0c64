// Turning image bytes into a boot recipe: detects the format (multiboot,
// Linux bzImage, raw at an address) and returns the function the machine runs
// at power-on and at every reset. No file system here: the CLI and the browser
// worker read the files and pass bytes.

import { ACPI_NVS_SIZE, ACPI_REGION_SIZE, buildAcpi } from './acpi.js';
import { linuxMemoryMap } from './e820.js';
import { ImageError, isElf } from './elf.js';
import { multibootEntryState, flat32EntryState, realModeEntryState } from './entry.js';
import type { Machine } from './machine.js';
import { MULTIBOOT_BOOTLOADER_MAGIC, findMultibootHeader, loadMultiboot } from './multiboot.js';
import { loadRaw } from './raw.js';
import { writeMpTables } from './mptable.js';

export interface ImageFile {
  name: string;
  bytes: Uint8Array;
}

export interface BootSpec {
  kernel?: ImageFile;
  initrd?: ImageFile;
  cmdline?: string;
  raw?: { file: ImageFile; addr: number }[];
}

export type ImageFormat = 'multiboot' | 'bzimage' | 'unknown';

/** Linux's setup header magic "HdrS" at 0x202 (Documentation/arch/x86/boot.rst). */
export function isBzImage(bytes: Uint8Array): boolean {
  return bytes.length >= 0x206 && bytes[0x202] === 0x48 && bytes[0x203] === 0x64 && bytes[0x204] === 0x72 && bytes[0x205] === 0x53;
}

export function detectFormat(bytes: Uint8Array): ImageFormat {
  if (isBzImage(bytes)) return 'bzimage';
  if (findMultibootHeader(bytes)) return 'multiboot';
  return 'unknown';
}

/** A hook the Linux loader (machine/linux.ts) installs so this module does not depend on it. */
export type LinuxLoader = (m: Machine, kernel: ImageFile, initrd: ImageFile | undefined, cmdline: string) => void;
let linuxLoader: LinuxLoader | null = null;
export function registerLinuxLoader(loader: LinuxLoader): void { linuxLoader = loader; }

/**
 * What fw_cfg's kernel/initrd/command-line items hold, as QEMU fills them for -kernel: a
 * bzImage splits into its real-mode setup ((setup_sects + 1) sectors, 4 if setup_sects is 0)
 * and the protected-mode kernel; any other image is the kernel item whole.
 */
export function fwCfgBootFiles(format: ImageFormat, kernel: Uint8Array, initrd: Uint8Array | undefined, cmdline: string) {
  if (format !== 'bzimage') return { kernel, initrd, cmdline };
  const setupBytes = ((kernel[0x1f1] || 4) + 1) * 512;
  return { setup: kernel.subarray(0, setupBytes), kernel: kernel.subarray(setupBytes), initrd, cmdline };
}

/** Validate the images now (so mistakes are reported before the machine starts) and return the recipe. */
export function bootRecipe(spec: BootSpec): (m: Machine) => void {
  const { kernel, initrd, raw = [] } = spec;
  const cmdline = spec.cmdline ?? '';
  for (const f of [kernel, initrd, ...raw.map((r) => r.file)]) {
    if (f && f.bytes.length === 0) throw new ImageError(`${f.name}: the file is empty`);
  }
  if (!kernel) {
    if (raw.length === 0) throw new ImageError('nothing to boot: give an image, -kernel FILE or -device loader,file=FILE,addr=ADDR');
    return (m) => {
      for (const r of raw) loadRaw(m.memory, r.file.bytes, r.addr, r.file.name);
      const start = raw[0].addr;
      if (start < 0x100000) realModeEntryState(m.state, start);
      else flat32EntryState(m.state, start);
    };
  }
  const format = detectFormat(kernel.bytes);
  const fwCfgBoot = fwCfgBootFiles(format, kernel.bytes, initrd?.bytes, cmdline);
  if (format === 'bzimage') {
    if (!linuxLoader) throw new ImageError(`${kernel.name}: Linux bzImage kernels are not supported by this build yet`);
    const load = linuxLoader;
    return (m) => {
      m.devices.fwcfg.setBootFiles(fwCfgBoot);
      load(m, kernel, initrd, cmdline);
      for (const r of raw) loadRaw(m.memory, r.file.bytes, r.addr, r.file.name);
    };
  }
  if (format === 'multiboot') {
    return (m) => {
      m.devices.fwcfg.setBootFiles(fwCfgBoot);
      // Firmware's part: ACPI tables at the top of RAM, reported in the memory map as ACPI/NVS.
      const acpi = buildAcpi(m.memory, { ramSize: m.memory.ramSize, cpus: m.vcpuCount, apicIds: m.apicIds });
      writeMpTables(m.memory, m.apicIds);
      const loaded = loadMultiboot(m.memory, kernel.bytes, kernel.name, {
        cmdline: [kernel.name, cmdline].filter(Boolean).join(' '),
        modules: initrd ? [{ name: initrd.name, bytes: initrd.bytes }] : [],
        memoryMap: linuxMemoryMap(m.memory.ramSize, acpi.regionBase, ACPI_REGION_SIZE, ACPI_NVS_SIZE),
      });
      for (const r of raw) loadRaw(m.memory, r.file.bytes, r.addr, r.file.name);
      multibootEntryState(m.state, loaded.entry, loaded.infoAddr, MULTIBOOT_BOOTLOADER_MAGIC);
    };
  }
  const what = isElf(kernel.bytes) ? 'an ELF file without a multiboot header' : 'not a multiboot image or a Linux bzImage';
  throw new ImageError(`${kernel.name}: ${what}; emu boots multiboot kernels and Linux bzImages (use -device loader,file=...,addr=... for a raw binary)`);
}
