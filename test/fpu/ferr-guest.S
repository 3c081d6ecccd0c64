/*
 * A DOS-style x87 error test guest for test/fpu/ferr.test.ts: a boot sector at 0x7C00 in real
 * mode that programs the 8259 pair as the PC BIOS does (IRQ13 -> INT 75h), installs an IRQ13
 * handler (port F0h, FNCLEX, EOI) and a #MF handler (vector 16), divides by zero with ZE
 * unmasked and waits with FWAIT: twice with CR0.NE=0 (IRQ13), once with CR0.NE=1 (#MF).
 * Results go to the variables at 0x500; the test reads them.
 */
        .set VARS, 0x0500
        .set IRQ_COUNT, VARS + 0        /* byte: IRQ13 handler runs */
        .set MF_COUNT, VARS + 1         /* byte: #MF handler runs */
        .set IRQ_SW, VARS + 2           /* word: FSW the IRQ13 handler saw */
        .set MF_SW, VARS + 4            /* word: FSW the #MF handler saw */
        .set MF_IP, VARS + 6            /* word: the #MF return address */
        .set AFTER1, VARS + 8           /* words: FSW back in the program after each error */
        .set AFTER2, VARS + 10
        .set AFTER3, VARS + 12
        .set SLAVE_ISR, VARS + 14       /* byte: slave 8259 in-service register inside the handler */
        .set STAGE, VARS + 15           /* byte: which FWAIT the program is at */
        .set IRQ_STAGE, VARS + 16       /* byte: STAGE when IRQ13 last came */
        .set DONE, VARS + 17
        .set FWAIT_NE1, VARS + 18       /* word: address of the NE=1 FWAIT */
        .set CW, VARS + 20              /* word: control word with ZE unmasked */

        .set PIC1, 0x20
        .set PIC2, 0xa0
        .set FERR_PORT, 0xf0

#include "boot16.inc"

        .section .text
        .code16
        .globl _start
_start:
        BOOT16_START
        /* master at INT 08h with only the cascade, slave at INT 70h with only IRQ13 */
        PIC_INIT 0x08, 0x70, 0xfb, 0xdf

        movw $irq13, 0x75 * 4
        movw $0, 0x75 * 4 + 2
        movw $mf, 0x10 * 4
        movw $0, 0x10 * 4 + 2
        movw $0x037b, CW
        movw $fwait_ne1, FWAIT_NE1
        sti

        /* CR0.NE = 0, as after reset: FERR# -> IRQ13. */
        call divide_by_zero
        movb $1, STAGE
        fwait
        call settle
        fnstsw AFTER1
        /* Again: the handler's FNCLEX deasserted FERR# and with it IGNNE#, so this one is reported too. */
        call divide_by_zero
        movb $2, STAGE
        fwait
        call settle
        fnstsw AFTER2

        /* CR0.NE = 1: the same code takes #MF at the FWAIT. */
        mov %cr0, %eax
        or $0x20, %eax
        mov %eax, %cr0
        call divide_by_zero
        movb $3, STAGE
fwait_ne1:
        fwait
        fnstsw AFTER3
        movb $1, DONE
        cli
1:      hlt
        jmp 1b

/* 1/0 with ZE unmasked: ZE and ES pending, nothing reported yet. */
divide_by_zero:
        fninit
        fldcw CW
        fld1
        fldz
        .byte 0xde, 0xf9                /* fdivp st(1), st(0) */
        ret

/* A few instructions of ordinary work after the FWAIT. */
settle:
        mov $8, %cx
1:      loop 1b
        ret

irq13:
        push %ax
        fnstsw IRQ_SW
        mov $0x0b, %al                  /* OCW3: read the in-service register */
        out %al, $PIC2
        in $PIC2, %al
        mov %al, SLAVE_ISR
        mov STAGE, %al
        mov %al, IRQ_STAGE
        incb IRQ_COUNT
        xor %al, %al
        out %al, $FERR_PORT             /* IRQ13 off, IGNNE# on */
        fnclex                          /* ES off: FERR# and IGNNE# off */
        mov $0x20, %al
        out %al, $PIC2
        out %al, $PIC1
        pop %ax
        iret

mf:
        push %ax
        push %bp
        mov %sp, %bp
        mov 4(%bp), %ax                 /* the return IP */
        mov %ax, MF_IP
        fnstsw MF_SW
        incb MF_COUNT
        fnclex
        pop %bp
        pop %ax
        iret
