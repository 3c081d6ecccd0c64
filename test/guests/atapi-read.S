// An ATAPI driver in a few dozen instructions, for the -cdrom CLI test: loaded at 0x100000
// (-device loader; flat 32-bit protected mode), interrupts off, it polls the IDE secondary
// master through four PACKET commands (INQUIRY, READ CAPACITY, READ(10) of sectors 16-17,
// a READ(12) past the end, REQUEST SENSE) with a byte count limit of 2048, prints every data
// byte as two hex digits on COM1, then "!" with the status and error registers in hex and a
// newline after each command, and exits through isa-debug-exit with status 33.
        .code32
        .globl _start
_start:
        movl $0x90000, %esp
        movw $0x176, %dx                // select the secondary master
        movb $0xa0, %al
        outb %al, %dx
        movl $inquiry, %esi
        call packet
        movl $capacity, %esi
        call packet
        movl $read10, %esi
        call packet
        movl $read12_past, %esi
        call packet
        movl $sense, %esi
        call packet
        movb $0x10, %al                 // isa-debug-exit: (0x10 << 1) | 1 = 33
        outb %al, $0xf4
1:      hlt
        jmp 1b

// Send the 12-byte packet at ESI, then read and print each DRQ block until the command ends.
packet:
        movw $0x171, %dx                // features: PIO
        xorb %al, %al
        outb %al, %dx
        movw $0x174, %dx                // byte count limit 0x0800
        outb %al, %dx
        movw $0x175, %dx
        movb $0x08, %al
        outb %al, %dx
        movw $0x177, %dx
        movb $0xa0, %al                 // PACKET
        outb %al, %dx
2:      inb %dx, %al                    // wait for DRQ
        testb $0x08, %al
        jz 2b
        movw $0x170, %dx
        movl $6, %ecx
        rep outsw
block:
        movw $0x177, %dx
        inb %dx, %al
        testb $0x80, %al                // BSY
        jnz block
        testb $0x08, %al                // DRQ: a block of data
        jz status
        movw $0x174, %dx
        inb %dx, %al
        movb %al, %cl
        incw %dx
        inb %dx, %al
        movb %al, %ch
        movzwl %cx, %ecx
        shrl $1, %ecx
        movw $0x170, %dx
3:      inw %dx, %ax
        call hex
        movb %ah, %al
        call hex
        loop 3b
        jmp block
status:
        movb %al, %bl
        movb $'!', %al
        call putc
        movb %bl, %al
        call hex
        movw $0x171, %dx
        inb %dx, %al
        call hex
        movb $'\n', %al
        jmp putc

#include "com1.inc"

inquiry:     .byte 0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0
capacity:    .byte 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
read10:      .byte 0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0, 0, 0
read12_past: .byte 0xa8, 0, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0
sense:       .byte 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0
