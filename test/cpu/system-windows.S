/*
 * Interrupt windows and the MOV SS shadow, checked from inside a 64-bit guest
 * (SDM Vol. 3A 6.8.3, 18.3.1; Vol. 2 STI, POPF, IRET, MOV CR8). Built as a flat
 * binary at 0x10000 by test/cpu/system-windows.test.ts, which starts it in
 * 64-bit mode with flat segments (CS 0x08, data 0x10) and gives it an
 * interrupt source: OUT to port 0xe0 raises the vector in AL, taken when IF=1
 * and its class is above CR8, and a stub APIC page whose TPR (APIC_TPR) is CR8 too.
 *
 * Each case ends in `snap`, which appends a 128-byte record at LOG + 16 (the
 * count of records is at LOG): the expected addresses passed in RSI and RDX,
 * the interrupts taken (count, last return RIP), and the #DBs taken (count,
 * then DR6 and return RIP of the first four).
 */
#include "idt64.inc"

        .set LOG, 0x6000
        .set RAISE, 0xe0
        .set VEC, 0x40
        .set IF, 0x200
        .set TF, 0x100
        /* The rig's stub APIC page (an MMIO page past RAM): its TPR, bits 7:4 = CR8. */
        .set APIC_TPR, 0x400080

        .macro RAISE_IRQ
        mov $VEC, %al
        out %al, $RAISE
        .endm

        /* RFLAGS.TF on from the next-but-one instruction; RAX keeps the flags for the way out. */
        .macro TF_ON
        pushfq
        pop %rax
        or $TF, %rax
        push %rax
        mov %ss, %ecx
        popfq
        .endm

        /* Record the case, expecting the address of the nearest `1:` before. */
        .macro SNAP_1B
        lea 1b(%rip), %rsi
        call snap
        .endm

        .text
        .code64
        .globl _start
_start:
        cli
        mov $1, %edi
        lea db_handler(%rip), %rsi
        call set_gate
        mov $VEC, %edi
        lea irq_handler(%rip), %rsi
        call set_gate
        lidt idt_ptr(%rip)
        movl $0, LOG

        /* 1. sti; nop; cli with an interrupt pending: taken after the NOP. */
        cli
        RAISE_IRQ
        sti
        nop
1:      cli
        SNAP_1B

        /* 2. sti; cpuid; cpuid; cli: taken after the first CPUID. */
        RAISE_IRQ
        xor %eax, %eax
        sti
        cpuid
1:      cpuid
        cli
        SNAP_1B

        /* 3. POPF setting IF: taken at once, after the POPF. */
        RAISE_IRQ
        pushfq
        orq $IF, (%rsp)
        popfq
1:      nop
        cli
        SNAP_1B

        /* 4. IRETQ to a frame with IF set: taken at once, on the IRETQ's target. */
        RAISE_IRQ
        mov %rsp, %rax
        push $0x10
        push %rax
        pushfq
        orq $IF, (%rsp)
        push $0x08
        lea 1f(%rip), %rax
        push %rax
        iretq
1:      nop
        cli
        SNAP_1B

        /* 5. CR8 = 15 masks the vector (class 4) with IF=1; CR8 = 0 lets it in after the MOV. */
        mov $15, %eax
        mov %rax, %cr8
        RAISE_IRQ
        sti
        nop
        nop
        xor %eax, %eax
        mov %rax, %cr8
1:      nop
        cli
        SNAP_1B

        /* 6. sti; mov ss: the MOV SS shadow covers one more boundary, taken after the NOP. */
        RAISE_IRQ
        mov %ss, %eax
        sti
        mov %eax, %ss
        nop
1:      nop
        cli
        SNAP_1B

        /* 7. sti; cli: the window never opens, nothing taken... */
        RAISE_IRQ
        sti
        cli
        nop
        xor %esi, %esi
        call snap
        /* 8. ...the interrupt is still pending: sti; nop; cli takes it. */
        sti
        nop
1:      cli
        SNAP_1B

        /* 9. sti; hlt: HLT in the shadow, woken at once, return address after HLT. */
        RAISE_IRQ
        sti
        hlt
1:      cli
        SNAP_1B

        /* 10. TF set by POPF, then MOV SS: no single-step trap after the MOV SS; traps after AND, PUSH, POPF. */
        TF_ON
        mov %ecx, %ss
        and $~TF, %rax
1:      push %rax
        popfq
        SNAP_1B

        /* 11. TF, MOV SS, ICEBP: one #DB, from the ICEBP (no BS), then single steps as usual. */
        TF_ON
        mov %ecx, %ss
        .byte 0xf1
1:      and $~TF, %rax
        push %rax
        popfq
        SNAP_1B

        /* 12. TF, MOV SS, then MOV DR6 with DR7.GD: the #DB with BD is a fault, not held back. */
        mov $0x2400, %eax
        mov %rax, %dr7
        xor %edx, %edx
        TF_ON
        mov %ecx, %ss
