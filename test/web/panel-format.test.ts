// How the live panel writes its figures: rates with SI suffixes, counter names
// from backend keys, the chart's rounded-up scale, uptime.

import { describe, expect, it } from 'vitest';
import { niceCeiling } from '../../web/src/chart.js';
import { counterLabel, formatCount, formatDuration } from '../../web/src/panel.js';

describe('live panel figures', () => {
  it('instruction rates read as k/M/G with three significant digits', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(9999)).toBe('9999');
    expect(formatCount(12_345)).toBe('12.3 k');
    expect(formatCount(1_234_567)).toBe('1.23 M');
    expect(formatCount(87_654_321)).toBe('87.7 M');
    expect(formatCount(2_500_000_000)).toBe('2.50 G');
  });

  it('backend counter keys become labels in the manual\'s terms', () => {
    expect(counterLabel('tlbMisses')).toBe('TLB misses');
    expect(counterLabel('blocks_translated')).toBe('Blocks translated');
    expect(counterLabel('exits.io')).toBe('Exits IO');
    expect(counterLabel('nmi')).toBe('NMI');
    expect(counterLabel('shadow.ptWriteTraps')).toBe('Shadow PT write traps');
    expect(counterLabel('shadow.cr3Hits')).toBe('Shadow CR3 hits');
    expect(counterLabel('nested-2m.eptViolations')).toBe('Nested 2m EPT violations');
    expect(counterLabel('vcpu1.shadow.ptWriteTraps')).toBe('vCPU 1 shadow PT write traps'); // one vCPU's share (mmu/vcpu-counters.ts)
  });

  it('the chart scale rounds up to 1, 2 or 5 times a power of ten', () => {
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(1)).toBe(1);
    expect(niceCeiling(1.2e7)).toBe(2e7);
    expect(niceCeiling(3.1e7)).toBe(5e7);
    expect(niceCeiling(5.5e7)).toBe(1e8);
  });

  it('uptime reads m:ss, then h:mm:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(75_400)).toBe('1:15');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
  });
});
