// Builds the cpu-system test guests from source at test time (GNU as via gcc, ld)
// into a temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the guests' shared assembly (boot16.inc) lives. */
const GUEST_INCLUDES = fileURLToPath(new URL('../guests/', import.meta.url));

export function hasToolchain(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    execFileSync('ld', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Assemble `source` (a .S file's text) and link it at `base`; returns the ELF image. */
export function buildElf(source: string, base: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'emu-sys-'));
  try {
    writeFileSync(join(dir, 'g.S'), source);
    execFileSync('gcc', ['-c', '-I', GUEST_INCLUDES, '-o', join(dir, 'g.o'), join(dir, 'g.S')], { stdio: 'pipe' });
    // A script so that only the sections are loaded (no ELF-header segment below `base`).
    writeFileSync(join(dir, 'g.ld'), `ENTRY(_start)
SECTIONS {
  . = 0x${base.toString(16)};
  .text : { *(.text*) }
  .rodata : { *(.rodata*) }
  .data : { *(.data*) }
  .bss : { *(.bss*) *(COMMON) }
}
`);
    execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=0x1000', '-T', join(dir, 'g.ld'),
      '-o', join(dir, 'g.elf'), join(dir, 'g.o')], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'g.elf')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Assemble `source` into a flat binary whose first byte lands at `base`. */
export function buildFlat(source: string, base: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'emu-sys-'));
  try {
    writeFileSync(join(dir, 'g.S'), source);
    execFileSync('gcc', ['-c', '-I', GUEST_INCLUDES, '-o', join(dir, 'g.o'), join(dir, 'g.S')], { stdio: 'pipe' });
    execFileSync('ld', ['-nostdlib', '-static', `-Ttext=0x${base.toString(16)}`, '--oformat=binary',
      '-o', join(dir, 'g.bin'), join(dir, 'g.o')], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'g.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
