/*
 * SMP test guest (flat binary linked at 0x8000, entered in real mode at 0000:8000).
 * The BSP reads the CPU count from fw_cfg, wakes the APs with INIT-SIPI-SIPI
 * (STARTUP vector 0x08: the APs start here too, at 0800:0000), waits for each to
 * check in, then sends: a fixed IPI to each AP by physical ID (vector 0x40), a
 * fixed IPI to logical destination 0x06 (APs 1 and 2 in the flat model, vector
 * 0x41), an NMI to all-but-self, a self-IPI by shorthand (vector 0x42) and a
 * lowest-priority IPI to logical 0xFE (vector 0x43: exactly one AP takes it).
 * Each AP adds 1 to a shared counter 1000 times with LOCK XADD before halting.
 * Results (dword arrays indexed by APIC ID) sit at fixed addresses; the guest
 * ends by writing 0x10 to isa-debug-exit (status 0x21).
 */
#include "boot16.inc"
        .set APIC, 0xfee00000
        .set UP, 0x6000          /* APs checked in */
        .set WORK, 0x6004        /* the shared counter */
        .set NCPUS, 0x6008       /* fw_cfg FW_CFG_NB_CPUS */
        .set HITS40, 0x6100      /* [16] per APIC ID */
        .set HITS41, 0x6140
        .set HITS42, 0x6180
        .set HITS43, 0x61c0
        .set NMIS, 0x6200
        .set IDT, 0x5000

        .section .text
        .code16
        .globl _start
_start:
        ljmp $0, $start16         /* the APs arrive with CS = 0x0800 */
start16:
        BOOT16_START
        lgdtl gdt_ptr
        ENTER_PM 0x08, pm32

        .code32
pm32:
        FLAT_DATA32 0x10
        mov APIC + 0x20, %ebx
        shr $24, %ebx             /* ebx = APIC ID */
        mov %ebx, %esp
        shl $12, %esp
        add $0x71000, %esp        /* a stack per CPU */
        lidt idt_ptr
        movl $0x1ff, APIC + 0xf0  /* SVR: software enable, spurious vector 0xFF */
        movl $0xffffffff, APIC + 0xe0 /* DFR: flat model */
        mov %ebx, %ecx
        mov $1, %eax
        shl %cl, %eax
        shl $24, %eax
        mov %eax, APIC + 0xd0     /* LDR: bit (ID) of the logical ID */
        test %ebx, %ebx
        jnz ap

        /* ---- BSP. IDT gates for NMI and vectors 0x40-0x43. */
        mov $2, %eax
        mov $nmi_handler, %edx
        call set_gate
        mov $0x40, %eax
        mov $h40, %edx
        call set_gate
        mov $0x41, %eax
        mov $h41, %edx
        call set_gate
        mov $0x42, %eax
        mov $h42, %edx
        call set_gate
        mov $0x43, %eax
        mov $h43, %edx
        call set_gate

        mov $0x05, %ax            /* fw_cfg: select FW_CFG_NB_CPUS, read 2 bytes */
        mov $0x510, %dx
        out %ax, %dx
        mov $0x511, %dx
        in %dx, %al
        movzbl %al, %esi
        mov %esi, NCPUS

        movl $0, APIC + 0x310
        movl $0x000c4500, APIC + 0x300   /* INIT, all excluding self */
        movl $0x000c4608, APIC + 0x300   /* STARTUP vector 0x08, all excluding self */
        movl $0x000c4608, APIC + 0x300   /* and again, as the MP protocol does */
        lea -1(%esi), %edi        /* edi = APs */
1:      pause
        cmp UP, %edi
        jne 1b

        /* Fixed IPI 0x40 to each AP by physical destination. */
        mov $1, %ecx
2:      cmp %esi, %ecx
        jae 3f
        mov %ecx, %eax
        shl $24, %eax
        mov %eax, APIC + 0x310
        movl $0x00004040, APIC + 0x300
        inc %ecx
        jmp 2b
3:      mov $1, %ecx              /* wait until every AP took it */
4:      cmp %esi, %ecx
        jae 5f
        cmpl $1, HITS40(,%ecx,4)
        jne 4b
        inc %ecx
        jmp 4b
5:
        movl $0x06000000, APIC + 0x310
        movl $0x00004841, APIC + 0x300   /* fixed, logical destination 0x06 */
        movl $0x000c4400, APIC + 0x300   /* NMI, all excluding self */
        movl $0xfe000000, APIC + 0x310
        movl $0x00004943, APIC + 0x300   /* lowest priority, logical 0xFE (every AP) */
        sti
        movl $0x00044042, APIC + 0x300   /* fixed self-IPI by shorthand */
        mov %edi, %eax
        imul $1000, %eax
6:      pause                     /* every AP's work done, and the self-IPI taken */
        cmp WORK, %eax
        jne 6b
        cmpl $1, HITS42
        jne 6b
        mov $2000000, %ecx        /* let the APs take the last IPIs */
7:      loop 7b
        mov $0x10, %al
        out %al, $0xf4
        hlt

        /* ---- APs. */
ap:
        lock incl UP
        mov $1000, %ecx
1:      mov $1, %eax
        lock xadd %eax, WORK
        loop 1b
        sti
2:      hlt
        jmp 2b

set_gate:                         /* IDT[eax] = interrupt gate to edx */
        lea IDT(,%eax,8), %eax
        mov %dx, (%eax)
        movw $0x08, 2(%eax)
        movw $0x8e00, 4(%eax)
        shr $16, %edx
        mov %dx, 6(%eax)
        ret

.macro COUNTER_HANDLER name, table
\name:
        push %eax
        mov APIC + 0x20, %eax
        shr $24, %eax
        incl \table(,%eax,4)
        movl $0, APIC + 0xb0      /* EOI */
        pop %eax
        iret
.endm
        COUNTER_HANDLER h40, HITS40
        COUNTER_HANDLER h41, HITS41
        COUNTER_HANDLER h42, HITS42
        COUNTER_HANDLER h43, HITS43
nmi_handler:
        push %eax
        mov APIC + 0x20, %eax
        shr $24, %eax
        incl NMIS(,%eax,4)
        pop %eax
        iret

        .p2align 3
gdt:
        .quad 0
        .quad 0x00cf9a000000ffff  /* 0x08: flat 32-bit code */
        .quad 0x00cf92000000ffff  /* 0x10: flat data */
gdt_ptr:
        .word gdt_ptr - gdt - 1
        .long gdt
idt_ptr:
        .word 0x7ff
        .long IDT
