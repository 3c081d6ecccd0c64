/* tinyos kernel entry points: one 16-byte stub per interrupt vector, the common
 * trap path into C, the SYSCALL entry, the drop to ring 3, and kjmp save/restore. */

        .code64
        .text

/* trap_stubs + 16 * vector is the IDT target of each vector. Vectors where the
 * CPU pushes an error code (8, 10-14, 17, 21, 29, 30) skip the dummy push, so
 * every frame has the same shape: error code, then vector, then saved registers. */
        .balign 16
        .globl trap_stubs
trap_stubs:
        .set vec, 0
        .rept 256
        .balign 16
        .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        .else
        pushq $0
        .endif
        pushq $vec
        jmp trap_common
        .set vec, vec + 1
        .endr

trap_common:
        push %rax
        push %rbx
        push %rcx
        push %rdx
        push %rsi
        push %rdi
        push %rbp
        push %r8
        push %r9
        push %r10
        push %r11
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, %rdi
        cld
        call trap
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %r11
        pop %r10
        pop %r9
        pop %r8
        pop %rbp
        pop %rdi
        pop %rsi
        pop %rdx
        pop %rcx
        pop %rbx
        pop %rax
        add $16, %rsp           /* vector and error code */
        iretq

/* SYSCALL: RCX = user RIP, R11 = user RFLAGS, IF already cleared by FMASK.
 * Number in RAX, arguments in RDI, RSI, RDX; everything but RAX, RCX, R11 is preserved. */
        .globl syscall_entry
syscall_entry:
        mov %rsp, syscall_user_rsp(%rip)
        mov tss_rsp0(%rip), %rsp
        push syscall_user_rsp(%rip)
        push %rcx
        push %r11
        push %rdi
        push %rsi
        push %rdx
        push %r8
        push %r9
        push %r10
        mov %rax, %rcx          /* syscall_dispatch(a1, a2, a3, number, user_rip) */
        mov 56(%rsp), %r8
        sub $8, %rsp            /* 9 pushes: keep the ABI's 16-byte alignment at the call */
        sti
        call syscall_dispatch
        cli
        add $8, %rsp
        pop %r10
        pop %r9
        pop %r8
        pop %rdx
        pop %rsi
        pop %rdi
        pop %r11
        pop %rcx
        pop %rsp
        sysretq

/* enter_user(rip, rsp): build the frame an interrupt from ring 3 would have left, and IRETQ to it. */
        .globl enter_user
enter_user:
        pushq $0x1B             /* SS: user data, RPL 3 */
        push %rsi               /* RSP */
        pushq $0x202            /* RFLAGS: IF set */
        pushq $0x23             /* CS: 64-bit user code, RPL 3 */
        push %rdi               /* RIP */
        iretq

/* int kjmp_save(buf): saves callee-saved registers, returns 0; kjmp_restore(buf, v)
 * comes back from it a second time returning v (a kernel setjmp/longjmp). */
        .globl kjmp_save
kjmp_save:
        mov %rbx, 0(%rdi)
        mov %rbp, 8(%rdi)
        mov %r12, 16(%rdi)
        mov %r13, 24(%rdi)
        mov %r14, 32(%rdi)
        mov %r15, 40(%rdi)
        lea 8(%rsp), %rax
        mov %rax, 48(%rdi)
        mov (%rsp), %rax
        mov %rax, 56(%rdi)
        xor %eax, %eax
        ret

        .globl kjmp_restore
kjmp_restore:
        mov 0(%rdi), %rbx
        mov 8(%rdi), %rbp
        mov 16(%rdi), %r12
        mov 24(%rdi), %r13
        mov 32(%rdi), %r14
        mov 40(%rdi), %r15
        mov 48(%rdi), %rsp
        mov %esi, %eax
        jmp *56(%rdi)

        .globl halt_forever
halt_forever:
        cli
1:      hlt
        jmp 1b

        .bss
        .balign 8
syscall_user_rsp:
        .skip 8
