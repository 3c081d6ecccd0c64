// The import graph, read from the sources, against DESIGN.md's layering: cli, web ->
// machine -> cpu, accel-kvm, devices -> mmu, with the contracts (contracts/, which everyone
// may import) below them all; cpu and devices never import each other, and no file imports its way back
// to itself. Today's violations are listed below as known exceptions, each with a comment;
// any new one fails this test (issue 16). Remove an entry when its violation is fixed.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');
const FOLDERS = ['cli', 'web', 'machine', 'cpu', 'accel-kvm', 'devices', 'mmu', 'contracts'];
/** Layer of each top folder: a file may import from a lower layer or from its own folder. */
const LAYER: Record<string, number> = { cli: 4, web: 4, machine: 3, cpu: 2, 'accel-kvm': 2, devices: 2, mmu: 1, contracts: 0 };
/**
 * The contracts: interfaces and layouts every layer may import (layer 0): contracts/, and the
 * CPU state record's layout (cpu/state.ts, which KVM reads and writes too). They import only
 * each other, and mmu/'s types (`import type`: the guest memory every backend is handed).
 */
const isContract = (f: string): boolean => f.startsWith('contracts/') || f === 'cpu/state.ts';

/** Known layering violations, 'from -> to', as found when this test was written. */
const KNOWN_EDGES: Record<string, string> = {
};
/** Known import cycles (files of one strongly connected component, sorted, joined by ' '). */
const KNOWN_CYCLES: Record<string, string> = {
};

interface Graph { files: string[]; edges: Map<string, Set<string>> }

function sources(dir: string, out: string[]): void {
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'build' || name === 'dist') continue;
    if (statSync(join(ROOT, path)).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
}

/** Every file's relative imports (static, re-exports, type-only and dynamic), resolved to source files. */
function importGraph(): Graph {
  const files: string[] = [];
  for (const f of FOLDERS) sources(f, files);
  const known = new Set(files);
  const edges = new Map<string, Set<string>>();
  const spec = /(?:^|[^\w.])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const to = new Set<string>();
    for (const m of text.matchAll(spec)) {
      const s = m[1] ?? m[2] ?? m[3];
      if (!s.startsWith('.')) continue;
      const target = normalize(join(dirname(file), s)).replace(/\.js$/, '.ts');
      if (known.has(target)) to.add(target);
      else if (known.has(`${target}.ts`)) to.add(`${target}.ts`);
      else if (known.has(join(target, 'index.ts'))) to.add(join(target, 'index.ts'));
    }
    edges.set(file, to);
  }
  return { files, edges };
}

const top = (f: string): string => f.split('/')[0];
const layerOf = (f: string): number => (isContract(f) ? 0 : LAYER[top(f)]);

/** Imports that point up or sideways between folders (the contracts excepted). */
function layerViolations(g: Graph): string[] {
  const out: string[] = [];
  for (const [from, tos] of g.edges) {
    for (const to of tos) {
      if (top(from) === top(to) && !isContract(from)) continue;
      if (isContract(from) ? layerOf(to) === 0 || top(to) === 'mmu' : layerOf(to) < layerOf(from)) continue;
      out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}

/** Strongly connected components with more than one file (Tarjan), as sorted file lists. */
function cycles(g: Graph): string[] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>(), out: string[] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of g.edges.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1) out.push(comp.sort().join(' '));
    }
  };
  for (const f of g.files) if (!idx.has(f)) visit(f);
  return out.sort();
}

/**
 * Inside cpu/: the core (cpu/*.ts) below its extensions (system/, fpu/, sse/) and the JIT, which
 * only the composition points (compose.ts: the opcode table, full.ts and interp.ts: the
 * backends) put together. Each extension builds on the core alone, except sse/ on fpu/ (the
 * soft float, the x87 state and the operand staging they share).
 */
