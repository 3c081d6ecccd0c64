/* A straight-line program mixing x87 and SSE..SSE4.2 math, run natively by program-run.c and
 * inside the interpreter by test/fpu/program.test.ts; the outputs must agree byte for byte.
 * In: RDI = 512-byte buffer, inputs at 0..255, outputs written at 256..511. Ends in RET. */
        .text
        .globl prog
prog:
        /* ---- x87 */
        fldl    0(%rdi)
        fldl    8(%rdi)
        fmul    %st(1), %st
        fsqrt
        fstl    256(%rdi)
        fldpi
        fmulp
        fsin
        fstpt   264(%rdi)
        fstp    %st(0)
        fldl    8(%rdi)
        fldl    0(%rdi)
        fyl2x
        fstpl   280(%rdi)
        fldl    0(%rdi)
        frndint
        fistpl  288(%rdi)
        fldl    24(%rdi)
        fld1
        fscale
        fstpt   292(%rdi)
        fstp    %st(0)
        fldl    16(%rdi)
        fbstp   302(%rdi)
        fldl    8(%rdi)
        fldl    0(%rdi)
        fprem1
        fstpt   312(%rdi)
        fstp    %st(0)
        fldl    8(%rdi)
        fldl    0(%rdi)
        fpatan
        fstpt   322(%rdi)
        fldl    0(%rdi)
        fcoml   8(%rdi)
        fnstsw  %ax
        movw    %ax, 332(%rdi)
        fstp    %st(0)
        fnstcw  334(%rdi)
        movw    334(%rdi), %ax
        orw     $0x0c00, %ax
        movw    %ax, 336(%rdi)
        fldcw   336(%rdi)
        fldl    16(%rdi)
        fistpl  338(%rdi)
        fldcw   334(%rdi)
        fldl    0(%rdi)
        fldl    8(%rdi)
        fdivrp
        fldt    264(%rdi)
        fsubrp
        fstpt   500(%rdi)
        /* ---- SSE2 */
        movupd  32(%rdi), %xmm0
        movupd  48(%rdi), %xmm1
        mulpd   %xmm1, %xmm0
        addpd   %xmm1, %xmm0
        sqrtpd  %xmm0, %xmm2
        divpd   %xmm1, %xmm2
        movupd  %xmm2, 344(%rdi)
        cvtpd2ps %xmm2, %xmm3
        movups  %xmm3, 360(%rdi)
        movl    64(%rdi), %eax
        cvtsi2sd %eax, %xmm4
        mulsd   %xmm4, %xmm4
        cvttsd2si %xmm4, %rax
        movq    %rax, 376(%rdi)
        movdqu  80(%rdi), %xmm5
        movdqu  96(%rdi), %xmm6
        paddw   %xmm6, %xmm5
        pmulhw  %xmm6, %xmm5
        pshufd  $0x1b, %xmm5, %xmm5
        movdqu  %xmm5, 384(%rdi)
        psadbw  %xmm6, %xmm5
        pshufb  %xmm6, %xmm5
        movdqu  %xmm5, 400(%rdi)
        movsd   0(%rdi), %xmm7
        roundsd $9, %xmm7, %xmm7
        movsd   %xmm7, 416(%rdi)
        movdqu  112(%rdi), %xmm8
        movdqu  128(%rdi), %xmm9
        pcmpistri $0x0c, %xmm9, %xmm8
        movl    %ecx, 424(%rdi)
        movq    0(%rdi), %rax
        movl    $0xffffffff, %ecx
        crc32q  %rax, %rcx
        movl    %ecx, 428(%rdi)
        popcnt  %rax, %rdx
        movq    %rdx, 432(%rdi)
        stmxcsr 440(%rdi)
        movl    440(%rdi), %eax
        orl     $0x2000, %eax
        movl    %eax, 444(%rdi)
        ldmxcsr 444(%rdi)
        movsd   0(%rdi), %xmm10
        divsd   8(%rdi), %xmm10
        ldmxcsr 440(%rdi)
        movsd   %xmm10, 448(%rdi)
        movups  32(%rdi), %xmm11
        movups  48(%rdi), %xmm12
        cvtpd2ps %xmm11, %xmm11
        cvtpd2ps %xmm12, %xmm12
        dpps    $0xf1, %xmm12, %xmm11
        movss   %xmm11, 456(%rdi)
        /* ---- MMX */
        movq    80(%rdi), %mm0
        paddsw  88(%rdi), %mm0
        pmaddwd %mm0, %mm0
        movq    %mm0, 464(%rdi)
        emms
        ret
        .section .note.GNU-stack,"",@progbits
