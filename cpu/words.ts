// Word indices into the state record (Int32Array, index = byte offset / 4) and
// lazy-flag codes that the hot paths use. They are a const enum so esbuild
// inlines them as literals wherever they are used (plain module constants are
// only inlined when minifying); the named exports are for everything else.
// test/cpu/words.test.ts checks them against cpu/state.ts and cpu/flags.ts.

export const enum W {
  /** RIP and RFLAGS (low halves). */
  W_RIP = 0x20, W_RFLAGS = 0x22,
  /** Lazy-flag fields (SCRATCH / 4 onwards): op, result, operand a, operand b, each with its high half. */
  LF_OP = 0x200, LF_RES = 0x201, LF_RESHI = 0x202, LF_A = 0x203, LF_AHI = 0x204, LF_B = 0x205, LF_BHI = 0x206,
  /** SS.base and CS.base (low halves). */
  W_SSBASE = 0x54, W_CSBASE = 0x4c,
  /** Control, debug and descriptor-table registers (low halves; DR n is W_DR0 + 2n). */
  W_CR0 = 0x24, W_CR2 = 0x26, W_CR3 = 0x28, W_CR4 = 0x2a, W_EFER = 0x2e, W_XCR0 = 0x30, W_DR0 = 0x32, W_DR6 = 0x3a, W_DR7 = 0x3c,
  W_GDTR_BASE = 0x80, W_GDTR_LIMIT = 0x82, W_IDTR_BASE = 0x84, W_IDTR_LIMIT = 0x86,
  /** Pending-event words: run state, interrupt shadow, NMI pending, NMIs masked, the half-delivered event and its error code. */
  W_RUN = 0xe0, W_SHADOW = 0xe1, W_NMI = 0xe2, W_NMI_MASKED = 0xe3, W_PENDING_EVENT = 0xe4, W_PENDING_ERROR = 0xe5,
  /** The GPRs' low halves (GPR n is words 2n, 2n + 1). */
  W_RAX = 0, W_RCX = 2, W_RDX = 4, W_RBX = 6, W_RSP = 8, W_RBP = 10, W_RSI = 12, W_RDI = 14, W_R11 = 22,
  /** Lazy-flag op codes (kind << 2 | size code) of the fast paths. */
  LF_ADD32 = 6, LF_SUB32 = 14, LF_LOGIC32 = 22, LF_ADD64 = 7, LF_SUB64 = 15, LF_LOGIC64 = 23,
  LF_SHL32 = 34, LF_SHR32 = 38, LF_SAR32 = 42, LF_SHL64 = 35, LF_SHR64 = 39, LF_SAR64 = 43,
  /** RFLAGS bits the fast paths test. */
  ZF_BIT = 0x40,
}

export const W_RIP = W.W_RIP,
  W_RFLAGS = W.W_RFLAGS,
  LF_OP = W.LF_OP,
  LF_RES = W.LF_RES,
  LF_RESHI = W.LF_RESHI,
  LF_A = W.LF_A,
  LF_AHI = W.LF_AHI,
  LF_B = W.LF_B,
  LF_BHI = W.LF_BHI,
  W_SSBASE = W.W_SSBASE,
  W_CSBASE = W.W_CSBASE,
  W_CR0 = W.W_CR0,
  W_CR2 = W.W_CR2,
  W_CR3 = W.W_CR3,
  W_CR4 = W.W_CR4,
  W_EFER = W.W_EFER,
  W_XCR0 = W.W_XCR0,
  W_DR0 = W.W_DR0,
  W_DR6 = W.W_DR6,
  W_DR7 = W.W_DR7,
  W_GDTR_BASE = W.W_GDTR_BASE,
  W_GDTR_LIMIT = W.W_GDTR_LIMIT,
  W_IDTR_BASE = W.W_IDTR_BASE,
  W_IDTR_LIMIT = W.W_IDTR_LIMIT,
  W_RUN = W.W_RUN,
  W_SHADOW = W.W_SHADOW,
  W_NMI = W.W_NMI,
  W_NMI_MASKED = W.W_NMI_MASKED,
  W_PENDING_EVENT = W.W_PENDING_EVENT,
  W_PENDING_ERROR = W.W_PENDING_ERROR,
  W_RAX = W.W_RAX,
  W_RCX = W.W_RCX,
  W_RDX = W.W_RDX,
  W_RBX = W.W_RBX,
  W_RSP = W.W_RSP,
  W_RBP = W.W_RBP,
  W_RSI = W.W_RSI,
  W_RDI = W.W_RDI,
  W_R11 = W.W_R11,
  LF_ADD32 = W.LF_ADD32,
  LF_SUB32 = W.LF_SUB32,
  LF_LOGIC32 = W.LF_LOGIC32,
  LF_ADD64 = W.LF_ADD64,
  LF_SUB64 = W.LF_SUB64,
  LF_LOGIC64 = W.LF_LOGIC64,
  LF_SHL32 = W.LF_SHL32,
  LF_SHR32 = W.LF_SHR32,
  LF_SAR32 = W.LF_SAR32,
  LF_SHL64 = W.LF_SHL64,
  LF_SHR64 = W.LF_SHR64,
  LF_SAR64 = W.LF_SAR64,
  ZF_BIT = W.ZF_BIT;
