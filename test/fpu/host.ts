// Which CPU runs the tests: some host vectors (RCPPS/RSQRTPS) are model-specific, so their
// replay demands bit-exactness only on the CPU the emulator's tables were measured on.

import { readFileSync } from 'node:fs';
import { APPROX_CPU } from '../../cpu/sse/approx-tables.js';

export interface HostCpu { vendor: string; family: number; model: number; name: string }

let cached: HostCpu | null = null;
/** Vendor, family and model from /proc/cpuinfo ('unknown' where there is none). */
export function hostCpu(): HostCpu {
  if (cached) return cached;
  let text = '';
  try { text = readFileSync('/proc/cpuinfo', 'utf8'); } catch { /* not Linux */ }
  const field = (k: string): string => (new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '').trim();
  return (cached = {
    vendor: field('vendor_id') || 'unknown',
    family: Number(field('cpu family') || -1),
    model: Number(field('model') || -1),
    name: field('model name'),
  });
}

/**
 * Family 0x19 holds both Zen 3 (models 00-0F, 20-2F, 40-5F) and Zen 4; the tables were
 * measured on a Zen 3 part and are not known to hold on Zen 4.
 */
const isZen3Model = (m: number): boolean => m <= 0x0f || (m >= 0x20 && m <= 0x2f) || (m >= 0x40 && m <= 0x5f);

/**
 * Null when the host is the CPU whose RCP/RSQRT tables the emulator carries (same vendor
 * and family, a Zen 3 model), else why exact comparison is skipped there.
 * EMU_APPROX_BOUND_ONLY=1 pretends another CPU, to exercise the bound-only path.
 */
export function approxMismatch(): string | null {
  if (process.env.EMU_APPROX_BOUND_ONLY) return 'EMU_APPROX_BOUND_ONLY is set, so only the architectural bound is checked';
  const h = hostCpu();
  if (h.vendor === APPROX_CPU.vendor && h.family === APPROX_CPU.family && isZen3Model(h.model)) return null;
  return `host is ${h.vendor} family 0x${h.family.toString(16)} model 0x${h.model.toString(16)} (${h.name}); the RCP/RSQRT ` +
    `tables describe ${APPROX_CPU.vendor} family 0x${APPROX_CPU.family.toString(16)} Zen 3, so only the architectural bound is checked`;
}
