// A multiboot guest for the browser demo's kept-disk test: it reads sector 0 of the IDE
// primary master by PIO, prints its first line ("generation N") as "disk: generation N",
// adds one to the digit N, writes the sector back, sends FLUSH CACHE, prints "disk: flushed"
// and halts. Booted twice over the same kept image, the second boot prints what the first wrote.
        .set MB_MAGIC, 0x1badb002
        .set BUF, 0x80000
        .text
        .code32
        .globl _start
        .align 4
        .long MB_MAGIC, 0, -MB_MAGIC
_start:
        cli
        movl $0x90000, %esp
        movb $0x20, %al                 // READ SECTORS
        call command
        movl $BUF, %edi
        movl $256, %ecx
        movw $0x1f0, %dx
        rep insw
        movl $prefix, %esi
        call puts
        movl $BUF, %esi                 // the sector's first line
1:      lodsb
        call putc
        cmpb $'\n', %al
        jne 1b
        incb BUF + 11                   // "generation N": N is at offset 11
        movb $0x30, %al                 // WRITE SECTORS
        call command
        movl $BUF, %esi
        movl $256, %ecx
        movw $0x1f0, %dx
        rep outsw
        movw $0x1f7, %dx
        movb $0xe7, %al                 // FLUSH CACHE
        outb %al, %dx
2:      inb %dx, %al
        testb $0x80, %al
        jnz 2b
        movl $flushed, %esi
        call puts
3:      hlt
        jmp 3b

// Sector 0, count 1, LBA28 on the master; command AL; wait for DRQ.
command:
        movb %al, %bl
        movw $0x1f6, %dx
        movb $0xe0, %al
        outb %al, %dx
        movw $0x1f2, %dx
        movb $1, %al
        outb %al, %dx
        xorb %al, %al
        incw %dx
        outb %al, %dx
        incw %dx
        outb %al, %dx
        incw %dx
        outb %al, %dx
        movw $0x1f7, %dx
        movb %bl, %al
        outb %al, %dx
4:      inb %dx, %al
        testb $0x08, %al
        jz 4b
        ret

#include "com1.inc"

prefix:  .asciz "disk: "
flushed: .asciz "disk: flushed\n"
