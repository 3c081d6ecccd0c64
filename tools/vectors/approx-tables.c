/* Measures this CPU's RCPPS/RSQRTPS (float32 reciprocal approximations: the bits are the
 * implementation's, Intel and AMD differ), derives the bipartite tables that reproduce them,
 * proves the model against every float32 input, and writes cpu/sse/approx-tables.ts:
 *   gcc -O2 -msse2 -o /tmp/approx tools/vectors/approx-tables.c && /tmp/approx > cpu/sse/approx-tables.ts
 * With "--dump FILE" ("-": stdout) it instead writes the host's answers for test/fpu/approx.test.ts.
 *
 * What the measurement shows (and main() re-checks before writing anything): for a normal
 * input the result depends only on the top 12 mantissa bits i (and, for RSQRT, on the
 * exponent's parity), has a 12-bit mantissa, and is  o = TIV[i >> 4] - TO[(i >> 8) << 4 | (i & 15)]
 * in units of 2^-13: a bipartite table, one 256-entry table of initial values indexed by the
 * top 8 bits and one 256-entry table of offsets indexed by the top 4 and the low 4 bits.
 * RSQRT prefixes i with the parity bit (1 = even exponent), so its tables have 512 entries. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cpuid.h>
#include <immintrin.h>

enum { RCP, RSQRT };
#define ONE_EXP 127
static uint16_t tiv[2][512];
static uint8_t to[2][512];

static void host4(int op, const uint32_t *in, uint32_t *out) {
  __m128 v = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)in));
  v = op == RCP ? _mm_rcp_ps(v) : _mm_rsqrt_ps(v);
  _mm_storeu_si128((__m128i *)out, _mm_castps_si128(v));
}
static uint32_t host1(int op, uint32_t in) {
  __m128 v = _mm_castsi128_ps(_mm_cvtsi32_si128((int)in));
  v = op == RCP ? _mm_rcp_ss(v) : _mm_rsqrt_ss(v);
  return (uint32_t)_mm_cvtsi128_si32(_mm_castps_si128(v));
}

/* The model, as cpu/sse/approx.ts implements it. */
static uint32_t model(int op, uint32_t x) {
  uint32_t s = x & 0x80000000u, e = x >> 23 & 0xff, m = x & 0x7fffff;
  if (e == 0xff && m) return x | 0x400000;            /* NaN: quieted */
  if (e == 0) return s | 0x7f800000;                  /* zero and denormals (always as zero): infinity */
  if (op == RSQRT && s) return 0xffc00000;            /* negative: the default NaN */
  if (e == 0xff) return s;                            /* infinity: zero */
  uint32_t idx = m >> 11, re;
  if (op == RSQRT) { idx |= (~e & 1) << 12; re = 126 + ((128 - (int)e) >> 1); }
  else re = 253 - (int)e;
  if ((int)re <= 0) return s;                         /* too small for a normal: zero, whatever FTZ says */
  uint32_t o = tiv[op][idx >> 4] - to[op][(idx >> 8) << 4 | (idx & 15)];
  return s | re << 23 | (o - 4096) << 11;
}

static int fail(const char *what, uint32_t x, uint32_t got, uint32_t want) {
  fprintf(stderr, "approx-tables: %s: input %08x host %08x model %08x\n", what, x, want, got);
  exit(1);
}

/* o (units of 2^-13) for mantissa index idx, as the host answers at exponent 127 (RSQRT: 127
 * or 128 by the parity bit), checked to be constant over the 2^11 low bits the index drops. */
static uint32_t measure(int op, uint32_t idx) {
  uint32_t e = op == RSQRT && (idx >> 12) ? ONE_EXP + 1 : ONE_EXP, in[4], out[4], o = 0;
  for (uint32_t lo = 0; lo < 2048; lo += 4) {
    for (int k = 0; k < 4; k++) in[k] = e << 23 | (idx & 0xfff) << 11 | (lo + k);
    host4(op, in, out);
    for (int k = 0; k < 4; k++) {
      if ((out[k] >> 23) != 126 || (out[k] & 0x7ff)) fail("result outside [0.5,1) or with more than 12 bits", in[k], out[k], 0);
      uint32_t ok = 4096 + ((out[k] & 0x7fffff) >> 11);
      if (lo + k == 0) o = ok;
      else if (ok != o) fail("result depends on the low 11 mantissa bits", in[k], ok, o);
    }
  }
  return o;
}

static void derive(int op) {
  int n = op == RSQRT ? 8192 : 4096;
  static uint32_t o[8192];
  for (int i = 0; i < n; i++) o[i] = measure(op, (uint32_t)i);
  for (int a = 0; a < n / 16; a++) tiv[op][a] = (uint16_t)o[a * 16];
  for (int c = 0; c < n / 256; c++)
    for (int j = 0; j < 16; j++) to[op][c * 16 + j] = (uint8_t)(o[c * 256] - o[c * 256 + j]);
  for (int i = 0; i < n; i++)
    if ((uint32_t)(tiv[op][i >> 4] - to[op][(i >> 8) << 4 | (i & 15)]) != o[i]) fail("not bipartite", (uint32_t)i, 0, o[i]);
}

/* Every float32 through RCPPS/RSQRTPS under the given MXCSR (step 1 = all 2^32), and a
 * sample through the scalar forms, against the model. Returns the count compared. */
