/*
 * A boot-sector guest (real mode at 0x7C00) for the board lockstep: it programs the 8259 pair,
 * the 8254 and the RTC as a PC BIOS would, then three times waits with STI; HLT (the idle loop
 * every OS has) for the RTC's periodic interrupt (IRQ8), counts it in its handler, and leaves
 * through isa-debug-exit. The PIT runs four times faster with IRQ0 masked: its ticks end the
 * boards' sleeps without an interrupt to take, so both must stay halted until the RTC's tick.
 */
        .set TICKS, 0x0500
        .set PIC1, 0x20
        .set PIC2, 0xa0
        .set PIT, 0x40
        .set CMOS, 0x70
        .set DEBUG_EXIT, 0xf4

#include "boot16.inc"

        .section .text
        .code16
        .globl _start
_start:
        BOOT16_START
        movb $0, TICKS
        /* master at INT 08h, slave at INT 70h; only IRQ8 (and the cascade) unmasked */
        PIC_INIT 0x08, 0x70, 0xfb, 0xfe
        movw $irq8, 0x70 * 4
        movw $0, 0x70 * 4 + 2

        /* PIT channel 0, mode 2, divisor 0x100 (about 4.7 kHz), its IRQ0 masked above. */
        mov $0x34, %al
        out %al, $PIT + 3
        xor %al, %al
        out %al, $PIT
        mov $0x01, %al
        out %al, $PIT

        /* RTC periodic interrupt at 1024 Hz: register A rate 6, register B PIE. */
        mov $0x0a, %al
        out %al, $CMOS
        mov $0x26, %al
        out %al, $CMOS + 1
        mov $0x0b, %al
        out %al, $CMOS
        in $CMOS + 1, %al
        or $0x40, %al
        mov %al, %ah
        mov $0x0b, %al
        out %al, $CMOS
        mov %ah, %al
        out %al, $CMOS + 1

wait:
        cli
        cmpb $3, TICKS
        jae done
        sti
        hlt
        jmp wait

done:
        mov $0, %al
        out %al, $DEBUG_EXIT
        cli
        hlt

irq8:
        incb TICKS
        push %ax
        mov $0x0c, %al                  /* read register C: acknowledges the RTC interrupt */
        out %al, $CMOS
        in $CMOS + 1, %al
        mov $0x20, %al                  /* EOI to both controllers */
        out %al, $PIC2
        out %al, $PIC1
        pop %ax
        iret
