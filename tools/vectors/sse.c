/* MMX/SSE..SSE4.2/POPCNT/LZCNT/TZCNT/MOVBE/CRC32 vectors. Each instruction is given by its
 * encoding and assembled at run time into an executable buffer between a fixed prologue
 * (loads XMM2 = a, XMM3 = b, XMM0 = c, MM2 = a, MM3 = b, RAX = c[0..7], RDX = c[8..15],
 * RCX = a[0..7], MXCSR = ctl) and epilogue (stores XMM2, MM2, XMM0, RCX, RFLAGS, MXCSR).
 * The record keeps the instruction bytes (pad[]) so the replay decodes exactly them. */
#include <stdlib.h>
#include <sys/mman.h>
#include <cpuid.h>
#include <signal.h>
#include <setjmp.h>
#include <ucontext.h>
#include "common.h"

__asm__(".text\n"
        ".globl vec_pro\nvec_pro:\n"
        "ldmxcsr 0(%rdi)\n movdqu 8(%rdi), %xmm2\n movdqu 24(%rdi), %xmm3\n movdqu 40(%rdi), %xmm0\n"
        "movq 8(%rdi), %mm2\n movq 24(%rdi), %mm3\n movq 40(%rdi), %rax\n movq 48(%rdi), %rdx\n"
        "movq 8(%rdi), %rcx\n"
        ".globl vec_pro_end\nvec_pro_end:\n"
        ".globl vec_epi\nvec_epi:\n"
        "pushfq\n popq %rsi\n movl %esi, 108(%rdi)\n stmxcsr 104(%rdi)\n movdqu %xmm2, 56(%rdi)\n"
        "movq %mm2, 72(%rdi)\n movdqu %xmm0, 88(%rdi)\n movq %rcx, 112(%rdi)\n emms\n ret\n"
        ".globl vec_epi_end\nvec_epi_end:\n");
extern const uint8_t vec_pro[], vec_pro_end[], vec_epi[], vec_epi_end[];

enum { I_PS, I_PD, I_INT, I_STR, I_GPR, I_MIX, I_APPROX };
enum { IMM_NONE, IMM_ANY, IMM_3, IMM_7, IMM_15, IMM_STR, IMM_31, IMM_1 };

typedef struct { const char *name; const char *enc; int imm; int in; int n; } sse_case_t;

