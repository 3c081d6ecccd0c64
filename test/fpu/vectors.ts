// Loading host-generated vectors (tools/vectors) for the replay tests: builds the generator
// with the system gcc once per run into a temp dir and reads the 128-byte records.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, existsSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REC_SIZE = 128;
export const R_CTL = 0, R_IMM = 4, R_A = 8, R_B = 24, R_C = 40, R_O = 56, R_M = 88, R_ST = 104, R_FL = 108, R_GPR = 112, R_GPR2 = 116;

let dir: string | null = null;
/**
 * Directory holding <group>/<name>.bin. Generated once per version of the generator sources
 * into tmpdir()/emu-vectors-<hash> (built in a private directory, then renamed into place, so
 * parallel test workers never see half a set); $EMU_VECTORS overrides.
 */
export function vectorDir(): string {
  if (dir) return dir;
  const pre = process.env.EMU_VECTORS;
  if (pre && existsSync(join(pre, 'x87'))) return (dir = pre);
  const srcDir = fileURLToPath(new URL('../../tools/vectors/', import.meta.url));
  const h = createHash('sha1');
  for (const f of readdirSync(srcDir).sort()) if (/\.(c|h|sh)$/.test(f)) h.update(f).update(readFileSync(join(srcDir, f)));
  const target = join(tmpdir(), `emu-vectors-${h.digest('hex').slice(0, 12)}`);
  if (!existsSync(join(target, 'done'))) {
    const d = mkdtempSync(join(tmpdir(), 'emu-vectors-build-'));
    execFileSync('sh', [join(srcDir, 'build.sh'), d], { stdio: 'pipe' });
    writeFileSync(join(d, 'done'), '');
    try { renameSync(d, target); } catch { rmSync(d, { recursive: true, force: true }); } // another worker won
  }
  return (dir = target);
}

export interface VectorFile { name: string; data: Uint8Array; count: number }
export function loadGroup(group: string): VectorFile[] {
  const g = join(vectorDir(), group);
  if (!existsSync(g)) return [];
  return readdirSync(g).filter((f) => f.endsWith('.bin')).sort().map((f) => {
    const data = new Uint8Array(readFileSync(join(g, f)));
    return { name: f.slice(0, -4), data, count: data.length / REC_SIZE };
  });
}

export const hex = (b: Uint8Array, off: number, n: number): string =>
  Array.from(b.subarray(off, off + n)).reverse().map((x) => x.toString(16).padStart(2, '0')).join('');
