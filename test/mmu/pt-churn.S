/* A page-table workload for the lockstep of memory models (models-lockstep.test.ts,
 * models-smp.test.ts). 64-bit, flat, loaded at 0x10000 with CR3 pointing at any table that
 * maps it, R15 = the CPU's index (0 alone). CPU 0 builds the tables: three address spaces
 * share an identity-mapped first 2 MiB (one 2 MiB page: code, tables, results) and each has,
 * from linear 0x40000000, 16 private 4 KiB pages (its own PT) and one 2 MiB page at
 * 0x40200000, all over a pool of 64 frames at 2 MiB; other CPUs wait for it. Each CPU then
 * runs a pseudo-random loop 4000 times (its own seed): switches CR3 (every 4th pass), rewrites
 * a PTE of any space (fresh: A and D clear) with INVLPG, rewrites a space's 2 MiB PDE, and
 * reads and writes the private pages and the 2 MiB page. Every write to a table is followed
 * by INVLPG or a CR3 load on the writing CPU before it uses the entry (another CPU may still
 * hold the old translation in its TLB: the same under every model, whose TLBs fill alike).
 * CPU i stores the sum of what it read at 0x30000 + 16 i and its pass count 8 further; HLT. */
#define PD_LOW 0x20000
#define SPACE0 0x21000 /* space i: PML4 at SPACE0 + i*0x4000, PDPT +0x1000, PD +0x2000, PT +0x3000 */
#define POOL 0x200000
#define PRIV 0x40000000
#define BIG 0x40200000
#define PASSES 4000
#define READY 0x30100
        .code64
        .globl _start
_start:
        testl %r15d, %r15d
        jnz ap
        /* The shared low 2 MiB. */
        movq $0x83, PD_LOW                      /* P RW PS, frame 0 */
        xorl %ecx, %ecx                         /* space */
1:      movl %ecx, %edi
        shll $14, %edi
        addl $SPACE0, %edi                      /* rdi = PML4 of space ecx */
        leal 0x1003(%rdi), %eax
        movq %rax, (%rdi)                       /* PML4[0] -> PDPT */
        movq $(PD_LOW + 3), 0x1000(%rdi)        /* PDPT[0] -> the low PD */
        leal 0x2003(%rdi), %eax
        movq %rax, 0x1008(%rdi)                 /* PDPT[1] -> PD (linear 1 GiB) */
        leal 0x3003(%rdi), %eax
        movq %rax, 0x2000(%rdi)                 /* PD[0] -> PT */
        movq $(POOL + 0x83), 0x2008(%rdi)       /* PD[1]: the 2 MiB page */
        xorl %edx, %edx                         /* PT[j] = frame (16 * space + j) */
2:      movl %ecx, %eax
        shll $4, %eax
        addl %edx, %eax
        shll $12, %eax
        addl $(POOL + 3), %eax
        movq %rax, 0x3000(%rdi,%rdx,8)
        incl %edx
        cmpl $16, %edx
        jb 2b
        incl %ecx
        cmpl $3, %ecx
        jb 1b
        movq $SPACE0, %rax
        movq %rax, %cr3
        movl $1, READY
        jmp go
ap:     pause                                   /* the other CPUs: wait for the tables */
        cmpl $1, READY
        jne ap
        movq $SPACE0, %rax
        movq %rax, %cr3
go:     imull $0x3c6ef372, %r15d, %ebx          /* LCG state: a seed per CPU */
        addl $0x12345678, %ebx
        xorl %r12d, %r12d                       /* sum */
        xorl %r13d, %r13d                       /* pass */
pass:
        imull $1103515245, %ebx, %ebx
        addl $12345, %ebx
        testl $3, %r13d
        jnz 3f
        movl %ebx, %eax                         /* every 4th pass: CR3 of space (ebx >> 16) % 3 */
        shrl $16, %eax
        xorl %edx, %edx
        movl $3, %ecx
        divl %ecx
        shll $14, %edx
        addl $SPACE0, %edx
        movq %rdx, %cr3
3:      movl %ebx, %esi                         /* rsi = linear private page j = (ebx >> 8) & 15 */
        shrl $8, %esi
        andl $15, %esi
        shll $12, %esi
        addl $PRIV, %esi
        movl %ebx, %edi                         /* rdi = offset in a page, 8-aligned */
        shrl $4, %edi
        andl $0xff8, %edi
        movl %ebx, %eax                         /* what to do: (ebx >> 20) & 3 */
        shrl $20, %eax
        andl $3, %eax
        jz remap
        cmpl $1, %eax
        je wpriv
        cmpl $2, %eax
        je rboth
        /* 3: write the 2 MiB page at frame (ebx >> 12) & 63 of it */
        movl %ebx, %eax
        shrl $12, %eax
        andl $63, %eax
        shll $12, %eax
        addl %edi, %eax
        movq %r12, BIG(%rax)
        jmp next
wpriv:  movq %r13, (%rsi,%rdi)
        jmp next
rboth:  addq (%rsi,%rdi), %r12
        movl %ebx, %eax
        shrl $12, %eax
        andl $63, %eax
        shll $12, %eax
        addl %edi, %eax
        addq BIG(%rax), %r12
        rolq $7, %r12
        jmp next
remap:  /* PT of space (ebx >> 28) % 3, entry j = frame (ebx >> 10) & 63, A/D clear; INVLPG j */
        movl %ebx, %eax
        shrl $28, %eax
        xorl %edx, %edx
        movl $3, %ecx
        divl %ecx
        shll $14, %edx
        addl $(SPACE0 + 0x3000), %edx           /* rdx = that PT */
        movl %esi, %ecx
        subl $PRIV, %ecx
        shrl $9, %ecx                           /* j * 8 */
        addq %rcx, %rdx
        movl %ebx, %eax
        shrl $10, %eax
        andl $63, %eax
        shll $12, %eax
        addl $(POOL + 3), %eax
        movq %rax, (%rdx)
        invlpg (%rsi)
        testl $0x07000000, %ebx                 /* one pass in 8 also rewrites that space's 2 MiB PDE */
        jnz next
        subq %rcx, %rdx                         /* the PT; its PD is 0x1000 below, PD[1] 8 further */
        movq $(POOL + 0x83), -0x0ff8(%rdx)
        movl $BIG, %eax
        invlpg (%rax)
next:   incl %r13d
        cmpl $PASSES, %r13d
        jb pass
        movl %r15d, %eax
        shll $4, %eax
        movq %r12, 0x30000(%rax)
        movq %r13, 0x30008(%rax)
        hlt