1:      mov %rdx, %dr6
        and $~TF, %rax
        push %rax
        popfq
        SNAP_1B

        /* 13. A data breakpoint on the selector MOV SS loads: the #DB comes after the next instruction. */
        lea ss_value(%rip), %rax
        mov %rax, %dr0
        mov $0x000f0402, %eax           /* G0, R/W0 = 11 (reads or writes), LEN0 = 4 bytes */
        mov %rax, %dr7
        mov ss_value(%rip), %ss
        nop
1:      nop
        SNAP_1B

        /* 14. The same with ICEBP in the shadow: one #DB, B0 reported with it. */
        mov ss_value(%rip), %ss
        .byte 0xf1
1:      nop
        SNAP_1B

        /* 15. The same with INT 1 in the shadow: INT 1 enters the handler, then the held #DB is taken there. */
        mov ss_value(%rip), %ss
        int $1
1:      nop
        mov $0x400, %eax
        mov %rax, %dr7
        lea 1b(%rip), %rsi
        lea db_handler(%rip), %rdx
        call snap

        /* 16. CR8 = 15 masks the vector; the TPR lowered to 0 through the APIC page (a MOV of an
         * immediate to an absolute address: STORE_MI) lets it in right after the MOV, inside the block, before CLI. */
        mov $15, %eax
        mov %rax, %cr8
        RAISE_IRQ
        sti
        nop
        nop
        movl $0, APIC_TPR
1:      nop
        nop
        cli
        SNAP_1B

        /* 17. The same through a register store to [rbx] (STORE64_32, whose MMIO slow path ends the block). */
        mov $15, %eax
        mov %rax, %cr8
        mov $APIC_TPR, %ebx
        RAISE_IRQ
        xor %eax, %eax
        sti
        nop
        nop
        mov %eax, (%rbx)
1:      nop
        nop
        cli
        SNAP_1B

        /* 18. x2APIC mode (IA32_APIC_BASE.EXTD): the TPR lowered by WRMSR 0x808 lets it in right after the WRMSR. */
        mov $0x1b, %ecx
        rdmsr
        or $0xc00, %eax
        wrmsr
        mov $15, %eax
        mov %rax, %cr8
        RAISE_IRQ
        mov $0x808, %ecx
        xor %eax, %eax
        xor %edx, %edx
        sti
        nop
        nop
        wrmsr
1:      nop
        nop
        cli
        SNAP_1B

        IDT64_HALT_AND_SET_GATE

/* Append a record (see the top) and reset the counters. */
snap:
        push %rax
        push %rbx
        push %rcx
        mov LOG, %ebx
        incl LOG
        shl $7, %ebx
        add $LOG + 16, %ebx
        mov %rsi, (%rbx)
        mov %rdx, 8(%rbx)
        mov irq_count(%rip), %rax
        mov %rax, 16(%rbx)
        mov irq_rip(%rip), %rax
        mov %rax, 24(%rbx)
        mov db_count(%rip), %rax
        mov %rax, 32(%rbx)
        xor %ecx, %ecx
1:      mov db_log(%rcx), %rax
        mov %rax, 40(%rbx, %rcx)
        add $8, %ecx
        cmp $64, %ecx
        jne 1b
        xor %eax, %eax
        mov %rax, irq_count(%rip)
        mov %rax, irq_rip(%rip)
        mov %rax, db_count(%rip)
        xor %ecx, %ecx
1:      mov %rax, db_log(%rcx)
        add $8, %ecx
        cmp $64, %ecx
        jne 1b
        xor %edx, %edx
        pop %rcx
        pop %rbx
        pop %rax
        ret

irq_handler:
        push %rax
        mov 8(%rsp), %rax
        mov %rax, irq_rip(%rip)
        incq irq_count(%rip)
        pop %rax
        iretq

/* #DB: log DR6 and the return RIP (first four), reset DR6, return with the frame as it is. */
db_handler:
        push %rax
        push %rbx
        mov db_count(%rip), %rbx
        cmp $4, %rbx
        jae 1f
        shl $4, %rbx
        lea db_log(%rip), %rax
        add %rax, %rbx
        mov %dr6, %rax
        mov %rax, (%rbx)
        mov 16(%rsp), %rax
        mov %rax, 8(%rbx)
1:      incq db_count(%rip)
        mov $0xffff0ff0, %eax
        mov %rax, %dr6
        pop %rbx
        pop %rax
        iretq

        .data
        IDT64_TABLE
        .align 8
ss_value:
        .long 0x10
irq_count: .quad 0
irq_rip: .quad 0
db_count: .quad 0
db_log: .fill 8, 8, 0
