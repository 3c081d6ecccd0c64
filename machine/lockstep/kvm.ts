// The lockstep oracle: KVM single-steps (KVM_SET_GUEST_DEBUG SINGLESTEP) and
// another backend (the interpreter or the JIT) steps from the same state, on
// its own copy of memory; after every instruction both state records are
// compared, with the flags the instruction leaves undefined masked, and the
// run stops at the first divergence with the instruction and both states.

import type { Backend, ExitReason } from '../../contracts/backend.js';
import { EXIT_BUDGET, EXIT_ERROR, EXIT_HALT, EXIT_SHUTDOWN, EXIT_STOP } from '../../contracts/backend.js';
import {
  FLAG_RF, RCX, RFLAGS, RIP, StateView, TSC, XSAVE_HEADER, gprOffset,
  FX_MXCSR_MASK, FX_FOP, FX_FIP, FX_FDP, FX_FSW, FX_FTW, FX_ST0, FLAG_IF, INT_SHADOW, SHADOW_STI,
} from '../../cpu/state.js';
import type { GuestMemory } from '../../mmu/memory.js';
import type { KvmBackend } from '../../accel-kvm/kvm-backend.js';
import { undefinedBy } from './flags.js';
import { codeSizeOf, describeState, diffMemory, diffStates, disassembleCount, memoryEqual, ripLinear } from './report.js';

export { describeState, fieldName } from './report.js';

export interface LockstepSide {
  backend: Backend;
  memory: GuestMemory;
}

/** The most instructions a late single-step trap has been seen to skip (kvm_pvm after IRET). */
const MAX_LATE = 3;

export interface LockstepOptions {
  /** Stop after this many instructions (default 1e6). */
  maxSteps?: number;
  /** Physical ranges compared after every step (the random programs' scratch and stack pages). */
  watch?: ReadonlyArray<readonly [number, number]>;
  /** Compare all of RAM every this many steps, and at the end (default 4096; 0 = never). */
  fullMemoryEvery?: number;
  /** How many late single-step traps to tolerate (default 1000; 0 = report them as divergences). */
  lateTraps?: number;
  /**
   * Called before every step (the machine lockstep advances both boards' timers here);
   * returning a string ends the run with that as the reason (a board that powered off).
   */
  beforeStep?: () => string | void;
  /**
   * The sides are still in step from an earlier run that stopped at max-steps: go on without
   * copying KVM's RAM and state to the other side (a copy would carry KVM's leaked single-step
   * TF bytes across, and costs a whole RAM copy).
   */
  continuing?: boolean;
  /** Turn instruction bytes into text (the interpreter's disassembler); default: hex bytes. */
  disassemble?: (bytes: Uint8Array, codeSize: 2 | 4 | 8, rip: number) => string;
}

export interface Divergence {
  /** Instructions both sides had executed before the one that diverged. */
  step: number;
  rip: number;
  codeSize: 2 | 4 | 8;
  bytes: Uint8Array;
  disassembly: string;
  /** "field: kvm X, other Y" lines. */
  diffs: string[];
  /** Both states after the instruction (masked as compared). */
  kvm: Uint8Array;
  other: Uint8Array;
  /** The whole story, ready to print. */
  report: string;
}

export interface LockstepResult {
  steps: number;
  /** Why the run ended: 'halt', 'max-steps', 'shutdown', 'divergence', 'error: ...'. */
  end: string;
  divergence: Divergence | null;
  /** Steps after which the other side took over KVM's value of an undefined flag or register. */
  undefinedSynced: number;
  /** Single-step traps KVM delivered one instruction late (the other side caught up). */
  lateTraps: number;
  /** Bytes of KVM's RAM where a pushed RFLAGS carried the single-step TF (repaired). */
  tfRepairs: number;
}

/**
 * Bytes never compared: the TSC keeps counting, MXCSR_MASK and the XSAVE header are reported by
 * the host, and the x87 last-instruction pointers FOP/FIP/FCS/FDP/FDS: an AMD host's FXSAVE
 * stores them only while an x87 exception is pending, and the interpreter does not track them.
 */
