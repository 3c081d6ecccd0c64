// Interrupt delivery under KVM in both irqchip modes: the TypeScript PIC
// injected with KVM_INTERRUPT, and KVM's in-kernel 8259 driven by KVM_IRQ_LINE
// through the bus's IRQ lines (the device side is the same call either way).

import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { kvmSkipReason, load, makeRig, realModeState, type Rig } from './rig.js';

let rig: Rig | null = null;
afterEach(() => { rig?.kvm.destroy(); rig = null; });

/** IVT entry `vector` -> 0000:handler. */
function ivt(r: Rig, vector: number, handler: number): void {
  r.memory.dv.setUint16(vector * 4, handler, true);
  r.memory.dv.setUint16(vector * 4 + 2, 0, true);
}
const PRINT = (c: string): number[] => [0xb0, c.charCodeAt(0), 0xba, 0xf8, 0x03, 0xee]; // mov al,c; mov dx,3f8; out dx,al

describe.skipIf(kvmSkipReason !== null)('KVM interrupts', () => {
  it('irqchip=user: STI;HLT guest sleeps; the PIC raises vector 0x20 -> handler runs once, then the code after HLT', () => {
    const r = rig = makeRig({ irqchip: 'user' });
    ivt(r, 0x20, 0x2000);
    load(r.memory, 0x2000, [...PRINT('I'), 0xcf]);
    load(r.memory, 0x1000, [0xfb, 0xf4, ...PRINT('.'), 0xf4]);
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.text()).toBe('');
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT); // still nothing pending: stays halted
    r.pic.queue.push(0x20);
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.text()).toBe('I.');
    expect(r.pic.acks).toBe(1);
  });

  it('irqchip=user: with IF=0 the PIC request waits for STI (interrupt window), then is delivered', () => {
    const r = rig = makeRig({ irqchip: 'user' });
    ivt(r, 0x21, 0x2000);
    load(r.memory, 0x2000, [...PRINT('I'), 0xcf]);
    // cli; print 'a'; sti; 2000 x nop; print 'b'; hlt. (VT-x/AMD-V open the window right after the
    // STI shadow; the kvm_pvm host reports it some instructions late, hence the NOP run.)
    load(r.memory, 0x1000, [0xfa, ...PRINT('a'), 0xfb, ...new Array(2000).fill(0x90), ...PRINT('b'), 0xf4]);
    r.kvm.setState(realModeState(0x1000).snapshot());
    r.pic.queue.push(0x21);
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.text()).toBe('aIb');
    expect(r.kvm.counters()['exit.irq_window_open']).toBeGreaterThanOrEqual(1);
  });

  it('irqchip=user: nmi() wakes a CLI;HLT guest into the NMI handler (vector 2)', () => {
    const r = rig = makeRig({ irqchip: 'user' });
    ivt(r, 2, 0x2100);
    load(r.memory, 0x2100, [...PRINT('N'), 0xcf]);
    load(r.memory, 0x1000, [0xfa, 0xf4, ...PRINT('.'), 0xf4]);
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    r.kvm.nmi();
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.text()).toBe('N.');
  });

  it('irqchip=kernel: guest programs the in-kernel 8259 (base 0x20, IRQ1 unmasked); bus.raiseIrq(1) -> vector 0x21', () => {
    const r = rig = makeRig({ irqchip: 'kernel' });
    expect(r.kvm.irqSink).not.toBeNull();
    ivt(r, 0x21, 0x2000);
    // handler: print 'K'; EOI (out 0x20, 0x20); iret
    load(r.memory, 0x2000, [...PRINT('K'), 0xb0, 0x20, 0xe6, 0x20, 0xcf]);
    const icw = (port: number, v: number): number[] => [0xb0, v, 0xe6, port];
    load(r.memory, 0x1000, [...icw(0x20, 0x11), ...icw(0x21, 0x20), ...icw(0x21, 0x04), ...icw(0x21, 0x01),
      ...icw(0x21, 0xfd), 0xfb, 0xf4, ...PRINT('.'), 0xf4]);
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(5_000_000)).toBe(EXIT_HALT); // halted inside KVM, seen through MP_STATE
    expect(r.text()).toBe('');
    // The PIC's ports are served inside KVM: the bus never saw them.
    expect(r.writes.filter(([p]) => p === 0x20 || p === 0x21)).toEqual([]);
    r.bus.raiseIrq(1);
    r.bus.lowerIrq(1);
    expect(r.kvm.run(5_000_000)).toBe(EXIT_HALT);
    expect(r.text()).toBe('K.');
    expect(r.kvm.getLapic()?.length).toBe(1024);
  });
});
