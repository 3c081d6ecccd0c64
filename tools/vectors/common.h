/* Shared pieces of the host test-vector generator: the record layout the vitest
 * replay reads (test/fpu/vectors.ts), a seeded PRNG and input generators that
 * favour edge cases (zeros, infinities, NaNs, denormals, boundaries, ties). */
#ifndef VEC_COMMON_H
#define VEC_COMMON_H
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

/* One vector: inputs, then what the host CPU produced. 128 bytes, little-endian. */
typedef struct {
  uint32_t ctl;        /* FCW (x87) or MXCSR (SSE) before the instruction */
  uint32_t imm;        /* immediate byte, or an extra integer input (EAX/EDX for PCMPESTR*) */
  uint8_t a[16];       /* first operand: ST0 (x87) or XMM0 / destination */
  uint8_t b[16];       /* second operand: ST1 (x87) or XMM1 / source */
  uint8_t c[16];       /* memory operand (x87 m32/m64/m80/int/BCD) or XMM2 / EDX:EAX */
  uint8_t o[32];       /* result: ST0,ST1,ST2 (x87, 10 bytes each) or XMM0 (SSE) */
  uint8_t m[16];       /* memory result (stores), or a second register result */
  uint32_t st;         /* FSW | FTW<<16 (x87) or MXCSR (SSE) after */
  uint32_t fl;         /* RFLAGS & (CF|PF|AF|ZF|SF|OF) after */
  uint32_t gpr;        /* a general-purpose result (ECX for PCMPxSTRI, result of POPCNT ...) */
  uint32_t gpr2;
  uint8_t pad[8];
} rec_t;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline uint64_t rnd64(void) {
  uint64_t x = rng_state;
  x ^= x << 13; x ^= x >> 7; x ^= x << 17;
  return rng_state = x;
}
/* VEC_SEED explores other inputs (each generator file has its own stream); tests use the default. */
static void rng_seed_from_env(void) {
  const char *s = getenv("VEC_SEED");
  if (s) rng_state ^= strtoull(s, NULL, 0) * 0x9e3779b97f4a7c15ull;
}
static inline uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 16); }
static inline uint32_t rndn(uint32_t n) { return (uint32_t)((rnd64() >> 11) % n); }

/* A significand with structure: random, few bits (ties, exact results), all ones, etc. */
static uint64_t gen_sig(void) {
  switch (rndn(8)) {
    case 0: return (1ull << 63) | ((uint64_t)rndn(16) << 59);             /* short: exact ops */
    case 1: return ~0ull;                                                   /* all ones */
    case 2: return (1ull << 63) | (rnd64() & 0xfffff800ull << 32);         /* float-like */
    case 3: return (1ull << 63) | (rnd64() & ~0x7ffull);                   /* double-like */
    case 4: return (1ull << 63) | 1ull << rndn(63);
    default: return (1ull << 63) | rnd64();
  }
}

