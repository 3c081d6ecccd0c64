// Byte layouts of the KVM ABI structs the backend reads and writes (x86-64,
// <linux/kvm.h> and <asm/kvm.h>; checked against the headers with offsetof).
// The addon passes these buffers to the ioctls untouched.

// ---- struct kvm_run (the mmap'd page shared with the vCPU).
export const RUN_REQUEST_INTERRUPT_WINDOW = 0; // u8
export const RUN_IMMEDIATE_EXIT = 1; // u8
export const RUN_EXIT_REASON = 8; // u32
export const RUN_READY_FOR_INTERRUPT = 12; // u8
export const RUN_IF_FLAG = 13; // u8
export const RUN_CR8 = 16; // u64
export const RUN_UNION = 32;
// io
export const IO_DIRECTION = 32; // u8: 0 in, 1 out
export const IO_SIZE = 33; // u8
export const IO_PORT = 34; // u16
export const IO_COUNT = 36; // u32
export const IO_DATA_OFFSET = 40; // u64 from the start of kvm_run
export const IO_OUT = 1;
// mmio
export const MMIO_PHYS = 32; // u64
export const MMIO_DATA = 40; // 8 bytes
export const MMIO_LEN = 48; // u32
export const MMIO_IS_WRITE = 52; // u8
// fail_entry
export const FAIL_REASON = 32; // u64 hardware_entry_failure_reason
// internal
export const INTERNAL_SUBERROR = 32; // u32
export const INTERNAL_NDATA = 36; // u32
export const INTERNAL_DATA = 40; // u64[16]
// system_event
export const SYSEVENT_TYPE = 32; // u32
// debug (kvm_debug_exit_arch)
export const DEBUG_EXCEPTION = 32; // u32
export const DEBUG_PC = 40; // u64
export const DEBUG_DR6 = 48; // u64

// Exit reasons (KVM_EXIT_*).
export const EXIT_UNKNOWN = 0, EXIT_EXCEPTION = 1, EXIT_IO = 2, EXIT_HYPERCALL = 3, EXIT_DEBUG = 4, EXIT_HLT = 5,
  EXIT_MMIO = 6, EXIT_IRQ_WINDOW_OPEN = 7, EXIT_SHUTDOWN = 8, EXIT_FAIL_ENTRY = 9, EXIT_INTR = 10,
  EXIT_SET_TPR = 11, EXIT_TPR_ACCESS = 12, EXIT_NMI = 16, EXIT_INTERNAL_ERROR = 17, EXIT_SYSTEM_EVENT = 24,
  EXIT_IOAPIC_EOI = 26;
/** Names for counters; index = KVM_EXIT_* number. */
export const KVM_EXIT_NAMES: Record<number, string> = {
  0: 'unknown', 1: 'exception', 2: 'io', 3: 'hypercall', 4: 'debug', 5: 'hlt', 6: 'mmio', 7: 'irq_window_open',
  8: 'shutdown', 9: 'fail_entry', 10: 'intr', 11: 'set_tpr', 12: 'tpr_access', 16: 'nmi', 17: 'internal_error',
  24: 'system_event', 26: 'ioapic_eoi',
};
export const INTERNAL_EMULATION = 1;
export const INTERNAL_SUBERROR_NAMES: Record<number, string> = {
  1: 'emulation failure', 2: 'simultaneous #PF', 3: 'delivery event failed', 4: 'unexpected exit reason',
};
export const SYSTEM_EVENT_NAMES: Record<number, string> = { 1: 'shutdown', 2: 'reset', 3: 'crash' };

// ---- struct kvm_regs (18 x u64).
export const REGS_SIZE = 144;
/** kvm_regs slot of each GPR in the state record's ModRM order (rax rcx rdx rbx rsp rbp rsi rdi r8..r15). */
export const REGS_GPR_SLOT = [0, 2, 3, 1, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15];
export const REGS_RIP = 16 * 8, REGS_RFLAGS = 17 * 8;

// ---- struct kvm_sregs.
export const SREGS_SIZE = 312;
export const KSEG_SIZE = 24; // struct kvm_segment
export const KSEG_BASE = 0, KSEG_LIMIT = 8, KSEG_SELECTOR = 12, KSEG_TYPE = 14, KSEG_PRESENT = 15, KSEG_DPL = 16,
  KSEG_DB = 17, KSEG_S = 18, KSEG_L = 19, KSEG_G = 20, KSEG_AVL = 21, KSEG_UNUSABLE = 22;
