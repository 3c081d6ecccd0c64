// tinyos's committed image: a multiboot kernel whose header matches its ELF, and
// exactly what `npm run build:guests` makes from guests/tinyos/ (reproducible build).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const IMAGE = 'guests/tinyos/tinyos.elf';
const MB_MAGIC = 0x1badb002;
const MB_FLAG_AOUT_KLUDGE = 1 << 16;
const MB_SEARCH_LIMIT = 8192; // the header must lie in the file's first 8 KiB, 4-byte aligned
const PT_LOAD = 1;

// Byte-identical output needs the toolchain the committed image was built with (build.mjs records it
// in toolchain.txt); a different one is named in the failure, not skipped.
const version = (tool: string): string | null => {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
};
const local = [version('gcc'), version('ld')];
const recorded = readFileSync('guests/tinyos/toolchain.txt', 'utf8').trimEnd().split('\n');
const skipRebuild = local.includes(null) ? 'gcc or ld not installed (apt-get install -y gcc binutils)' : null;
if (skipRebuild) console.warn(`tinyos rebuild check skipped: ${skipRebuild}`);

function loadSegments(elf: Buffer) {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const segs = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (elf.readUInt32LE(p) !== PT_LOAD) continue;
    segs.push({
      offset: Number(elf.readBigUInt64LE(p + 8)),
      paddr: Number(elf.readBigUInt64LE(p + 24)),
      filesz: Number(elf.readBigUInt64LE(p + 32)),
      memsz: Number(elf.readBigUInt64LE(p + 40)),
    });
  }
  return segs;
}

describe('tinyos image', () => {
  it('is an ELF64 x86-64 whose multiboot header (a.out kludge) loads exactly its one PT_LOAD segment', () => {
    const elf = readFileSync(IMAGE);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4]).toBe(2); // ELFCLASS64
    expect(elf.readUInt16LE(0x12)).toBe(62); // EM_X86_64
    let at = -1;
    for (let off = 0; off + 32 <= MB_SEARCH_LIMIT; off += 4) {
      if (elf.readUInt32LE(off) === MB_MAGIC) { at = off; break; }
    }
    expect(at).toBeGreaterThanOrEqual(0);
    const [magic, flags, checksum, headerAddr, loadAddr, loadEnd, bssEnd, entry] =
      Array.from({ length: 8 }, (_, i) => elf.readUInt32LE(at + 4 * i));
    expect((magic + flags + checksum) >>> 0).toBe(0);
    expect(flags & MB_FLAG_AOUT_KLUDGE).toBe(MB_FLAG_AOUT_KLUDGE);
    const segs = loadSegments(elf);
    expect(segs.length).toBe(1);
    const [seg] = segs;
    // the kludge loads file[at - (headerAddr - loadAddr) ...] to loadAddr: the same bytes the ELF loads
    expect(at - (headerAddr - loadAddr)).toBe(seg.offset);
    expect(loadAddr).toBe(seg.paddr);
    expect(loadEnd - loadAddr).toBe(seg.filesz);
    expect(bssEnd - loadAddr).toBe(seg.memsz);
    expect(entry).toBe(Number(elf.readBigUInt64LE(0x18)));
    expect(loadAddr).toBe(0x100000);
  });

  it.skipIf(skipRebuild !== null)('rebuilding from source gives the committed image byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'tinyos-build-'));
    try {
      const r = spawnSync(process.execPath, ['guests/tinyos/build.mjs', '--quiet', '--out', out], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const rebuilt = readFileSync(join(out, 'tinyos.elf'));
      const committed = readFileSync(IMAGE);
      const why = local.join('; ') === recorded.join('; ') ? 'the source and the committed image differ: run npm run build:guests'
        : `this toolchain (${local.join('; ')}) is not the one that built the image (${recorded.join('; ')})`;
      expect(rebuilt.equals(committed), why).toBe(true);
      expect(readFileSync(join(out, 'toolchain.txt'), 'utf8').trimEnd().split('\n')).toEqual(recorded);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