const IGNORED: ReadonlyArray<readonly [number, number]> = [[TSC, 8], [FX_MXCSR_MASK, 4], [XSAVE_HEADER, 64], [FX_FOP, 2], [FX_FIP, 8], [FX_FDP, 8]];

/**
 * Zero the saved contents of x87 registers tagged empty: no instruction can read them (only
 * FXSAVE/FSAVE show them), and a host whose XSAVE finds the x87 state in its initial
 * configuration (after FNINIT) reports them as zeros while the interpreter keeps the old bits.
 */
function maskEmptyX87(s: StateView): void {
  const top = (s.u32(FX_FSW) >> 11) & 7, tags = s.u8[FX_FTW];
  for (let i = 0; i < 8; i++) if ((tags & (1 << ((top + i) & 7))) === 0) s.u8.fill(0, FX_ST0 + i * 16, FX_ST0 + i * 16 + 10);
}

/** HLT after any legacy prefixes. */
function isHlt(code: Uint8Array): boolean {
  let i = 0;
  while (i < 14 && [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65].includes(code[i])) i++;
  return code[i] === 0xf4;
}

/** A REP/REPNE string instruction: KVM's single-step traps after every iteration of it. */
function isRepString(code: Uint8Array, codeSize: number): boolean {
  let i = 0, rep = false;
  for (; i < 14; i++) {
    const b = code[i];
    if (b === 0xf2 || b === 0xf3) rep = true;
    else if (![0x66, 0x67, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65].includes(b)) break;
  }
  if (codeSize === 8 && (code[i] & 0xf0) === 0x40) i++;
  const op = code[i];
  return rep && ((op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf));
}

/**
 * KVM single-steps by setting TF in the guest's RFLAGS, so an interrupt or exception delivered
 * during a step pushes RFLAGS with TF set. Where RAM differs only in such a bit (bit 8 of a
 * value whose bit 1, the always-one flag, is set), the interpreter's byte is right: copy it
 * into KVM's RAM. Returns how many bytes were fixed.
 */
function repairLeakedTf(kvm: GuestMemory, other: GuestMemory): number {
  let fixed = 0;
  const n = Math.min(kvm.ramSize, other.ramSize);
  const x = new Int32Array(kvm.buffer, 0, n >>> 2), y = new Int32Array(other.buffer, 0, n >>> 2);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === y[i]) continue;
    for (let b = i * 4; b < i * 4 + 4; b++) {
      if ((kvm.u8[b] ^ other.u8[b]) === 0x01 && (kvm.u8[b] & 1) !== 0 && b > 0 && (kvm.u8[b - 1] & 0x02) !== 0) {
        kvm.u8[b] = other.u8[b];
        fixed++;
      }
    }
  }
  return fixed;
}

/**
 * One whole instruction on a single-stepping KVM vCPU (`bytes` at linear `at`):
 * a REP string instruction is stepped until RIP leaves it. `scratch` is clobbered.
 */
function stepWhole(k: KvmBackend, bytes: Uint8Array, size: 2 | 4 | 8, at: number, scratch: StateView): ExitReason {
  const hlt = isHlt(bytes);
  // Halted since an earlier HLT with nothing to wake it: stay halted (not a spurious report).
  const wasHalted = k.isHalted();
  let e = k.step(hlt);
  if (wasHalted && e === EXIT_HALT) return e;
  // A host's spurious halt report (see KvmBackend.cancelHalt): forget it, and if the instruction
  // did not run (the host still thought the vCPU halted), step again.
  for (let tries = 0; e === EXIT_HALT && !hlt && tries < 4; tries++) {
    k.cancelHalt();
    scratch.u8.set(k.getState());
    if (ripLinear(scratch) !== at || tries === 3) { e = EXIT_BUDGET; break; }
    e = k.step(false, true);
  }
  if (!isRepString(bytes, size)) return e;
  for (let n = 0; n < 1 << 20 && e !== EXIT_ERROR && e !== EXIT_SHUTDOWN && e !== EXIT_HALT; n++) {
    scratch.u8.set(k.getState());
    if (ripLinear(scratch) !== at) break;
    e = k.step(false, true);
  }
  return e;
}