/** kvm_sregs slot of each segment in the state record's order (es cs ss ds fs gs ldtr tr). */
export const SREGS_SEG_SLOT = [2, 0, 5, 1, 3, 4, 7, 6]; // kvm order: cs ds es fs gs ss tr ldt
export const SREGS_GDT = 192, SREGS_IDT = 208; // struct kvm_dtable: base u64, limit u16
export const SREGS_CR0 = 224, SREGS_CR2 = 232, SREGS_CR3 = 240, SREGS_CR4 = 248, SREGS_CR8 = 256,
  SREGS_EFER = 264, SREGS_APIC_BASE = 272, SREGS_INTERRUPT_BITMAP = 280;

// ---- struct kvm_fpu (fallback where KVM_CAP_XSAVE is missing).
export const FPU_SIZE = 416;
export const FPU_FPR = 0, FPU_FCW = 128, FPU_FSW = 130, FPU_FTWX = 132, FPU_LAST_OPCODE = 134, FPU_LAST_IP = 136,
  FPU_LAST_DP = 144, FPU_XMM = 152, FPU_MXCSR = 408;

// ---- struct kvm_xsave: the XSAVE image (legacy FXSAVE area, then the header at 512).
export const XSAVE_SIZE = 4096;
export const XSAVE_HEADER_OFFSET = 512;

// ---- struct kvm_xcrs: nr_xcrs u32, flags u32, xcrs[16] {xcr u32, reserved u32, value u64}.
export const XCRS_SIZE = 392;

// ---- struct kvm_debugregs: db[4] u64, dr6, dr7, flags, reserved[9].
export const DEBUGREGS_SIZE = 128;
export const DEBUGREGS_DR6 = 32, DEBUGREGS_DR7 = 40;

// ---- struct kvm_vcpu_events.
export const EVENTS_SIZE = 64;
export const EV_EXC_INJECTED = 0, EV_EXC_NR = 1, EV_EXC_HAS_ERROR = 2, EV_EXC_PENDING = 3, EV_EXC_ERROR = 4,
  EV_INT_INJECTED = 8, EV_INT_NR = 9, EV_INT_SOFT = 10, EV_INT_SHADOW = 11,
  EV_NMI_INJECTED = 12, EV_NMI_PENDING = 13, EV_NMI_MASKED = 14, EV_SIPI = 16, EV_FLAGS = 20;
export const VCPUEVENT_VALID_NMI_PENDING = 1, VCPUEVENT_VALID_SIPI_VECTOR = 2, VCPUEVENT_VALID_SHADOW = 4;
/** KVM's interrupt-shadow bits (note: the reverse of the state record's SHADOW_STI/SHADOW_MOV_SS). */
export const KVM_SHADOW_MOV_SS = 1, KVM_SHADOW_STI = 2;

// ---- struct kvm_mp_state.
export const MP_STATE_RUNNABLE = 0, MP_STATE_UNINITIALIZED = 1, MP_STATE_HALTED = 3;

// ---- struct kvm_msrs: nmsrs u32, pad u32, entries[] {index u32, reserved u32, data u64}.
export const MSR_ENTRY_SIZE = 16;

// ---- struct kvm_cpuid2: nent u32, padding u32, entries[] kvm_cpuid_entry2
// {function, index, flags, eax, ebx, ecx, edx, padding[3]} (40 bytes).
export const CPUID_ENTRY_SIZE = 40;
export const CPUID_FLAG_SIGNIFCANT_INDEX = 1;

// ---- struct kvm_guest_debug: control u32, pad u32, debugreg[8] u64.
export const GUEST_DEBUG_SIZE = 72;
export const GUESTDBG_ENABLE = 1, GUESTDBG_SINGLESTEP = 2;

// ---- struct kvm_lapic_state (opaque to us) and struct kvm_interrupt.
export const LAPIC_SIZE = 1024;

// ---- struct kvm_irq_routing: nr u32, flags u32, entries[] kvm_irq_routing_entry
// {gsi u32, type u32, flags u32, pad u32, u: {irqchip u32, pin u32, pad...}} (48 bytes).
export const ROUTING_ENTRY_SIZE = 48;
export const IRQ_ROUTING_IRQCHIP = 1;
export const IRQCHIP_PIC_MASTER = 0, IRQCHIP_PIC_SLAVE = 1, IRQCHIP_IOAPIC = 2;

// ---- Capabilities (KVM_CAP_*).
export const CAP_IRQCHIP = 0, CAP_USER_MEMORY = 3, CAP_SET_TSS_ADDR = 4, CAP_MP_STATE = 14,
  CAP_SET_GUEST_DEBUG = 23, CAP_PIT2 = 33, CAP_VCPU_EVENTS = 41, CAP_DEBUGREGS = 50, CAP_XSAVE = 55,
  CAP_XCRS = 56, CAP_IMMEDIATE_EXIT = 136, CAP_IRQ_ROUTING = 25;
