// How guest RAM becomes KVM memory slots: [0, ramSize) of the wasm buffer,
// minus the MMIO holes devices claim inside it, with the 1 MiB above 1 MiB
// aliased onto the first MiB while the A20 gate is off (real-mode wraparound).

const PAGE = 4096;
const MIB = 0x100000;

/** One KVM memory slot: guest-physical [gpa, gpa+size) is buffer[offset, offset+size). */
export interface RamSlot {
  gpa: number;
  size: number;
  offset: number;
}

export function buildSlots(ramSize: number, holes: ReadonlyArray<{ start: number; length: number }>, a20: boolean): RamSlot[] {
  // Cut points: hole edges (rounded out to pages) and, for the A20 alias, 1 MiB and 2 MiB.
  const cuts = new Set<number>([0, ramSize, MIB, 2 * MIB]);
  const inHole: Array<[number, number]> = [];
  for (const h of holes) {
    const s = Math.max(0, Math.floor(h.start / PAGE) * PAGE);
    const e = Math.min(ramSize, Math.ceil((h.start + h.length) / PAGE) * PAGE);
    if (e <= s) continue;
    inHole.push([s, e]);
    cuts.add(s);
    cuts.add(e);
  }
  const points = [...cuts].filter((c) => c >= 0 && c <= ramSize).sort((a, b) => a - b);
  const slots: RamSlot[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const gpa = points[i], end = points[i + 1];
    if (inHole.some(([s, e]) => gpa >= s && end <= e)) continue;
    // With A20 masked, addresses 1 MiB..2 MiB read and write the first MiB.
    const offset = !a20 && gpa >= MIB && end <= 2 * MIB ? gpa - MIB : gpa;
    const last = slots[slots.length - 1];
    if (last && last.gpa + last.size === gpa && last.offset + last.size === offset) last.size += end - gpa;
    else slots.push({ gpa, size: end - gpa, offset });
  }
  return slots;
}
