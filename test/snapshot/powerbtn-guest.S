/*
 * An ACPI power-button guest for the QMP system_powerdown test: loaded flat at 1 MiB
 * in 32-bit protected mode (-device loader). It loads its own GDT and IDT, routes the
 * SCI (ISA IRQ 9, on the slave 8259's line 1) to vector 0x29, enables the power-button
 * event in PM1a_EN, prints "ready" and halts. The SCI handler checks PWRBTN_STS in
 * PM1a_STS, clears it (write 1), prints "power button" and enters S5 (SLP_TYP 5 |
 * SLP_EN in PM1a_CNT), which powers the machine off. Ports as the FADT gives them.
 */
#include "pic.inc"
        .set COM1, 0x3f8
        .set PM1A_STS, 0x600
        .set PM1A_EN, 0x602
        .set PM1A_CNT, 0x604
        .set PWRBTN, 0x100
        .set IDT, 0x80000

        .code32
        .text
        .globl _start
_start:
        lgdt gdt_ptr
        ljmp $0x08, $1f
1:      mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x90000, %esp
        /* IDT: 0x2a gates, only 0x29 present (32-bit interrupt gate to sci). */
        mov $IDT, %edi
        xor %eax, %eax
        mov $0x2a * 2, %ecx
        rep stosl
        mov $sci, %eax
        mov %ax, IDT + 0x29 * 8
        movw $0x08, IDT + 0x29 * 8 + 2
        movw $0x8e00, IDT + 0x29 * 8 + 4
        shr $16, %eax
        mov %ax, IDT + 0x29 * 8 + 6
        lidt idt_ptr
        /* 8259s: master at 0x20, slave at 0x28, cascade on IRQ 2; only IRQ 2 and IRQ 9 unmasked. */
        PIC_REMAP 0xfb, 0xfd
        mov $PWRBTN, %ax
        mov $PM1A_EN, %dx
        out %ax, %dx
        mov $msg_ready, %esi
        call puts
        sti
2:      hlt
        jmp 2b

sci:    mov $PM1A_STS, %dx
        in %dx, %ax
        test $PWRBTN, %ax
        jz 3f
        mov $PWRBTN, %ax
        out %ax, %dx             /* write 1 to clear */
        mov $msg_button, %esi
        call puts
        mov $(5 << 10) | 0x2000, %ax
        mov $PM1A_CNT, %dx
        out %ax, %dx             /* S5: the machine powers off here */
3:      mov $0x20, %al
        out %al, $0xa0
        out %al, $0x20
        iret

puts:   lodsb
        test %al, %al
        jz 5f
        mov %al, %ah
        mov $COM1 + 5, %dx
4:      in %dx, %al
        test $0x20, %al
        jz 4b
        mov %ah, %al
        mov $COM1, %dx
        out %al, %dx
        jmp puts
5:      ret

        .data
        .align 8
gdt:    .quad 0
        .quad 0x00cf9a000000ffff  /* 0x08: code, flat 4 GiB */
        .quad 0x00cf92000000ffff  /* 0x10: data, flat 4 GiB */
gdt_ptr: .word 3 * 8 - 1
        .long gdt
idt_ptr: .word 0x2a * 8 - 1
        .long IDT
msg_ready: .asciz "ready\n"
msg_button: .asciz "power button\n"