static const sse_case_t SSE_CASES[] = {
  /* ---- SSE float */
  {"addps","0f 58 d3",0,I_PS,500},{"subps","0f 5c d3",0,I_PS,500},{"mulps","0f 59 d3",0,I_PS,500},
  {"divps","0f 5e d3",0,I_PS,500},{"minps","0f 5d d3",0,I_PS,300},{"maxps","0f 5f d3",0,I_PS,300},
  {"sqrtps","0f 51 d3",0,I_PS,500},{"andps","0f 54 d3",0,I_INT,100},{"andnps","0f 55 d3",0,I_INT,100},
  {"orps","0f 56 d3",0,I_INT,100},{"xorps","0f 57 d3",0,I_INT,100},{"cmpps","0f c2 d3",IMM_7,I_PS,800},
  {"shufps","0f c6 d3",IMM_ANY,I_INT,200},{"unpcklps","0f 14 d3",0,I_INT,100},{"unpckhps","0f 15 d3",0,I_INT,100},
  {"movmskps","0f 50 cb",0,I_PS,100},{"comiss","0f 2f d3",0,I_PS,400},{"ucomiss","0f 2e d3",0,I_PS,400},
  {"cvtps2pd","0f 5a d3",0,I_PS,300},{"cvtdq2ps","0f 5b d3",0,I_INT,300},
  {"addss","f3 0f 58 d3",0,I_PS,400},{"subss","f3 0f 5c d3",0,I_PS,400},{"mulss","f3 0f 59 d3",0,I_PS,400},
  {"divss","f3 0f 5e d3",0,I_PS,400},{"minss","f3 0f 5d d3",0,I_PS,200},{"maxss","f3 0f 5f d3",0,I_PS,200},
  {"sqrtss","f3 0f 51 d3",0,I_PS,400},{"cmpss","f3 0f c2 d3",IMM_7,I_PS,400},{"cvtss2sd","f3 0f 5a d3",0,I_PS,300},
  {"cvttps2dq","f3 0f 5b d3",0,I_PS,300},{"cvtsi2ss","f3 0f 2a d0",0,I_GPR,200},{"cvtsi2ssq","f3 48 0f 2a d0",0,I_GPR,200},
  {"cvttss2si","f3 0f 2c cb",0,I_PS,200},{"cvtss2si","f3 0f 2d cb",0,I_PS,200},
  {"cvttss2siq","f3 48 0f 2c cb",0,I_PS,200},{"cvtss2siq","f3 48 0f 2d cb",0,I_PS,200},
  {"movss","f3 0f 10 d3",0,I_INT,50},{"movhlps","0f 12 d3",0,I_INT,50},{"movlhps","0f 16 d3",0,I_INT,50},
  /* ---- SSE2 float */
  {"addpd","66 0f 58 d3",0,I_PD,500},{"subpd","66 0f 5c d3",0,I_PD,500},{"mulpd","66 0f 59 d3",0,I_PD,500},
  {"divpd","66 0f 5e d3",0,I_PD,500},{"minpd","66 0f 5d d3",0,I_PD,300},{"maxpd","66 0f 5f d3",0,I_PD,300},
  {"sqrtpd","66 0f 51 d3",0,I_PD,500},{"andpd","66 0f 54 d3",0,I_INT,100},{"andnpd","66 0f 55 d3",0,I_INT,100},
  {"orpd","66 0f 56 d3",0,I_INT,100},{"xorpd","66 0f 57 d3",0,I_INT,100},{"cmppd","66 0f c2 d3",IMM_7,I_PD,800},
  {"shufpd","66 0f c6 d3",IMM_ANY,I_INT,100},{"unpcklpd","66 0f 14 d3",0,I_INT,50},{"unpckhpd","66 0f 15 d3",0,I_INT,50},
  {"movmskpd","66 0f 50 cb",0,I_PD,100},{"comisd","66 0f 2f d3",0,I_PD,400},{"ucomisd","66 0f 2e d3",0,I_PD,400},
  {"cvtpd2ps","66 0f 5a d3",0,I_PD,400},{"cvtps2dq","66 0f 5b d3",0,I_PS,300},{"cvttpd2dq","66 0f e6 d3",0,I_PD,300},
  {"addsd","f2 0f 58 d3",0,I_PD,400},{"subsd","f2 0f 5c d3",0,I_PD,400},{"mulsd","f2 0f 59 d3",0,I_PD,400},
  {"divsd","f2 0f 5e d3",0,I_PD,400},{"minsd","f2 0f 5d d3",0,I_PD,200},{"maxsd","f2 0f 5f d3",0,I_PD,200},
  {"sqrtsd","f2 0f 51 d3",0,I_PD,400},{"cmpsd","f2 0f c2 d3",IMM_7,I_PD,400},{"cvtsd2ss","f2 0f 5a d3",0,I_PD,400},
  {"cvtsi2sd","f2 0f 2a d0",0,I_GPR,200},{"cvtsi2sdq","f2 48 0f 2a d0",0,I_GPR,200},
  {"cvttsd2si","f2 0f 2c cb",0,I_PD,200},{"cvtsd2si","f2 0f 2d cb",0,I_PD,200},
  {"cvttsd2siq","f2 48 0f 2c cb",0,I_PD,200},{"cvtsd2siq","f2 48 0f 2d cb",0,I_PD,200},
  {"cvtpd2dq","f2 0f e6 d3",0,I_PD,300},{"cvtdq2pd","f3 0f e6 d3",0,I_INT,200},{"movsd","f2 0f 10 d3",0,I_INT,50},
  /* ---- SSE2 integer */
  {"punpcklbw","66 0f 60 d3",0,I_INT,50},{"punpcklwd","66 0f 61 d3",0,I_INT,50},{"punpckldq","66 0f 62 d3",0,I_INT,50},
  {"packsswb","66 0f 63 d3",0,I_INT,200},{"pcmpgtb","66 0f 64 d3",0,I_INT,100},{"pcmpgtw","66 0f 65 d3",0,I_INT,100},
  {"pcmpgtd","66 0f 66 d3",0,I_INT,100},{"packuswb","66 0f 67 d3",0,I_INT,200},{"punpckhbw","66 0f 68 d3",0,I_INT,50},
  {"punpckhwd","66 0f 69 d3",0,I_INT,50},{"punpckhdq","66 0f 6a d3",0,I_INT,50},{"packssdw","66 0f 6b d3",0,I_INT,200},
  {"punpcklqdq","66 0f 6c d3",0,I_INT,50},{"punpckhqdq","66 0f 6d d3",0,I_INT,50},{"pshufd","66 0f 70 d3",IMM_ANY,I_INT,200},
  {"pshufhw","f3 0f 70 d3",IMM_ANY,I_INT,100},{"pshuflw","f2 0f 70 d3",IMM_ANY,I_INT,100},
  {"psrlw_i","66 0f 71 d2",IMM_31,I_INT,100},{"psraw_i","66 0f 71 e2",IMM_31,I_INT,100},{"psllw_i","66 0f 71 f2",IMM_31,I_INT,100},
  {"psrld_i","66 0f 72 d2",IMM_ANY,I_INT,100},{"psrad_i","66 0f 72 e2",IMM_ANY,I_INT,100},{"pslld_i","66 0f 72 f2",IMM_ANY,I_INT,100},
  {"psrlq_i","66 0f 73 d2",IMM_ANY,I_INT,100},{"psrldq","66 0f 73 da",IMM_31,I_INT,100},{"psllq_i","66 0f 73 f2",IMM_ANY,I_INT,100},
  {"pslldq","66 0f 73 fa",IMM_31,I_INT,100},
  {"pcmpeqb","66 0f 74 d3",0,I_INT,100},{"pcmpeqw","66 0f 75 d3",0,I_INT,100},{"pcmpeqd","66 0f 76 d3",0,I_INT,100},
  {"psrlw","66 0f d1 d3",0,I_MIX,100},{"psrld","66 0f d2 d3",0,I_MIX,100},{"psrlq","66 0f d3 d3",0,I_MIX,100},
  {"paddq","66 0f d4 d3",0,I_INT,100},{"pmullw","66 0f d5 d3",0,I_INT,100},{"pmovmskb","66 0f d7 cb",0,I_INT,100},
  {"psubusb","66 0f d8 d3",0,I_INT,100},{"psubusw","66 0f d9 d3",0,I_INT,100},{"pminub","66 0f da d3",0,I_INT,100},
  {"pand","66 0f db d3",0,I_INT,50},{"paddusb","66 0f dc d3",0,I_INT,100},{"paddusw","66 0f dd d3",0,I_INT,100},
  {"pmaxub","66 0f de d3",0,I_INT,100},{"pandn","66 0f df d3",0,I_INT,50},{"pavgb","66 0f e0 d3",0,I_INT,100},
  {"psraw","66 0f e1 d3",0,I_MIX,100},{"psrad","66 0f e2 d3",0,I_MIX,100},{"pavgw","66 0f e3 d3",0,I_INT,100},
  {"pmulhuw","66 0f e4 d3",0,I_INT,100},{"pmulhw","66 0f e5 d3",0,I_INT,100},{"psubsb","66 0f e8 d3",0,I_INT,100},
  {"psubsw","66 0f e9 d3",0,I_INT,100},{"pminsw","66 0f ea d3",0,I_INT,100},{"por","66 0f eb d3",0,I_INT,50},
  {"paddsb","66 0f ec d3",0,I_INT,100},{"paddsw","66 0f ed d3",0,I_INT,100},{"pmaxsw","66 0f ee d3",0,I_INT,100},
  {"pxor","66 0f ef d3",0,I_INT,50},{"psllw","66 0f f1 d3",0,I_MIX,100},{"pslld","66 0f f2 d3",0,I_MIX,100},
  {"psllq","66 0f f3 d3",0,I_MIX,100},{"pmuludq","66 0f f4 d3",0,I_INT,100},{"pmaddwd","66 0f f5 d3",0,I_INT,100},
  {"psadbw","66 0f f6 d3",0,I_INT,100},{"psubb","66 0f f8 d3",0,I_INT,100},{"psubw","66 0f f9 d3",0,I_INT,100},
  {"psubd","66 0f fa d3",0,I_INT,100},{"psubq","66 0f fb d3",0,I_INT,100},{"paddb","66 0f fc d3",0,I_INT,100},
  {"paddw","66 0f fd d3",0,I_INT,100},{"paddd","66 0f fe d3",0,I_INT,100},
  {"pinsrw","66 0f c4 d0",IMM_ANY,I_INT,100},{"pextrw","66 0f c5 cb",IMM_ANY,I_INT,100},
  {"movd_to","66 0f 6e d0",0,I_INT,50},{"movq_to","66 48 0f 6e d0",0,I_INT,50},
  {"movd_from","66 0f 7e d9",0,I_INT,50},{"movq_from","66 48 0f 7e d9",0,I_INT,50},
  {"movq_xx","f3 0f 7e d3",0,I_INT,50},{"movq_d6","66 0f d6 da",0,I_INT,50},
  /* ---- SSE3 */
  {"addsubpd","66 0f d0 d3",0,I_PD,300},{"addsubps","f2 0f d0 d3",0,I_PS,300},{"haddpd","66 0f 7c d3",0,I_PD,300},
  {"haddps","f2 0f 7c d3",0,I_PS,300},{"hsubpd","66 0f 7d d3",0,I_PD,300},{"hsubps","f2 0f 7d d3",0,I_PS,300},
  {"movsldup","f3 0f 12 d3",0,I_INT,50},{"movshdup","f3 0f 16 d3",0,I_INT,50},{"movddup","f2 0f 12 d3",0,I_INT,50},
  /* ---- SSSE3 */
  {"pshufb","66 0f 38 00 d3",0,I_INT,200},{"phaddw","66 0f 38 01 d3",0,I_INT,100},{"phaddd","66 0f 38 02 d3",0,I_INT,100},
  {"phaddsw","66 0f 38 03 d3",0,I_INT,100},{"pmaddubsw","66 0f 38 04 d3",0,I_INT,200},{"phsubw","66 0f 38 05 d3",0,I_INT,100},
  {"phsubd","66 0f 38 06 d3",0,I_INT,100},{"phsubsw","66 0f 38 07 d3",0,I_INT,100},{"psignb","66 0f 38 08 d3",0,I_INT,100},
  {"psignw","66 0f 38 09 d3",0,I_INT,100},{"psignd","66 0f 38 0a d3",0,I_INT,100},{"pmulhrsw","66 0f 38 0b d3",0,I_INT,200},
  {"pabsb","66 0f 38 1c d3",0,I_INT,100},{"pabsw","66 0f 38 1d d3",0,I_INT,100},{"pabsd","66 0f 38 1e d3",0,I_INT,100},
  {"palignr","66 0f 3a 0f d3",IMM_31,I_INT,200},
  /* ---- SSE4.1 */
  {"pblendvb","66 0f 38 10 d3",0,I_INT,100},{"blendvps","66 0f 38 14 d3",0,I_INT,100},{"blendvpd","66 0f 38 15 d3",0,I_INT,100},
  {"ptest","66 0f 38 17 d3",0,I_INT,300},{"pmovsxbw","66 0f 38 20 d3",0,I_INT,50},{"pmovsxbd","66 0f 38 21 d3",0,I_INT,50},
  {"pmovsxbq","66 0f 38 22 d3",0,I_INT,50},{"pmovsxwd","66 0f 38 23 d3",0,I_INT,50},{"pmovsxwq","66 0f 38 24 d3",0,I_INT,50},
  {"pmovsxdq","66 0f 38 25 d3",0,I_INT,50},{"pmuldq","66 0f 38 28 d3",0,I_INT,100},{"pcmpeqq","66 0f 38 29 d3",0,I_INT,100},
  {"packusdw","66 0f 38 2b d3",0,I_INT,200},{"pmovzxbw","66 0f 38 30 d3",0,I_INT,50},{"pmovzxbd","66 0f 38 31 d3",0,I_INT,50},
  {"pmovzxbq","66 0f 38 32 d3",0,I_INT,50},{"pmovzxwd","66 0f 38 33 d3",0,I_INT,50},{"pmovzxwq","66 0f 38 34 d3",0,I_INT,50},
  {"pmovzxdq","66 0f 38 35 d3",0,I_INT,50},{"pminsb","66 0f 38 38 d3",0,I_INT,100},{"pminsd","66 0f 38 39 d3",0,I_INT,100},
  {"pminuw","66 0f 38 3a d3",0,I_INT,100},{"pminud","66 0f 38 3b d3",0,I_INT,100},{"pmaxsb","66 0f 38 3c d3",0,I_INT,100},
  {"pmaxsd","66 0f 38 3d d3",0,I_INT,100},{"pmaxuw","66 0f 38 3e d3",0,I_INT,100},{"pmaxud","66 0f 38 3f d3",0,I_INT,100},
  {"pmulld","66 0f 38 40 d3",0,I_INT,100},{"phminposuw","66 0f 38 41 d3",0,I_INT,200},
  {"roundps","66 0f 3a 08 d3",IMM_15,I_PS,400},{"roundpd","66 0f 3a 09 d3",IMM_15,I_PD,400},
  {"roundss","66 0f 3a 0a d3",IMM_15,I_PS,300},{"roundsd","66 0f 3a 0b d3",IMM_15,I_PD,300},
  {"blendps","66 0f 3a 0c d3",IMM_15,I_INT,50},{"blendpd","66 0f 3a 0d d3",IMM_3,I_INT,50},{"pblendw","66 0f 3a 0e d3",IMM_ANY,I_INT,100},
  {"pextrb","66 0f 3a 14 d9",IMM_ANY,I_INT,100},{"pextrw3a","66 0f 3a 15 d9",IMM_ANY,I_INT,50},{"pextrd","66 0f 3a 16 d9",IMM_ANY,I_INT,100},
  {"pextrq","66 48 0f 3a 16 d9",IMM_ANY,I_INT,100},{"extractps","66 0f 3a 17 d9",IMM_ANY,I_INT,100},
  {"pinsrb","66 0f 3a 20 d0",IMM_ANY,I_INT,100},{"insertps","66 0f 3a 21 d3",IMM_ANY,I_INT,300},
  {"pinsrd","66 0f 3a 22 d0",IMM_ANY,I_INT,100},{"pinsrq","66 48 0f 3a 22 d0",IMM_ANY,I_INT,100},
  {"dpps","66 0f 3a 40 d3",IMM_ANY,I_PS,600},{"dppd","66 0f 3a 41 d3",IMM_ANY,I_PD,600},{"mpsadbw","66 0f 3a 42 d3",IMM_7,I_INT,200},
  /* ---- SSE4.2 */
  {"pcmpgtq","66 0f 38 37 d3",0,I_INT,200},
  {"pcmpestri","66 0f 3a 61 d3",IMM_STR,I_STR,1500},{"pcmpestrm","66 0f 3a 60 d3",IMM_STR,I_STR,1500},
  {"pcmpistri","66 0f 3a 63 d3",IMM_STR,I_STR,1500},{"pcmpistrm","66 0f 3a 62 d3",IMM_STR,I_STR,1500},
  {"crc32b","f2 0f 38 f0 c8",0,I_GPR,300},{"crc32w","66 f2 0f 38 f1 c8",0,I_GPR,300},
  {"crc32d","f2 0f 38 f1 c8",0,I_GPR,300},{"crc32q","f2 48 0f 38 f1 c8",0,I_GPR,300},
  /* ---- POPCNT / LZCNT / TZCNT / MOVBE */
  {"popcntw","66 f3 0f b8 c8",0,I_GPR,200},{"popcntd","f3 0f b8 c8",0,I_GPR,200},{"popcntq","f3 48 0f b8 c8",0,I_GPR,200},
  {"lzcntw","66 f3 0f bd c8",0,I_GPR,200},{"lzcntd","f3 0f bd c8",0,I_GPR,200},{"lzcntq","f3 48 0f bd c8",0,I_GPR,200},
  {"tzcntw","66 f3 0f bc c8",0,I_GPR,200},{"tzcntd","f3 0f bc c8",0,I_GPR,200},{"tzcntq","f3 48 0f bc c8",0,I_GPR,200},
  {"movbe_ldw","66 0f 38 f0 4f 28",0,I_GPR,50},{"movbe_ldd","0f 38 f0 4f 28",0,I_GPR,50},{"movbe_ldq","48 0f 38 f0 4f 28",0,I_GPR,50},
  {"movbe_stw","66 0f 38 f1 4f 50",0,I_GPR,50},{"movbe_std","0f 38 f1 4f 50",0,I_GPR,50},{"movbe_stq","48 0f 38 f1 4f 50",0,I_GPR,50},
  /* ---- MMX (and the SSE/SSE2/SSSE3 forms on MMX registers) */
  {"mmx_paddb","0f fc d3",0,I_INT,100},{"mmx_paddw","0f fd d3",0,I_INT,100},{"mmx_paddd","0f fe d3",0,I_INT,100},
  {"mmx_paddsb","0f ec d3",0,I_INT,100},{"mmx_paddsw","0f ed d3",0,I_INT,100},{"mmx_paddusb","0f dc d3",0,I_INT,100},
  {"mmx_paddusw","0f dd d3",0,I_INT,100},{"mmx_psubb","0f f8 d3",0,I_INT,100},{"mmx_psubw","0f f9 d3",0,I_INT,100},
  {"mmx_psubd","0f fa d3",0,I_INT,100},{"mmx_psubsb","0f e8 d3",0,I_INT,100},{"mmx_psubsw","0f e9 d3",0,I_INT,100},
  {"mmx_psubusb","0f d8 d3",0,I_INT,100},{"mmx_psubusw","0f d9 d3",0,I_INT,100},{"mmx_pmullw","0f d5 d3",0,I_INT,100},
  {"mmx_pmulhw","0f e5 d3",0,I_INT,100},{"mmx_pmaddwd","0f f5 d3",0,I_INT,100},{"mmx_pcmpeqb","0f 74 d3",0,I_INT,100},
  {"mmx_pcmpeqw","0f 75 d3",0,I_INT,100},{"mmx_pcmpeqd","0f 76 d3",0,I_INT,100},{"mmx_pcmpgtb","0f 64 d3",0,I_INT,100},
  {"mmx_pcmpgtw","0f 65 d3",0,I_INT,100},{"mmx_pcmpgtd","0f 66 d3",0,I_INT,100},{"mmx_pand","0f db d3",0,I_INT,50},
  {"mmx_pandn","0f df d3",0,I_INT,50},{"mmx_por","0f eb d3",0,I_INT,50},{"mmx_pxor","0f ef d3",0,I_INT,50},
  {"mmx_packsswb","0f 63 d3",0,I_INT,100},{"mmx_packssdw","0f 6b d3",0,I_INT,100},{"mmx_packuswb","0f 67 d3",0,I_INT,100},
  {"mmx_punpcklbw","0f 60 d3",0,I_INT,50},{"mmx_punpcklwd","0f 61 d3",0,I_INT,50},{"mmx_punpckldq","0f 62 d3",0,I_INT,50},
  {"mmx_punpckhbw","0f 68 d3",0,I_INT,50},{"mmx_punpckhwd","0f 69 d3",0,I_INT,50},{"mmx_punpckhdq","0f 6a d3",0,I_INT,50},
  {"mmx_psllw","0f f1 d3",0,I_MIX,100},{"mmx_pslld","0f f2 d3",0,I_MIX,100},{"mmx_psllq","0f f3 d3",0,I_MIX,100},
  {"mmx_psrlw","0f d1 d3",0,I_MIX,100},{"mmx_psrld","0f d2 d3",0,I_MIX,100},{"mmx_psrlq","0f d3 d3",0,I_MIX,100},
  {"mmx_psraw","0f e1 d3",0,I_MIX,100},{"mmx_psrad","0f e2 d3",0,I_MIX,100},
  {"mmx_psllw_i","0f 71 f2",IMM_31,I_INT,50},{"mmx_psrad_i","0f 72 e2",IMM_ANY,I_INT,50},{"mmx_psrlq_i","0f 73 d2",IMM_ANY,I_INT,50},
  {"mmx_pshufw","0f 70 d3",IMM_ANY,I_INT,100},{"mmx_pavgb","0f e0 d3",0,I_INT,100},{"mmx_pavgw","0f e3 d3",0,I_INT,100},
  {"mmx_pmaxub","0f de d3",0,I_INT,50},{"mmx_pminsw","0f ea d3",0,I_INT,50},{"mmx_psadbw","0f f6 d3",0,I_INT,100},
  {"mmx_pmulhuw","0f e4 d3",0,I_INT,100},{"mmx_pmuludq","0f f4 d3",0,I_INT,100},{"mmx_paddq","0f d4 d3",0,I_INT,100},
  {"mmx_psubq","0f fb d3",0,I_INT,100},{"mmx_pmovmskb","0f d7 cb",0,I_INT,50},{"mmx_pextrw","0f c5 cb",IMM_ANY,I_INT,50},
  {"mmx_pinsrw","0f c4 d0",IMM_ANY,I_INT,50},{"mmx_pshufb","0f 38 00 d3",0,I_INT,100},{"mmx_phaddw","0f 38 01 d3",0,I_INT,50},
  {"mmx_pmulhrsw","0f 38 0b d3",0,I_INT,100},{"mmx_pabsw","0f 38 1d d3",0,I_INT,50},{"mmx_palignr","0f 3a 0f d3",IMM_31,I_INT,100},
  {"mmx_movd_to","0f 6e d0",0,I_INT,30},{"mmx_movd_from","0f 7e d9",0,I_INT,30},
  {"cvtpi2ps","0f 2a d3",0,I_INT,100},{"cvtps2pi","0f 2d d3",0,I_PS,200},{"cvttps2pi","0f 2c d3",0,I_PS,200},
  {"cvtpi2pd","66 0f 2a d3",0,I_INT,100},{"cvtpd2pi","66 0f 2d d3",0,I_PD,200},{"cvttpd2pi","66 0f 2c d3",0,I_PD,200},
  {"movdq2q","f2 0f d6 d3",0,I_INT,30},{"movq2dq","f3 0f d6 d3",0,I_INT,30},
  /* ---- reciprocal approximations: the bits are the CPU model's (test/fpu/host.ts decides
   * whether the replay demands them exactly) */
  {"rcpps","0f 53 d3",0,I_APPROX,1500},{"rcpss","f3 0f 53 d3",0,I_APPROX,800},
  {"rsqrtps","0f 52 d3",0,I_APPROX,1500},{"rsqrtss","f3 0f 52 d3",0,I_APPROX,800},
};

