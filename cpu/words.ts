// Word indices into the state record (Int32Array, index = byte offset / 4) and
// lazy-flag codes that the hot paths use, as literals in a module with no
// imports: the bundler inlines such constants across modules (it does not
// for modules that import others). test/cpu/words.test.ts checks them against
// cpu/state.ts and cpu/flags.ts.

/** RIP and RFLAGS (low halves). */
export const W_RIP = 0x20, W_RFLAGS = 0x22;
/** Lazy-flag fields (SCRATCH / 4 onwards): op, result, operand a, operand b, each with its high half. */
export const LF_OP = 0x200, LF_RES = 0x201, LF_RESHI = 0x202, LF_A = 0x203, LF_AHI = 0x204, LF_B = 0x205, LF_BHI = 0x206;
/** SS.base (low half) and RSP. */
export const W_SSBASE = 0x54, W_RSP = 8;
/** Lazy-flag op codes (kind << 2 | size code) of the fast paths. */
export const LF_ADD32 = 6, LF_SUB32 = 14, LF_LOGIC32 = 22, LF_ADD64 = 7, LF_SUB64 = 15, LF_LOGIC64 = 23;
export const LF_SHL32 = 34, LF_SHR32 = 38, LF_SAR32 = 42, LF_SHL64 = 35, LF_SHR64 = 39, LF_SAR64 = 43;
/** RFLAGS bits the fast paths test. */
export const ZF_BIT = 0x40;
