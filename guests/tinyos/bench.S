/* tinyos benchmark loops, in assembler so each iteration executes a known number
 * of instructions (BENCH_*_INSNS in kernel.h) whatever the compiler does. */

        .code64
        .text

/* bench_alu(iters): 8 register ALU operations + dec + jnz = 10 instructions per iteration. */
        .globl bench_alu
bench_alu:
        mov %rdi, %rcx
        mov $1, %eax
        mov $3, %edx
        mov $5, %esi
        mov $7, %r8d
1:      add %rdx, %rax
        xor %rsi, %rdx
        sub %r8, %rsi
        or %rax, %r8
        add $13, %rdx
        shl $1, %rsi
        xor %rdx, %rax
        and $0xfff, %r8
        dec %rcx
        jnz 1b
        ret

/* bench_mem(iters, buf): load, add, store on a 64 KiB buffer with a stride of 4 KiB + 64,
 * so consecutive iterations touch different pages (a TLB and page-walk workout):
 * 7 instructions per iteration. */
        .globl bench_mem
bench_mem:
        mov %rdi, %rdx
        xor %ecx, %ecx
1:      mov (%rsi,%rcx), %rax
        add %rdx, %rax
        mov %rax, (%rsi,%rcx)
        add $0x1040, %rcx
        and $0xfff8, %ecx
        dec %rdx
        jnz 1b
        ret

/* bench_call(iters): call + ret + dec + jnz = 4 instructions per iteration. */
        .globl bench_call
bench_call:
1:      call 2f
        dec %rdi
        jnz 1b
        ret
2:      ret

/* bench_io(count, port): count byte reads of an I/O port (each one traps under virtualization). */
        .globl bench_io
bench_io:
        mov %esi, %edx
1:      in %dx, %al
        dec %rdi
        jnz 1b
        ret

/* bench_memread(count, addr): the same loop with a memory read instead, for comparison. */
        .globl bench_memread
bench_memread:
1:      mov (%rsi), %al
        dec %rdi
        jnz 1b
        ret
