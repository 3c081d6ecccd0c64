/* Host-CPU reference vectors for the interpreter's integer instructions:
 * runs each instruction form on this x86-64 machine with random and edge
 * operands and prints one JSON line per case (see gen-int-vectors.mjs).
 * Fields: op, size (bytes), a, b, c (count/third input), d (rdx in), fin,
 * res, res2 (rdx out), fout, all 64-bit values as hex strings. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* Interesting values: random, small, sign boundaries, all ones. */
static uint64_t pick(int size) {
  uint64_t edges[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000ull, 0xffffffffull,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull, 0x10, 0xf};
  uint64_t v = (rnd() % 4 == 0) ? edges[rnd() % (sizeof edges / sizeof *edges)] : rnd();
  if (rnd() % 3 == 0) v = (size == 8 ? rnd() : rnd() & 0xff);
  return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

#define ARITH 0x8d5ull /* CF PF AF ZF SF OF */

typedef struct { uint64_t a, b, c, d, fin, res, res2, fout; } Case;

static void emit(const char *op, int size, Case *k) {
  printf("{\"op\":\"%s\",\"size\":%d,\"a\":\"%llx\",\"b\":\"%llx\",\"c\":\"%llx\",\"d\":\"%llx\",\"fin\":\"%llx\",\"res\":\"%llx\",\"res2\":\"%llx\",\"fout\":\"%llx\"}\n",
    op, size, (unsigned long long)k->a, (unsigned long long)k->b, (unsigned long long)k->c, (unsigned long long)k->d,
    (unsigned long long)k->fin, (unsigned long long)k->res, (unsigned long long)k->res2, (unsigned long long)(k->fout & ARITH));
}

/* Two-operand "op b, a" (AT&T) with flags in and out; suffix/modifier pick the size. */
#define BIN(NAME, INSN) \
  static void NAME##_8(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "b %b[b], %b[a]; pushfq; pop %[f]" : [a] "+q"(a), [f] "+r"(f) : [b] "q"(k->b) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_16(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "w %w[b], %w[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_32(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "l %k[b], %k[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_64(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "q %q[b], %q[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->fout = f; }

/* One operand. */
#define UN(NAME, INSN) \
  static void NAME##_8(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "b %b[a]; pushfq; pop %[f]" : [a] "+q"(a), [f] "+r"(f) : : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_16(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "w %w[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_32(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "l %k[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_64(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "q %q[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : : "cc"); k->res = a; k->fout = f; }

/* Shift/rotate by CL. */
#define SH(NAME, INSN) \
  static void NAME##_8(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "b %%cl, %b[a]; pushfq; pop %[f]" : [a] "+q"(a), [f] "+r"(f) : "c"(k->c) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_16(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "w %%cl, %w[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : "c"(k->c) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_32(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "l %%cl, %k[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : "c"(k->c) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_64(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "q %%cl, %q[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : "c"(k->c) : "cc"); k->res = a; k->fout = f; }

/* SHLD/SHRD a, b, CL (no 8-bit form). */
#define SHD(NAME, INSN) \
  static void NAME##_16(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "w %%cl, %w[b], %w[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b), "c"(k->c) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_32(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "l %%cl, %k[b], %k[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b), "c"(k->c) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_64(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "q %%cl, %q[b], %q[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b), "c"(k->c) : "cc"); k->res = a; k->fout = f; }

/* MUL/IMUL/DIV/IDIV with rAX=a, rDX=d, operand b. */
#define MD(NAME, INSN) \
  static void NAME##_8(Case *k) { uint64_t a = k->a, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "b %b[b]; pushfq; pop %[f]" : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "q"(k->b) : "cc"); k->res = a; k->res2 = d; k->fout = f; } \
  static void NAME##_16(Case *k) { uint64_t a = k->a, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "w %w[b]; pushfq; pop %[f]" : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->res2 = d; k->fout = f; } \
  static void NAME##_32(Case *k) { uint64_t a = k->a, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "l %k[b]; pushfq; pop %[f]" : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->res2 = d; k->fout = f; } \
  static void NAME##_64(Case *k) { uint64_t a = k->a, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "q %q[b]; pushfq; pop %[f]" : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->res2 = d; k->fout = f; }

/* Two-operand forms without an 8-bit encoding (BT*, BSF/BSR: "op b, a"). */
#define BIN16(NAME, INSN) \
  static void NAME##_16(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "w %w[b], %w[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_32(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "l %k[b], %k[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->fout = f; } \
  static void NAME##_64(Case *k) { uint64_t a = k->a, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "q %q[b], %q[a]; pushfq; pop %[f]" : [a] "+r"(a), [f] "+r"(f) : [b] "r"(k->b) : "cc"); k->res = a; k->fout = f; }

/* XADD b, a (both written: res = a, res2 = b) and CMPXCHG b, a with the accumulator in d (res2 = rax out). */
#define XA(NAME, INSN, Q) \
  static void NAME##_8(Case *k) { uint64_t a = k->a, b = k->b, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "b %b[b], %b[a]; pushfq; pop %[f]" : [a] "+q"(a), [b] "+q"(b), [f] "+r"(f), "+a"(d) : : "cc"); k->res = a; k->res2 = Q; k->fout = f; } \
  static void NAME##_16(Case *k) { uint64_t a = k->a, b = k->b, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "w %w[b], %w[a]; pushfq; pop %[f]" : [a] "+r"(a), [b] "+r"(b), [f] "+r"(f), "+a"(d) : : "cc"); k->res = a; k->res2 = Q; k->fout = f; } \
  static void NAME##_32(Case *k) { uint64_t a = k->a, b = k->b, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "l %k[b], %k[a]; pushfq; pop %[f]" : [a] "+r"(a), [b] "+r"(b), [f] "+r"(f), "+a"(d) : : "cc"); k->res = a; k->res2 = Q; k->fout = f; } \
  static void NAME##_64(Case *k) { uint64_t a = k->a, b = k->b, d = k->d, f = k->fin; __asm__ volatile("push %[f]; popfq; " INSN "q %q[b], %q[a]; pushfq; pop %[f]" : [a] "+r"(a), [b] "+r"(b), [f] "+r"(f), "+a"(d) : : "cc"); k->res = a; k->res2 = Q; k->fout = f; }

BIN16(bt, "bt") BIN16(bts, "bts") BIN16(btr, "btr") BIN16(btc, "btc") BIN16(bsf, "bsf") BIN16(bsr, "bsr")
XA(xadd, "xadd", b) XA(cmpxchg, "cmpxchg", d)
BIN(add, "add") BIN(or, "or") BIN(adc, "adc") BIN(sbb, "sbb") BIN(and, "and") BIN(sub, "sub") BIN(xor, "xor") BIN(cmp, "cmp") BIN(test, "test")
UN(inc, "inc") UN(dec, "dec") UN(neg, "neg") UN(not, "not")
SH(rol, "rol") SH(ror, "ror") SH(rcl, "rcl") SH(rcr, "rcr") SH(shl, "shl") SH(shr, "shr") SH(sar, "sar")
SHD(shld, "shld") SHD(shrd, "shrd")
MD(mul, "mul") MD(imul, "imul") MD(div, "div") MD(idiv, "idiv")

typedef void (*Fn)(Case *);
struct Op { const char *name; Fn f[4]; int kind; }; /* kind: 0 bin, 1 un, 2 shift, 3 shd, 4 mul, 5 div, 6 idiv */
#define ALL(n, kind) { #n, { n##_8, n##_16, n##_32, n##_64 }, kind }
#define NO8(n, kind) { #n, { 0, n##_16, n##_32, n##_64 }, kind }

int main(void) {
  struct Op ops[] = {
    ALL(add, 0), ALL(or, 0), ALL(adc, 0), ALL(sbb, 0), ALL(and, 0), ALL(sub, 0), ALL(xor, 0), ALL(cmp, 0), ALL(test, 0),
    ALL(inc, 1), ALL(dec, 1), ALL(neg, 1), ALL(not, 1),
    ALL(rol, 2), ALL(ror, 2), ALL(rcl, 2), ALL(rcr, 2), ALL(shl, 2), ALL(shr, 2), ALL(sar, 2),
    NO8(shld, 3), NO8(shrd, 3),
    ALL(mul, 4), ALL(imul, 4), ALL(div, 5), ALL(idiv, 6),
    NO8(bt, 0), NO8(bts, 0), NO8(btr, 0), NO8(btc, 0), NO8(bsf, 0), NO8(bsr, 0), ALL(xadd, 7), ALL(cmpxchg, 7),
  };
  const int per = 120;
  for (unsigned o = 0; o < sizeof ops / sizeof *ops; o++) {
    for (int s = 0; s < 4; s++) {
      if (!ops[o].f[s]) continue;
      int size = 1 << s;
      for (int i = 0; i < per; i++) {
        Case k; memset(&k, 0, sizeof k);
        k.a = pick(size); k.b = pick(size); k.d = pick(size);
        k.fin = (rnd() & ARITH) | 0x202;
        if (ops[o].kind == 7 && rnd() % 2) k.d = k.a; /* cmpxchg: equal half the time */
        if (!strcmp(ops[o].name, "bsf") || !strcmp(ops[o].name, "bsr")) { if (rnd() % 8 == 0) k.b = 0; }
        if (ops[o].kind == 2 || ops[o].kind == 3) k.c = (i < 40) ? (uint64_t)(i % 36) : rnd() & 0xff;
        if (ops[o].kind == 5) { /* unsigned: keep the high half below the divisor */
          if (k.b == 0) k.b = 1;
          uint64_t m = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
          k.d = (size == 1) ? 0 : (k.b > 1 ? rnd() % k.b : 0) & m;
          if (size == 1) k.a = (rnd() % (k.b * 256)) & 0xffff;
        }
        if (ops[o].kind == 6) { /* signed: small quotients */
          if (k.b == 0) k.b = 3;
          int64_t bsv = size == 8 ? (int64_t)k.b : size == 4 ? (int32_t)k.b : size == 2 ? (int16_t)k.b : (int8_t)k.b;
          int64_t q = (int64_t)(rnd() % 100) - 50, r = bsv ? (int64_t)(rnd() % (bsv < 0 ? -bsv : bsv)) : 0;
          if (q < 0) r = -r;
          int64_t n = q * bsv + r;
          uint64_t m = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
          if (size == 1) { k.a = (uint64_t)n & 0xffff; k.d = 0; }
          else { k.a = (uint64_t)n & m; k.d = (n < 0 ? ~0ull : 0) & m; }
        }
        ops[o].f[s](&k);
        emit(ops[o].name, size, &k);
      }
    }
  }
  return 0;
}