/* An 80-bit x87 value into 10 bytes. */
static void gen_ext(uint8_t *p) {
  uint64_t sig = gen_sig(); uint32_t e; uint32_t s = rndn(2);
  switch (rndn(20)) {
    case 0: sig = 0; e = 0; break;                                  /* zero */
    case 1: sig = 1ull << 63; e = 0x7fff; break;                    /* infinity */
    case 2: e = 0x7fff; sig |= 3ull << 62; break;                   /* QNaN */
    case 3: e = 0x7fff; sig = (sig & ~(1ull << 62)) | (1ull << 63); if (!(sig << 2)) sig |= 1; break; /* SNaN */
    case 4: e = 0; sig >>= 1 + rndn(63); if (!sig) sig = 1; break;   /* denormal */
    case 5: e = 0; sig |= 1ull << 63; break;                        /* pseudo-denormal */
    case 6: e = 1 + rndn(70); break;                                /* near the bottom */
    case 7: e = 0x7fff - 1 - rndn(70); break;                       /* near the top */
    case 8: e = 16383 + rndn(64); sig &= ~0ull << (63 - (e - 16383)); break; /* integer valued */
    case 9: e = 16383 + rndn(64); break;                            /* around integers */
    case 10: e = 16383 - 1022 - 53 + rndn(110); break;              /* float64 denormal range */
    case 11: e = 16383 + 1023 - 5 + rndn(10); break;                /* float64 overflow edge */
    case 12: e = 16383 - 126 - 25 + rndn(30); break;                /* float32 bottom */
    case 13: e = 16383 + 127 - 3 + rndn(6); break;                   /* float32 top */
    default: e = 16383 - 20 + rndn(40); break;
  }
  memcpy(p, &sig, 8); uint16_t se = (uint16_t)(e | s << 15); memcpy(p + 8, &se, 2);
}
/* An x87 value, occasionally an unsupported encoding (unnormal, pseudo-NaN/infinity). */
static void gen_ext_any(uint8_t *p) {
  gen_ext(p);
  if (rndn(40) == 0) { p[7] &= 0x7f; if ((p[9] & 0x7f) == 0 && p[8] == 0) p[8] = 1; }
}

static uint64_t gen_f64_bits(void) {
  uint64_t f = rnd64() & 0xfffffffffffffull; uint64_t s = (uint64_t)rndn(2) << 63; uint64_t e;
  switch (rndn(16)) {
    case 0: return s;
    case 1: return s | 0x7ff0000000000000ull;
    case 2: return s | 0x7ff8000000000000ull | (f >> rndn(52));
    case 3: return s | 0x7ff0000000000000ull | ((f >> 1) ? (f >> 1) : 1);
    case 4: return s | (f >> rndn(52));                               /* denormal */
    case 5: e = 1 + rndn(60); break;
    case 6: e = 0x7fe - rndn(60); break;
    case 7: f &= ~0ull << rndn(52); e = 1023 + rndn(64); break;
    case 8: f = (uint64_t)rndn(16) << 48; e = 1023 - 4 + rndn(8); break;
    case 9: e = 1023 - 126 - 30 + rndn(300); break;                   /* float32 edges */
    default: e = 1023 - 30 + rndn(60); break;
  }
  return s | e << 52 | (f & 0xfffffffffffffull);
}
static uint32_t gen_f32_bits(void) {
  uint32_t f = rnd32() & 0x7fffff, s = rndn(2) << 31, e;
  switch (rndn(16)) {
    case 0: return s;
    case 1: return s | 0x7f800000;
    case 2: return s | 0x7fc00000 | (f >> rndn(23));
    case 3: return s | 0x7f800000 | ((f >> 1) ? (f >> 1) : 1);
    case 4: return s | (f >> rndn(23));
    case 5: e = 1 + rndn(30); break;
    case 6: e = 0xfe - rndn(30); break;
    case 7: f &= ~0u << rndn(23); e = 127 + rndn(32); break;
    case 8: f = rndn(16) << 19; e = 127 - 4 + rndn(8); break;
    default: e = 127 - 20 + rndn(40); break;
  }
  return s | e << 23 | (f & 0x7fffff);
}

/* Random bytes with structure for integer SIMD: extremes, small values, repeats. */
static void gen_bytes(uint8_t *p, int n) {
  int mode = rndn(6);
  for (int i = 0; i < n; i++) {
    switch (mode) {
      case 0: p[i] = (uint8_t)(rndn(4) == 0 ? 0x80 : rndn(4) == 0 ? 0x7f : rndn(3) == 0 ? 0xff : rnd32()); break;
      case 1: p[i] = (uint8_t)rndn(4); break;
      default: p[i] = (uint8_t)rnd32();
    }
  }
  if (mode == 5) for (int i = 0; i < n; i += 2) { p[i] = 0; p[i + 1] = rndn(2) ? 0x80 : 0x7f; }
}
#endif
