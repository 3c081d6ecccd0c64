/* x87 vectors: each instruction runs on the host with ST0 = a, ST1 = b, FCW = ctl and
 * (memory forms) the operand in c; the whole FPU state is then captured with FNSAVE,
 * which does not wait, so unmasked exceptions leave their state visible without a trap.
 * Names are the opcode bytes ("D8C1", or "D8/4m" for a memory form with ModRM.reg 4). */
#include "common.h"

static void save_x87(rec_t *r, const uint8_t *env, uint64_t fl) {
  uint16_t fsw, ftw; memcpy(&fsw, env + 4, 2); memcpy(&ftw, env + 8, 2);
  r->st = fsw | (uint32_t)ftw << 16;
  memcpy(r->o, env + 28, 10); memcpy(r->o + 10, env + 38, 10); memcpy(r->o + 20, env + 48, 10);
  r->fl = (uint32_t)fl & 0x8d5;
}

#define X87(FN, INSN)                                                                     \
  static void FN(rec_t *r) {                                                              \
    uint8_t env[108]; uint64_t fl, flin = 0x202 | (r->imm & 0x45);                         \
    uint16_t cw = (uint16_t)r->ctl;                                                       \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t"                 \
                     "pushq %[flin]\n\tpopfq\n\t" INSN                                       \
                     "\n\tpushfq\n\tpopq %[fl]\n\tfnsave %[env]\n"                          \
                     : [env] "=m"(env), [fl] "=r"(fl), [mo] "+m"(*(uint8_t(*)[16])r->m)      \
                     : [cw] "m"(cw), [flin] "r"(flin), [a] "m"(*(uint8_t(*)[10])r->a),     \
                       [b] "m"(*(uint8_t(*)[10])r->b), [c] "m"(*(uint8_t(*)[16])r->c)      \
                     : "memory", "cc");                                                   \
    save_x87(r, env, fl);                                                                 \
  }

/* register forms as raw bytes so no assembler operand-order quirk can swap them */
#define XR(B1, B2) X87(x_##B1##B2, ".byte 0x" #B1 ", 0x" #B2)
XR(D8,C1) XR(D8,C9) XR(D8,D1) XR(D8,D9) XR(D8,E1) XR(D8,E9) XR(D8,F1) XR(D8,F9)
XR(DC,C1) XR(DC,C9) XR(DC,E1) XR(DC,E9) XR(DC,F1) XR(DC,F9)
XR(DE,C1) XR(DE,C9) XR(DE,E1) XR(DE,E9) XR(DE,F1) XR(DE,F9) XR(DE,D9)
XR(DD,E1) XR(DD,E9) XR(DA,E9) XR(DB,F1) XR(DB,E9) XR(DF,F1) XR(DF,E9)
XR(D9,C9) XR(D9,E0) XR(D9,E1) XR(D9,E4) XR(D9,E5) XR(D9,FA) XR(D9,FC) XR(D9,FD) XR(D9,F4)
XR(D9,F8) XR(D9,F5) XR(D9,F0) XR(D9,F1) XR(D9,F9) XR(D9,F2) XR(D9,F3) XR(D9,FB) XR(D9,FE) XR(D9,FF)
XR(D9,E8) XR(D9,E9) XR(D9,EA) XR(D9,EB) XR(D9,EC) XR(D9,ED) XR(D9,EE)
XR(DD,D1) XR(DD,D9) XR(D9,C1) XR(DD,C1) XR(D9,F6) XR(D9,F7)
XR(DA,C1) XR(DA,C9) XR(DA,D1) XR(DA,D9) XR(DB,C1) XR(DB,C9) XR(DB,D1) XR(DB,D9)

/* memory forms: the operand is c, a store's result lands in m */
#define XM(FN, INSN) X87(FN, INSN " %[c]")
#define XS(FN, INSN) X87(FN, INSN " %[mo]")
XM(m_D8_0, "fadds") XM(m_D8_1, "fmuls") XM(m_D8_2, "fcoms") XM(m_D8_3, "fcomps")
XM(m_D8_4, "fsubs") XM(m_D8_5, "fsubrs") XM(m_D8_6, "fdivs") XM(m_D8_7, "fdivrs")
XM(m_DC_0, "faddl") XM(m_DC_1, "fmull") XM(m_DC_2, "fcoml") XM(m_DC_3, "fcompl")
XM(m_DC_4, "fsubl") XM(m_DC_5, "fsubrl") XM(m_DC_6, "fdivl") XM(m_DC_7, "fdivrl")
XM(m_DA_0, "fiaddl") XM(m_DA_1, "fimull") XM(m_DA_2, "ficoml") XM(m_DA_3, "ficompl")
XM(m_DA_4, "fisubl") XM(m_DA_5, "fisubrl") XM(m_DA_6, "fidivl") XM(m_DA_7, "fidivrl")
XM(m_DE_0, "fiadds") XM(m_DE_1, "fimuls") XM(m_DE_2, "ficoms") XM(m_DE_3, "ficomps")
XM(m_DE_4, "fisubs") XM(m_DE_5, "fisubrs") XM(m_DE_6, "fidivs") XM(m_DE_7, "fidivrs")
XM(m_D9_0, "flds") XM(m_DD_0, "fldl") XM(m_DB_5, "fldt") XM(m_DF_5, "fildll") XM(m_DB_0, "fildl")
XM(m_DF_0, "filds") XM(m_DF_4, "fbld")
XS(m_D9_2, "fsts") XS(m_D9_3, "fstps") XS(m_DD_2, "fstl") XS(m_DD_3, "fstpl") XS(m_DB_7, "fstpt")
XS(m_DB_2, "fistl") XS(m_DB_3, "fistpl") XS(m_DF_2, "fists") XS(m_DF_3, "fistps") XS(m_DF_7, "fistpll")
XS(m_DB_1, "fisttpl") XS(m_DD_1, "fisttpll") XS(m_DF_1, "fisttps") XS(m_DF_6, "fbstp")

/* operand kinds for the memory forms */
enum { M_NONE, M_F32, M_F64, M_F80, M_I16, M_I32, M_I64, M_BCD };

static void gen_mem(uint8_t *c, int kind) {
  memset(c, 0, 16);
  switch (kind) {
    case M_F32: { uint32_t v = gen_f32_bits(); memcpy(c, &v, 4); break; }
    case M_F64: { uint64_t v = gen_f64_bits(); memcpy(c, &v, 8); break; }
    case M_F80: gen_ext_any(c); break;
    case M_I16: case M_I32: case M_I64: {
      uint64_t v = rnd64();
      switch (rndn(5)) { case 0: v = 0; break; case 1: v = rndn(100) - 50; break; case 2: v >>= rndn(64); break;
        case 3: v = (uint64_t)1 << rndn(64); if (rndn(2)) v = -v; break; }
      memcpy(c, &v, kind == M_I16 ? 2 : kind == M_I32 ? 4 : 8); break;
    }
    case M_BCD: {
      int nd = rndn(19);
      for (int i = 0; i < 9; i++) {
        int lo = 2 * i < nd ? rndn(10) : 0, hi = 2 * i + 1 < nd ? rndn(10) : 0;
        c[i] = (uint8_t)(lo | hi << 4);
      }
      c[9] = rndn(2) ? 0x80 : 0; break;
    }
  }
}

typedef struct { const char *name; void (*fn)(rec_t *); int mem; int n; } x87_case_t;
#define R(B1, B2, N) { #B1 #B2, x_##B1##B2, M_NONE, N }
#define M(B, REG, K, N) { #B "/" #REG "m", m_##B##_##REG, K, N }
static const x87_case_t X87_CASES[] = {
  R(D8,C1,1500), R(D8,C9,1500), R(D8,D1,400), R(D8,D9,300), R(D8,E1,1500), R(D8,E9,600), R(D8,F1,1500), R(D8,F9,600),
  R(DC,C1,300), R(DC,C9,300), R(DC,E1,300), R(DC,E9,300), R(DC,F1,300), R(DC,F9,300),
  R(DE,C1,300), R(DE,C9,300), R(DE,E1,300), R(DE,E9,300), R(DE,F1,300), R(DE,F9,300), R(DE,D9,300),
  R(DD,E1,300), R(DD,E9,300), R(DA,E9,300), R(DB,F1,300), R(DB,E9,300), R(DF,F1,300), R(DF,E9,300),
  R(D9,C9,100), R(D9,E0,200), R(D9,E1,200), R(D9,E4,300), R(D9,E5,400), R(D9,FA,1500), R(D9,FC,800), R(D9,FD,800), R(D9,F4,500),
  R(D9,F8,800), R(D9,F5,800), R(D9,F0,2000), R(D9,F1,2000), R(D9,F9,2000), R(D9,F2,2000), R(D9,F3,2000), R(D9,FB,2000), R(D9,FE,2000), R(D9,FF,2000),
  R(D9,E8,40), R(D9,E9,40), R(D9,EA,40), R(D9,EB,40), R(D9,EC,40), R(D9,ED,40), R(D9,EE,40),
  R(DD,D1,100), R(DD,D9,100), R(D9,C1,100), R(DD,C1,100), R(D9,F6,50), R(D9,F7,50),
  R(DA,C1,100), R(DA,C9,100), R(DA,D1,100), R(DA,D9,100), R(DB,C1,100), R(DB,C9,100), R(DB,D1,100), R(DB,D9,100),
  M(D8,0,M_F32,300), M(D8,1,M_F32,300), M(D8,2,M_F32,200), M(D8,3,M_F32,200), M(D8,4,M_F32,300), M(D8,5,M_F32,300), M(D8,6,M_F32,300), M(D8,7,M_F32,300),
  M(DC,0,M_F64,300), M(DC,1,M_F64,300), M(DC,2,M_F64,200), M(DC,3,M_F64,200), M(DC,4,M_F64,300), M(DC,5,M_F64,300), M(DC,6,M_F64,300), M(DC,7,M_F64,300),
  M(DA,0,M_I32,200), M(DA,1,M_I32,200), M(DA,2,M_I32,200), M(DA,3,M_I32,200), M(DA,4,M_I32,200), M(DA,5,M_I32,200), M(DA,6,M_I32,200), M(DA,7,M_I32,200),
  M(DE,0,M_I16,200), M(DE,1,M_I16,200), M(DE,2,M_I16,200), M(DE,3,M_I16,200), M(DE,4,M_I16,200), M(DE,5,M_I16,200), M(DE,6,M_I16,200), M(DE,7,M_I16,200),
  M(D9,0,M_F32,500), M(DD,0,M_F64,500), M(DB,5,M_F80,200), M(DF,5,M_I64,300), M(DB,0,M_I32,200), M(DF,0,M_I16,200), M(DF,4,M_BCD,400),
  M(D9,2,M_NONE,800), M(D9,3,M_NONE,300), M(DD,2,M_NONE,800), M(DD,3,M_NONE,300), M(DB,7,M_NONE,200),
  M(DB,2,M_NONE,500), M(DB,3,M_NONE,300), M(DF,2,M_NONE,500), M(DF,3,M_NONE,300), M(DF,7,M_NONE,500),
  M(DB,1,M_NONE,300), M(DD,1,M_NONE,300), M(DF,1,M_NONE,300), M(DF,6,M_NONE,600),
};

/* FCW: all precisions and rounding modes; exceptions mostly masked, sometimes not. */
static uint32_t gen_fcw(void) {
  uint32_t masks = rndn(6) == 0 ? rnd32() & 0x3f : 0x3f;
  uint32_t pc = rndn(3) == 0 ? rndn(4) : 3;
  return 0x40 | masks | pc << 8 | rndn(4) << 10;
}

static void gen_x87_inputs(rec_t *r, const x87_case_t *c) {
  r->ctl = gen_fcw();
  r->imm = rnd32() & 0x45; /* CF, PF, ZF in for FCMOVcc */
  gen_ext_any(r->a); gen_ext_any(r->b);
  if (rndn(4) == 0) { memcpy(r->b, r->a, 10); r->b[rndn(3)] ^= (uint8_t)(1 << rndn(8)); if (rndn(2)) r->b[9] ^= 0x80; }
  if (c->mem != M_NONE) gen_mem(r->c, c->mem);
  /* FYL2XP1 is defined for |x| < 1 - sqrt(2)/2; the host computes larger positive x exactly too */
  if (c->fn == x_D9F9 && (r->a[9] & 0x80) && (r->a[8] | (r->a[9] & 0x7f) << 8) >= 0x3ffd) {
    uint16_t se = (uint16_t)(0x8000 | (0x3ffc - rndn(60))); memcpy(r->a + 8, &se, 2); r->a[7] |= 0x80;
  }
  /* F2XM1 is defined only for -1 <= x <= 1: keep finite inputs in range */
  if (c->fn == x_D9F0 && (r->a[8] | (r->a[9] & 0x7f) << 8) != 0x7fff && ((r->a[8] | (r->a[9] & 0x7f) << 8) >= 0x3fff)) {
    uint16_t se = (uint16_t)((r->a[9] & 0x80) << 8 | (0x3ffe - rndn(70))); memcpy(r->a + 8, &se, 2);
  }
  /* stores and integer conversions: keep magnitudes near the integer ranges sometimes */
  if (c->mem == M_NONE && c->name[2] == '/' && rndn(2)) {
    uint16_t se = (uint16_t)((rndn(2) << 15) | (16383 + rndn(66))); memcpy(r->a + 8, &se, 2); r->a[7] |= 0x80;
  }
}

void gen_x87(FILE *(*open_out)(const char *group, const char *name)) {
  rng_seed_from_env();
  /* exploring, not testing: VEC_ONLY=D9F2,D9F3 picks instructions, VEC_SCALE=N multiplies counts */
  const char *only = getenv("VEC_ONLY"), *scale_s = getenv("VEC_SCALE");
  int scale = scale_s ? atoi(scale_s) : 1;
  for (size_t i = 0; i < sizeof X87_CASES / sizeof X87_CASES[0]; i++) {
    const x87_case_t *c = &X87_CASES[i];
    if (only && !strstr(only, c->name)) continue;
    FILE *f = open_out("x87", c->name);
    for (int k = 0; k < c->n * scale; k++) {
      rec_t r; memset(&r, 0, sizeof r);
      gen_x87_inputs(&r, c);
      c->fn(&r);
      fwrite(&r, sizeof r, 1, f);
    }
    fclose(f);
  }
}