static void gen_ps(uint8_t *p) { for (int i = 0; i < 4; i++) { uint32_t v = gen_f32_bits(); memcpy(p + 4 * i, &v, 4); } }
/* RCP/RSQRT inputs: anything (uniform bits), the usual edge cases, the exponents where 1/x
 * leaves the normal range (252, 253) and the bottom ones, both exponent parities. */
static void gen_approx(uint8_t *p) {
  for (int i = 0; i < 4; i++) {
    uint32_t v = rnd32(), s = v & 0x80000000u, m = v & 0x7fffff;
    switch (rndn(6)) {
      case 0: v = gen_f32_bits(); break;
      case 1: v = s | (250 + rndn(5)) << 23 | m; break;
      case 2: v = s | rndn(4) << 23 | m >> rndn(24); break;
      case 3: v = s | (127 + rndn(2)) << 23 | m; break;
      default: break;
    }
    memcpy(p + 4 * i, &v, 4);
  }
}
static void gen_pd(uint8_t *p) { for (int i = 0; i < 2; i++) { uint64_t v = gen_f64_bits(); memcpy(p + 8 * i, &v, 8); } }
/* Strings over a tiny alphabet so matches and ranges happen; sometimes a NUL, sometimes words. */
static void gen_str(uint8_t *p, int words) {
  static const char alpha[] = "aAbz0-9 ";
  int n = 16;
  for (int i = 0; i < n; i++) {
    uint8_t ch = rndn(4) == 0 ? (uint8_t)rnd32() : (uint8_t)alpha[rndn(8)];
    p[i] = ch;
  }
  if (rndn(3) == 0) p[rndn(16)] = 0;
  if (words && rndn(4) == 0) p[2 * rndn(8) + 1] = 0;
}
static int32_t gen_len(void) {
  switch (rndn(6)) { case 0: return (int32_t)rnd32(); case 1: return -(int32_t)rndn(20); default: return (int32_t)rndn(20); }
}