const CPU_PART_MAY: Record<string, string[]> = {
  core: [], 'cpu/fpu': [], 'cpu/sse': ['cpu/fpu'], 'cpu/system': [], 'cpu/jit': ['cpu/system', 'cpu/fpu', 'cpu/sse'],
};
const COMPOSERS = new Set(['cpu/compose.ts', 'cpu/full.ts', 'cpu/interp.ts']);
const cpuPart = (f: string): string => (f.split('/').length === 2 ? 'core' : f.split('/').slice(0, 2).join('/'));

/** Imports inside cpu/ that cross from one part to another against CPU_PART_MAY. */
function cpuSideViolations(g: Graph): string[] {
  const out: string[] = [];
  for (const [from, tos] of g.edges) {
    if (top(from) !== 'cpu' || isContract(from) || COMPOSERS.has(from)) continue;
    for (const to of tos) {
      if (top(to) !== 'cpu' || isContract(to)) continue;
      const a = cpuPart(from), b = cpuPart(to);
      if (a === b || b === 'core' || CPU_PART_MAY[a]?.includes(b)) continue;
      out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}

describe('the layering of imports (DESIGN.md)', () => {
  const g = importGraph();

  it('reads the sources: every folder has files and the graph has the edges a reader expects', () => {
    expect(g.files.length).toBeGreaterThan(150);
    expect(g.edges.get('machine/machine.ts')).toContain('contracts/backend.ts');
    expect(g.edges.get('cli/main.ts')).toContain('machine/index.ts');
  });

  it('no import points up a layer, or sideways from devices to cpu and back, beyond the known exceptions', () => {
    const fresh = layerViolations(g).filter((e) => !(e in KNOWN_EDGES));
    expect(fresh).toEqual([]);
    const stale = Object.keys(KNOWN_EDGES).filter((e) => !layerViolations(g).includes(e));
    if (stale.length) console.log(`test/layering: fixed, remove from KNOWN_EDGES:\n  ${stale.join('\n  ')}`);
  });

  it('the contracts import only each other and, type-only, mmu/', () => {
    const bad: string[] = [];
    for (const file of g.files.filter(isContract)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s*['"]([^'"]+)['"]/gm)) {
        const target = normalize(join(dirname(file), m[3])).replace(/\.js$/, '.ts');
        if (!isContract(target) && !(top(target) === 'mmu' && m[2])) bad.push(`${file} -> ${m[3]}`);
      }
    }
    expect(bad).toEqual([]);
    expect(g.files.filter((f) => f.startsWith('contracts/')).length).toBeGreaterThanOrEqual(3);
  });

  it('inside cpu/, the core never imports system/, fpu/, sse/ or jit/, and fpu/ never sse/', () => {
    expect(cpuSideViolations(g)).toEqual([]);
  });

  it('no import cycle between files beyond the known ones', () => {
    const fresh = cycles(g).filter((c) => !(c in KNOWN_CYCLES));
    expect(fresh).toEqual([]);
  });

  it('the checks are live: an upward import and a two-file cycle are found', () => {
    const edges = new Map(g.edges);
    edges.set('mmu/memory.ts', new Set([...(edges.get('mmu/memory.ts') ?? []), 'machine/machine.ts']));
    const bad: Graph = { files: g.files, edges };
    expect(layerViolations(bad)).toContain('mmu/memory.ts -> machine/machine.ts');
    expect(cycles(bad).some((c) => c.includes('mmu/memory.ts') && c.includes('machine/machine.ts'))).toBe(true);
    edges.set('cpu/cpu.ts', new Set([...(edges.get('cpu/cpu.ts') ?? []), 'cpu/system/context.ts']));
    edges.set('cpu/fpu/rows.ts', new Set([...(edges.get('cpu/fpu/rows.ts') ?? []), 'cpu/sse/rows.ts']));
    expect(cpuSideViolations(bad)).toEqual(['cpu/cpu.ts -> cpu/system/context.ts', 'cpu/fpu/rows.ts -> cpu/sse/rows.ts']);
  });
});