static uint64_t prove(int op, uint32_t mxcsr, uint32_t step) {
  uint64_t n = 0;
  uint32_t in[4], out[4], saved = _mm_getcsr();
  _mm_setcsr(mxcsr);
  for (uint64_t x = 0; x < (1ull << 32); x += 4ull * step) {
    for (int k = 0; k < 4; k++) in[k] = (uint32_t)(x + (uint64_t)k * step);
    host4(op, in, out);
    for (int k = 0; k < 4; k++) if (model(op, in[k]) != out[k]) fail(op == RCP ? "rcpps" : "rsqrtps", in[k], model(op, in[k]), out[k]);
    if ((x & 0xfffff) == 0 && model(op, in[0]) != host1(op, in[0])) fail(op == RCP ? "rcpss" : "rsqrtss", in[0], model(op, in[0]), host1(op, in[0]));
    if (_mm_getcsr() != mxcsr) { fprintf(stderr, "approx-tables: MXCSR changed\n"); exit(1); }
    n += 4;
  }
  _mm_setcsr(saved);
  return n;
}

/* The host's answers for every mantissa, at an exponent and sign that vary with it (the test
 * derives the same inputs): RCP, then RSQRT at odd exponents, then RSQRT at even ones. */
static uint32_t dump_input(int part, uint32_t m) {
  uint32_t h = m * 2654435761u >> 24, s = (h & 1) << 31;
  if (part == 0) return s | (1 + h % 254) << 23 | m;
  return (1 + 2 * (h % 127) + (part == 2)) << 23 | m;
}
static void dump(const char *path) {
  FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
  if (!f) { perror(path); exit(1); }
  static uint32_t in[1 << 23], out[1 << 23];
  for (int part = 0; part < 3; part++) {
    for (uint32_t m = 0; m < (1u << 23); m++) in[m] = dump_input(part, m);
    for (uint32_t m = 0; m < (1u << 23); m += 4) host4(part ? RSQRT : RCP, in + m, out + m);
    fwrite(out, 4, 1u << 23, f);
  }
  fclose(f);
}

static void print_table(const char *name, const char *type, int n, int is16, int op) {
  printf("export const %s = %s.from([", name, type);
  for (int i = 0; i < n; i++) printf("%s%d,", i % 32 ? "" : "\n  ", is16 ? tiv[op][i] : to[op][i]);
  printf("\n]);\n");
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--dump")) { dump(argv[2]); return 0; }
  unsigned a, b, c, d, brand[12];
  char vendor[13];
  __cpuid(0, a, b, c, d); memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4); vendor[12] = 0;
  __cpuid(1, a, b, c, d);
  unsigned family = (a >> 8 & 0xf) + ((a >> 8 & 0xf) == 0xf ? (a >> 20 & 0xff) : 0);
  unsigned model_ = (a >> 4 & 0xf) | ((a >> 8 & 0xf) >= 6 ? (a >> 16 & 0xf) << 4 : 0);
  for (unsigned k = 0; k < 3; k++) __cpuid(0x80000002 + k, brand[4 * k], brand[4 * k + 1], brand[4 * k + 2], brand[4 * k + 3]);
  char *bs = (char *)brand; bs[47] = 0; while (*bs == ' ') bs++;
  for (char *p = bs; *p; p++) if (*p == '\'' || *p == '\\') *p = ' ';

  derive(RCP); derive(RSQRT);
  uint64_t n = 0;
  n += prove(RCP, 0x1f80, 1); n += prove(RSQRT, 0x1f80, 1);
  /* DAZ, FTZ, round toward zero, everything unmasked: the answers must not change */
  static const uint32_t other[] = {0x9fc0, 0x7f80, 0x0000, 0x1fbf};
  for (unsigned k = 0; k < 4; k++) { n += prove(RCP, other[k], 61); n += prove(RSQRT, other[k], 61); }
  fprintf(stderr, "approx-tables: %s family 0x%x model 0x%x: model equals the host on %llu inputs\n",
          vendor, family, model_, (unsigned long long)n);

  printf("// GENERATED by tools/vectors/approx-tables.c (do not edit): the bipartite tables behind\n"
         "// RCPPS/RCPSS/RSQRTPS/RSQRTSS on %s family 0x%x model 0x%x (%s),\n"
         "// measured on that CPU and checked there: every float32 input through each instruction at the\n"
         "// default MXCSR, a sample under DAZ/FTZ/round-to-zero/unmasked (%llu compared, all equal).\n"
         "//   gcc -O2 -msse2 -o /tmp/approx tools/vectors/approx-tables.c && /tmp/approx > cpu/sse/approx-tables.ts\n\n",
         vendor, family, model_, bs, (unsigned long long)n);
  printf("/** The CPU these tables reproduce bit for bit (CPUID vendor, family, model). */\n");
  printf("export const APPROX_CPU = { vendor: '%s', family: 0x%x, model: 0x%x, name: '%s' };\n\n", vendor, family, model_, bs);
  printf("/** RCP: initial values (units of 2^-13) by mantissa bits 22:15. */\n");
  print_table("RCP_TIV", "Uint16Array", 256, 1, RCP);
  printf("/** RCP: offsets subtracted, by mantissa bits 22:19 and 14:11. */\n");
  print_table("RCP_TO", "Uint8Array", 256, 0, RCP);
  printf("/** RSQRT: initial values by exponent parity (1 = even) and mantissa bits 22:15. */\n");
  print_table("RSQRT_TIV", "Uint16Array", 512, 1, RSQRT);
  printf("/** RSQRT: offsets subtracted, by parity, mantissa bits 22:19 and 14:11. */\n");
  print_table("RSQRT_TO", "Uint8Array", 512, 0, RSQRT);
  return 0;
}