static uint32_t gen_mxcsr(void) {
  if (rndn(3) == 0) return 0x1f80; /* the default, where the interpreter's fast path runs */
  return 0x1f80 | rndn(4) << 13 | (rndn(4) == 0 ? 0x40 : 0) | (rndn(4) == 0 ? 0x8000 : 0);
}

/* Unmasked SIMD exceptions: the instruction traps (SIGFPE); the handler keeps MXCSR as the
 * trap left it and jumps back. The record then says "faulted" (pad[7] = FAULTED) and its
 * outputs are the untouched inputs. */
#define FAULTED 0xf7 /* in pad[7], after the instruction bytes */
static sigjmp_buf fpe_jump;
static volatile uint32_t fpe_mxcsr;
static void on_fpe(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)si;
  fpe_mxcsr = ((ucontext_t *)ctx)->uc_mcontext.fpregs->mxcsr;
  siglongjmp(fpe_jump, 1);
}

/* Instructions a host may lack (older Intel runs LZCNT as BSR and TZCNT as BSF): skip them there. */
static int host_lacks(const char *name) {
  unsigned a, b, c, d;
  if (!strncmp(name, "lzcnt", 5)) { __cpuid(0x80000001, a, b, c, d); return !(c & (1u << 5)); }
  if (!strncmp(name, "tzcnt", 5)) { __cpuid_count(7, 0, a, b, c, d); return !(b & (1u << 3)); }
  if (!strncmp(name, "movbe", 5)) { __cpuid(1, a, b, c, d); return !(c & (1u << 22)); }
  return 0;
}

