// Tiny hand-assembled guests under the KVM backend: every kind of exit goes
// through the same bus the interpreter uses.

import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_BUDGET, EXIT_HALT, EXIT_SHUTDOWN, EXIT_STOP } from '../../contracts/backend.js';
import { IDTR_LIMIT, RAX, RBX, RIP, RUN_STATE, RUN_SHUTDOWN, StateView, gprOffset } from '../../cpu/state.js';
import { cpuidEntries } from '../../cpu/cpuid.js';
import { kvmSkipReason, load, long64State, makeRig, protected32State, realModeState, SERIAL, type Rig } from './rig.js';

let rig: Rig | null = null;
afterEach(() => { rig?.kvm.destroy(); rig = null; });

function state(r: Rig): StateView {
  const s = StateView.detached();
  s.u8.set(r.kvm.getState());
  return s;
}

describe.skipIf(kvmSkipReason !== null)('KVM exits', () => {
  it('real-mode guest: REP OUTSB of "hello" to 0x3F8 reaches the bus, then HLT exits as halt', () => {
    const r = rig = makeRig();
    load(r.memory, 0x1000, [0xbe, 0x00, 0x11, 0xb9, 0x05, 0x00, 0xba, 0xf8, 0x03, 0xfc, 0xf3, 0x6e, 0xf4]);
    load(r.memory, 0x1100, [...'hello'].map((c) => c.charCodeAt(0)));
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.text()).toBe('hello');
    expect(state(r).lo(RIP)).toBe(0x100d); // past the HLT
    expect(r.kvm.counters()['exit.hlt']).toBe(1);
  });

  it('real-mode guest: REP INSB from the serial LSR fills guest memory with what the bus returned', () => {
    const r = rig = makeRig();
    load(r.memory, 0x1000, [0xbf, 0x00, 0x12, 0xb9, 0x04, 0x00, 0xba, 0xfd, 0x03, 0xfc, 0xf3, 0x6c, 0xf4]);
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect([...r.memory.view(0x1200, 5)]).toEqual([0x60, 0x60, 0x60, 0x60, 0]);
  });

  it('32-bit guest: CPUID answers from the model the backend was handed (KvmOptions.cpuid), not one of its own', () => {
    const model = cpuidEntries(0).map((e) => (e.leaf === 0x40000000 ? { ...e, ebx: 0x6b736574 } : e));
    const r = rig = makeRig({ cpuid: model });
    load(r.memory, 0x2000, [0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2, 0xf4]); // mov eax, 0x40000000; cpuid; hlt
    r.kvm.setState(protected32State(r.memory, 0x2000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(state(r).lo(gprOffset(RBX)) >>> 0).toBe(0x6b736574);
    expect(r.kvm.cpuid.find((e) => e.leaf === 0x40000000)?.ebx).toBe(0x6b736574);
  });

  it('32-bit guest: OUT DX,EAX is one 4-byte port write; the ADD after it lands in the exported EAX', () => {
    const r = rig = makeRig();
    load(r.memory, 0x2000, [0xb8, 0x78, 0x56, 0x34, 0x12, 0xba, 0xf8, 0x03, 0x00, 0x00, 0xef, 0x05, 0x01, 0x00, 0x00, 0x00, 0xf4]);
    r.kvm.setState(protected32State(r.memory, 0x2000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.writes).toEqual([[SERIAL, 4, 0x12345678]]);
    expect(state(r).lo(gprOffset(RAX))).toBe(0x12345679);
  });

  it('64-bit guest: MOV RAX,imm64; ROL RAX,8; OUT -> the low byte on the bus and all 64 bits in the state', () => {
    const r = rig = makeRig();
    load(r.memory, 0x3000, [0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x48, 0xc1, 0xc0, 0x08,
      0x66, 0xba, 0xf8, 0x03, 0xee, 0xf4]);
    r.kvm.setState(long64State(r.memory, 0x3000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.out).toEqual([0x11]);
    const s = state(r);
    expect(s.hex64(gprOffset(RAX))).toBe('2233445566778811');
  });

  it('32-bit guest: MMIO above RAM goes to the bus device (write dword, read dword back)', () => {
    const seen: Array<[number, number, number]> = [];
    const r = rig = makeRig({}, 4 << 20, (bus) => bus.registerMmio('probe', 0xd0000000, 0x1000, {
      mmioRead: (off) => 0x5a5a0000 | off,
      mmioWrite: (off, size, v) => { seen.push([off, size, v >>> 0]); },
    }));
    load(r.memory, 0x2000, [0xc7, 0x05, 0x00, 0x00, 0x00, 0xd0, 0xbe, 0xba, 0xfe, 0xca, 0xa1, 0x04, 0x00, 0x00, 0xd0, 0xf4]);
    r.kvm.setState(protected32State(r.memory, 0x2000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(seen).toEqual([[0, 4, 0xcafebabe]]);
    expect(state(r).lo(gprOffset(RAX))).toBe(0x5a5a0004);
    expect(r.kvm.counters()['exit.mmio']).toBe(2);
  });

  it('a device range inside RAM (VGA window at 0xA0000) is a hole: the write reaches the device, not RAM', () => {
    const seen: Array<[number, number, number]> = [];
    const r = rig = makeRig({}, 4 << 20, (bus) => bus.registerMmio('vga', 0xa0000, 0x20000, {
      mmioRead: () => 0,
      mmioWrite: (off, size, v) => { seen.push([off, size, v]); },
    }));
    load(r.memory, 0x2000, [0xc6, 0x05, 0x10, 0x00, 0x0a, 0x00, 0x42, 0xf4]);
    r.kvm.setState(protected32State(r.memory, 0x2000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(seen).toEqual([[0x10, 1, 0x42]]);
    expect(r.memory.u8[0xa0010]).toBe(0);
  });

  it('guest RAM is the wasm buffer itself: a guest store is visible in memory.u8 with no copy', () => {
    const r = rig = makeRig();
    // mov dword [0x5000], 0xdeadbeef ; hlt
    load(r.memory, 0x2000, [0xc7, 0x05, 0x00, 0x50, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde, 0xf4]);
    r.kvm.setState(protected32State(r.memory, 0x2000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect(r.memory.dv.getUint32(0x5000, true)).toBe(0xdeadbeef);
  });

  it('32-bit guest with an empty IDT executes UD2 -> triple fault -> shutdown, and stays shut down', () => {
    const r = rig = makeRig();
    load(r.memory, 0x2000, [0x0f, 0x0b]);
    const s = protected32State(r.memory, 0x2000);
    s.setU32(IDTR_LIMIT, 0);
    r.kvm.setState(s.snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_SHUTDOWN);
    expect(r.kvm.run(50_000_000)).toBe(EXIT_SHUTDOWN);
    expect(state(r).u32(RUN_STATE)).toBe(RUN_SHUTDOWN);
  });

  it('a guest spinning in JMP $ returns after its time slice (the event loop stays responsive)', () => {
    const r = rig = makeRig();
    load(r.memory, 0x1000, [0xeb, 0xfe]);
    r.kvm.setState(realModeState(0x1000).snapshot());
    const t0 = performance.now();
    expect(r.kvm.run(2_000_000)).toBe(EXIT_BUDGET);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(r.kvm.counters().guestNs).toBeGreaterThan(1_000_000);
  });

  it('requestStop() from a port handler returns EXIT_STOP with the IN completed in the exported state', () => {
    const r = rig = makeRig({}, 4 << 20, (bus) => bus.registerPorts('stopper', 0x80, 1, {
      portRead: () => { rig!.kvm.requestStop(); return 0xab; },
      portWrite: () => {},
    }));
    // in al, 0x80 ; hlt
    load(r.memory, 0x1000, [0xe4, 0x80, 0xf4]);
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_STOP);
    const s = state(r);
    expect(s.lo(gprOffset(RAX)) & 0xff).toBe(0xab);
    expect(s.lo(RIP)).toBe(0x1002);
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
  });

  it('A20 gate off: a real-mode store to FFFF:0010 wraps to physical 0; turned on, it reaches 1 MiB', () => {
    let a20 = false;
    const r = rig = makeRig({}, 4 << 20, undefined, () => a20);
    // mov ax, 0xffff; mov es, ax; mov byte [es:0x10], 0x5a; hlt
    const code = [0xb8, 0xff, 0xff, 0x8e, 0xc0, 0x26, 0xc6, 0x06, 0x10, 0x00, 0x5a, 0xf4];
    load(r.memory, 0x1000, code);
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect([r.memory.u8[0], r.memory.u8[0x100000]]).toEqual([0x5a, 0]);
    r.memory.u8[0] = 0;
    a20 = true;
    r.kvm.setState(realModeState(0x1000).snapshot());
    expect(r.kvm.run(50_000_000)).toBe(EXIT_HALT);
    expect([r.memory.u8[0], r.memory.u8[0x100000]]).toEqual([0, 0x5a]);
  });
});
