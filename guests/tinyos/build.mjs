#!/usr/bin/env node
// Builds guests/tinyos/tinyos.elf from source with Debian's gcc and binutils,
// reproducibly (fixed source order and flags, no build ids, no paths, no timestamps).
// Usage: node guests/tinyos/build.mjs [--out DIR]   (default DIR: guests/tinyos)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC_DIR = dirname(fileURLToPath(import.meta.url));
const SOURCES = [
  'boot.S', 'entry.S', 'bench.S', 'user.S', 'ap.S',
  'main.c', 'console.c', 'lib.c', 'cpu.c', 'mm.c', 'timer.c', 'acpi.c', 'info.c', 'shell.c', 'commands.c', 'aspace.c', 'smp.c',
];
const CFLAGS = [
  '-std=gnu11', '-O2', '-m64', '-march=x86-64', '-mtune=generic',
  '-ffreestanding', '-nostdlib', '-fno-pic', '-fno-pie', '-fno-common',
  '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables', '-fcf-protection=none',
  // integer registers only: emu's interpreter runs it before it has x87/SSE, and the kernel never saves FPU state
  '-mno-red-zone', '-mcmodel=small', '-mgeneral-regs-only', '-mno-sse', '-mno-mmx', '-mno-80387',
  '-fno-ident', '-g0', '-Wall', '-Wextra', '-Wa,--noexecstack',
  `-ffile-prefix-map=${SRC_DIR}=guests/tinyos`,
];
const LDFLAGS = [
  '-m', 'elf_x86_64', '-nostdlib', '-static', '-T', 'linker.ld', '--build-id=none',
  '-z', 'max-page-size=0x1000', '-z', 'noexecstack', '--no-warn-rwx-segments',
];

/** First line of `tool --version`: the image is byte-for-byte reproducible only with the same toolchain. */
function toolVersion(tool) {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

function run(tool, args) {
  const r = spawnSync(tool, args, { cwd: SRC_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error && r.error.code === 'ENOENT') {
    console.error(`build-tinyos: '${tool}' not found; install gcc and binutils (apt-get install -y gcc binutils)`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`build-tinyos: ${tool} ${args.join(' ')} failed`);
    process.exit(1);
  }
}

const outArg = process.argv.indexOf('--out');
const outDir = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : SRC_DIR;
const objDir = mkdtempSync(join(tmpdir(), 'tinyos-obj-'));
try {
  const objects = SOURCES.map((src) => {
    const obj = join(objDir, src.replace(/\.[cS]$/, '.o'));
    run('gcc', [...CFLAGS, '-c', src, '-o', obj]);
    return obj;
  });
  const image = join(outDir, 'tinyos.elf');
  run('ld', [...LDFLAGS, '-o', image, ...objects]);
  writeFileSync(join(outDir, 'toolchain.txt'), `${toolVersion('gcc')}\n${toolVersion('ld')}\n`);
  if (!process.argv.includes('--quiet')) console.log(`build-tinyos: ${image} (${statSync(image).size} bytes)`);
} finally {
  rmSync(objDir, { recursive: true, force: true });
}