void gen_sse(FILE *(*open_out)(const char *, const char *)) {
  rng_seed_from_env();
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fpe; sa.sa_flags = SA_SIGINFO; sigaction(SIGFPE, &sa, NULL);
  uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); exit(1); }
  size_t pro = (size_t)(vec_pro_end - vec_pro), epi = (size_t)(vec_epi_end - vec_epi);
  for (size_t i = 0; i < sizeof SSE_CASES / sizeof SSE_CASES[0]; i++) {
    const sse_case_t *c = &SSE_CASES[i];
    if (host_lacks(c->name)) { fprintf(stderr, "host lacks %s: no vectors\n", c->name); continue; }
    uint8_t insn[16]; int len = 0;
    for (const char *s = c->enc; *s; ) { insn[len++] = (uint8_t)strtoul(s, (char **)&s, 16); while (*s == ' ') s++; }
    const char *group = strncmp(c->name, "mmx_", 4) == 0 ? "mmx" : "sse";
    FILE *f = open_out(group, c->name);
    for (int k = 0; k < c->n; k++) {
      rec_t r; memset(&r, 0, sizeof r);
      r.ctl = gen_mxcsr();
      /* floating-point forms: sometimes unmask a few exceptions (PE rarely: it fires on most inputs) */
      if ((c->in == I_PS || c->in == I_PD) && rndn(6) == 0) r.ctl &= ~((rnd32() & 0x1f) << 7 | (rndn(8) == 0 ? 0x1000 : 0));
      switch (c->in) {
        case I_PS: gen_ps(r.a); gen_ps(r.b); gen_ps(r.c); if (rndn(4) == 0) memcpy(r.b, r.a, 16); break;
        case I_APPROX: gen_approx(r.a); gen_approx(r.b); gen_approx(r.c);
          if (rndn(5) == 0) r.ctl &= ~((rnd32() & 0x3f) << 7); /* they raise nothing, even unmasked */
          break;
        case I_PD: gen_pd(r.a); gen_pd(r.b); gen_pd(r.c); if (rndn(4) == 0) memcpy(r.b, r.a, 16); break;
        case I_STR: {
          int words = 0; gen_str(r.a, words); gen_str(r.b, words);
          if (rndn(3) == 0) memcpy(r.b + rndn(8), r.a + rndn(8), 4);
          int32_t la = gen_len(), lb = gen_len(); memcpy(r.c, &la, 4); memcpy(r.c + 8, &lb, 4);
          break;
        }
        case I_MIX: gen_bytes(r.a, 16); memset(r.b, 0, 16);
          if (rndn(3)) r.b[0] = (uint8_t)rndn(70); else gen_bytes(r.b, 16);
          break;
        default: gen_bytes(r.a, 16); gen_bytes(r.b, 16); gen_bytes(r.c, 16);
          if (c->in == I_GPR && rndn(3) == 0) memset(r.c + rndn(8), 0, 1 + rndn(7));
      }
      uint32_t imm = 0;
      switch (c->imm) {
        case IMM_ANY: imm = rnd32() & 0xff; break;
        case IMM_3: imm = rndn(4); break;
        case IMM_7: imm = rndn(8); break;
        case IMM_15: imm = rndn(16); break;
        case IMM_31: imm = rndn(4) == 0 ? rnd32() & 0xff : rndn(32); break;
        case IMM_STR: imm = rnd32() & 0x7f; break;
      }
      if (c->in == I_STR && (imm & 1)) { /* word strings: words-with-NUL */
        if (rndn(3) == 0) { r.a[2 * rndn(8)] = 0; r.a[0] |= 0; }
      }
      r.imm = imm;
      int n = 0;
      memcpy(code, vec_pro, pro); n = (int)pro;
      memcpy(code + n, insn, (size_t)len); n += len;
      if (c->imm != IMM_NONE) code[n++] = (uint8_t)imm;
      memcpy(code + n, vec_epi, epi);
      memcpy(r.pad, insn, len < 8 ? (size_t)len : 8);
      __builtin___clear_cache((char *)code, (char *)code + 4096);
      if (sigsetjmp(fpe_jump, 1)) {
        uint32_t safe = 0x1f80; __asm__ volatile("ldmxcsr %0\n\temms" : : "m"(safe));
        r.st = fpe_mxcsr; r.fl = 0;
        memcpy(r.o, r.a, 16); memcpy(r.o + 16, r.a, 8); memcpy(r.m, r.c, 16); memcpy(&r.gpr, r.a, 8);
        r.pad[7] = FAULTED;
      } else {
        ((void (*)(rec_t *))code)(&r);
      }
      r.fl &= 0x8d5;
      fwrite(&r, sizeof r, 1, f);
    }
    fclose(f);
  }
}