/** A second KVM vCPU as the "other" side (checks the oracle itself): each run() is one single-step. */
export function kvmStepper(kvm: KvmBackend, memory: GuestMemory): Backend {
  kvm.setSingleStep(true);
  const s = StateView.detached(), code = new Uint8Array(16);
  return {
    name: 'kvm',
    run: () => {
      s.u8.set(kvm.getState());
      const rip = ripLinear(s);
      for (let i = 0; i < 16; i++) code[i] = rip + i < memory.ramSize ? memory.u8[rip + i] : 0;
      return stepWhole(kvm, code, codeSizeOf(s), rip, s);
    },
    requestStop: () => kvm.requestStop(),
    getState: () => kvm.getState(),
    setState: (s) => kvm.setState(s),
    nmi: () => kvm.nmi(),
    instructions: () => kvm.instructions(),
    counters: () => kvm.counters(),
    get lastError() { return kvm.lastError; },
    destroy: () => kvm.destroy(),
  };
}

/**
 * Step `kvm` and `other` one instruction at a time from the state `kvm` holds
 * now (copied to `other`, with RAM). Both sides must have their own memory.
 */
export function runLockstep(kvm: LockstepSide & { backend: KvmBackend }, other: LockstepSide, opts: LockstepOptions = {}): LockstepResult {
  const maxSteps = opts.maxSteps ?? 1e6;
  const fullEvery = opts.fullMemoryEvery ?? 4096;
  const watch = opts.watch ?? [];
  const k = kvm.backend, o = other.backend;
  if (!opts.continuing) {
    other.memory.u8.set(kvm.memory.u8.subarray(0, kvm.memory.ramSize));
    o.setState(k.getState());
    o.invalidateCode?.();
  }
  k.setSingleStep(true);
  const before = StateView.detached(), after = StateView.detached(), sa = StateView.detached(), sb = StateView.detached();
  const code = new Uint8Array(16), tail = new Uint8Array(16), mid = StateView.detached();
  let steps = 0, synced = 0, lateTraps = 0, tfRepairs = 0;
  const maxLate = opts.lateTraps ?? 1000;
  let end = 'max-steps';
  let divergence: Divergence | null = null;
  try {
    before.u8.set(k.getState());
    while (steps < maxSteps) {
      const codeSize = codeSizeOf(before);
      const rip = ripLinear(before);
      for (let i = 0; i < 16; i++) code[i] = rip + i < kvm.memory.ramSize ? kvm.memory.u8[rip + i] : 0;
      let undef = undefinedBy(code, codeSize, before.lo(gprOffset(RCX)) & 0xff);
      const stop = opts.beforeStep?.();
      if (stop) { end = stop; break; }
      const otherBefore = o.instructions();
      let ek = stepWhole(k, code, codeSize, rip, mid);
      const eo = o.run(1);
      const ran = o.instructions() - otherBefore;
      // A backend that cannot stop after one instruction ran a whole block: KVM catches up
      // instruction by instruction and the states are compared at the block's end.
      for (let j = 1; j < ran && ek !== EXIT_ERROR && ek !== EXIT_HALT && ek !== EXIT_SHUTDOWN; j++) {
        mid.u8.set(k.getState());
        const at = ripLinear(mid);
        for (let i = 0; i < 16; i++) tail[i] = at + i < kvm.memory.ramSize ? kvm.memory.u8[at + i] : 0;
        // Over a block the undefined flags of every instruction are masked (a later instruction
        // may have defined them again: block mode is coarser than single-stepping).
        const u = undefinedBy(tail, codeSizeOf(mid), mid.lo(gprOffset(RCX)) & 0xff);
        undef = { flags: undef.flags | u.flags, gprIfZeroSource: u.gprIfZeroSource, gprAlways: u.gprAlways, hostGprs: undef.hostGprs | u.hostGprs };
        ek = stepWhole(k, tail, codeSizeOf(mid), at, mid);
      }
      if (ek === EXIT_ERROR || eo === EXIT_ERROR) {
        end = `error: ${ek === EXIT_ERROR ? `kvm: ${k.lastError}` : `other: ${o.lastError}`}`;
        break;
      }
      sa.u8.set(k.getState());
      let otherRaw = o.getState();
      sb.u8.set(otherRaw);
      after.u8.set(sa.u8); // the next instruction starts here (unmasked)
      steps += Math.max(ran, 1);
      // Mask what the instruction leaves undefined (and what is never compared) on both sides.
      for (const s of [sa, sb]) {
        for (const [off, len] of IGNORED) s.u8.fill(0, off, off + len);
        s.setU32(RFLAGS, s.lo(RFLAGS) & ~(undef.flags | FLAG_RF));
        maskEmptyX87(s);
      }
      const zf = (sa.lo(RFLAGS) & 0x40) !== 0;
      const gpr = undef.gprAlways >= 0 ? undef.gprAlways : zf ? undef.gprIfZeroSource : -1;
      // GPRs to take from KVM: an undefined result, or a host-defined one (CPUID, RDTSC).
      const takeGprs = undef.hostGprs | (gpr >= 0 ? 1 << gpr : 0);
      for (let n = 0; n < 16; n++) if (takeGprs & (1 << n)) for (const s of [sa, sb]) s.set64(gprOffset(n), 0, 0);
      // STI with IF already set blocks nothing architecturally (SDM: only when IF was 0), yet KVM's
      // instruction emulator reports the STI shadow anyway: not compared, and handed over.
      const stiQuirk = code[0] === 0xfb && ran <= 1 && (before.lo(RFLAGS) & FLAG_IF) !== 0;
      if (stiQuirk) for (const s of [sa, sb]) s.setU32(INT_SHADOW, s.u32(INT_SHADOW) & ~SHADOW_STI);
      let diffs = diffStates(sa, sb);
      if (diffs.length > 0 && ran <= 1 && sa.lo(RIP) !== sb.lo(RIP) && lateTraps < maxLate) {
        // Some hosts deliver the single-step trap late (kvm_pvm after an emulated IRET, by up to
        // a few instructions), and a step that injects an interrupt also runs the handler's first
        // instruction, where the other side's step is the delivery alone: if up to MAX_LATE more
        // instructions on the other side reach KVM's state, go on from there.
        let flags = undef.flags, caught = 0;
        for (let extra = 1; extra <= MAX_LATE && caught === 0; extra++) {
          const raw1 = new StateView(otherRaw.buffer);
          const at = ripLinear(raw1);
          for (let i = 0; i < 16; i++) tail[i] = at + i < other.memory.ramSize ? other.memory.u8[at + i] : 0;
          flags |= undefinedBy(tail, codeSizeOf(raw1), raw1.lo(gprOffset(RCX)) & 0xff).flags;
          if (o.run(1) !== EXIT_BUDGET) break;
          otherRaw = o.getState();
          const sb2 = new StateView(otherRaw.buffer.slice(0)), sa2 = StateView.detached();
          sa2.u8.set(after.u8);
          for (const st of [sa2, sb2]) {
            for (const [off, len] of IGNORED) st.u8.fill(0, off, off + len);
            st.setU32(RFLAGS, st.lo(RFLAGS) & ~(flags | FLAG_RF));
            maskEmptyX87(st);
          }
          if (diffStates(sa2, sb2).length === 0) caught = extra;
        }
        if (caught > 0) {
          lateTraps++;
          // The caught-up instructions' undefined flags are handed over below with the rest.
          undef = { ...undef, flags };
          k.countExtra(caught); // keeps both sides' instruction counts (and deterministic clocks) equal
          diffs = [];
        } else {
          diffs.unshift(`(up to ${MAX_LATE} more instructions on the other side do not reach KVM's state either)`);
        }
      }
      if (ran > 1 && diffs.length > 0) diffs.unshift(`(compared at the end of a block of ${ran} instructions starting here: the other backend cannot single-step)`);
      for (const [start, len] of watch) if (diffs.length === 0) diffs = diffMemory(kvm.memory, other.memory, start, len);
      if (diffs.length === 0 && fullEvery > 0 && steps % fullEvery === 0 && !memoryEqual(kvm.memory, other.memory)) {
        tfRepairs += repairLeakedTf(kvm.memory, other.memory);
        diffs = diffMemory(kvm.memory, other.memory, 0, kvm.memory.ramSize);
      }
      if (diffs.length > 0) {
        const bytes = ran > 1 ? kvm.memory.u8.slice(rip, Math.min(rip + 64 * 15, kvm.memory.ramSize)) : code.slice(0, 15);
        const disassembly = opts.disassemble ? opts.disassemble(bytes, codeSize, rip) : disassembleCount(bytes, codeSize, rip, Math.max(ran, 1));
        const report = [
          `lockstep: divergence after ${steps - Math.max(ran, 1)} matching instructions, at rip ${before.hex64(RIP)} (${codeSize * 8}-bit code)`,
          `  ${ran > 1 ? 'block' : 'instruction'}:\n    ${disassembly}`,
          ...diffs.map((d) => `  ${d}`),
          'state before:', describeState(before),
          'kvm after:', describeState(sa),
          'other after:', describeState(sb),
        ].join('\n');
        divergence = { step: steps - Math.max(ran, 1), rip, codeSize, bytes, disassembly, diffs, kvm: sa.snapshot(), other: sb.snapshot(), report };
        end = 'divergence';
        break;
      }
      // What the hardware chose for undefined results becomes the other side's too, so a later
      // instruction that reads it (LAHF, PUSHF, SETcc, ADC, ...) compares like with like.
      if (undef.flags !== 0 || takeGprs !== 0 || stiQuirk) {
        const raw = new StateView(otherRaw.buffer);
        let changed = false;
        if (stiQuirk && raw.u32(INT_SHADOW) !== after.u32(INT_SHADOW)) {
          raw.setU32(INT_SHADOW, after.u32(INT_SHADOW));
          changed = true;
        }
        const kf = after.lo(RFLAGS), of = raw.lo(RFLAGS);
        if (((kf ^ of) & undef.flags) !== 0) {
          raw.setU32(RFLAGS, (of & ~undef.flags) | (kf & undef.flags));
          changed = true;
        }
        for (let n = 0; n < 16; n++) {
          const g = gprOffset(n);
          if ((takeGprs & (1 << n)) !== 0 && (raw.lo(g) !== after.lo(g) || raw.hi(g) !== after.hi(g))) {
            raw.set64(g, after.lo(g), after.hi(g));
            changed = true;
          }
        }
        if (changed) {
          o.setState(otherRaw);
          synced++;
        }
      }
      if (ek === EXIT_HALT || eo === EXIT_HALT) { end = 'halt'; break; }
      if (ek === EXIT_SHUTDOWN || eo === EXIT_SHUTDOWN) { end = 'shutdown'; break; }
      if (ek === EXIT_STOP || eo === EXIT_STOP) { end = 'stopped'; break; }
      before.u8.set(after.u8);
    }
    if (end === 'halt' && fullEvery > 0 && !memoryEqual(kvm.memory, other.memory)) tfRepairs += repairLeakedTf(kvm.memory, other.memory);
    if (end === 'halt' && fullEvery > 0 && !memoryEqual(kvm.memory, other.memory)) {
      const diffs = diffMemory(kvm.memory, other.memory, 0, kvm.memory.ramSize);
      const report = ['lockstep: memory differs at the end of the run', ...diffs.map((d) => `  ${d}`)].join('\n');
      divergence = { step: steps, rip: 0, codeSize: 4, bytes: new Uint8Array(0), disassembly: '', diffs, kvm: sa.snapshot(), other: sb.snapshot(), report };
      end = 'divergence';
    }
  } finally {
    k.setSingleStep(false);
  }
  return { steps, end, divergence, undefinedSynced: synced, lateTraps, tfRepairs };
}
