/*
 * Self-modifying code in big real mode: routines are patched into buffers and called, over and
 * over, the way real-mode test harnesses and loaders do it. Starts at 0x7C00 (boot sector, no
 * BIOS), loads DS/ES with 4 GiB limits through a protected-mode detour, then runs with CS = 0x07C0
 * (a 16-bit CS whose base is not 0). Each pass writes `mov ax, imm16; add bx, ax; ret` (or RETF)
 * with a new immediate into the buffer at physical 0x9000 and calls it near from CS = 0x07C0
 * (offset 0x1400) and far through CS = 0x0900 (offset 0). A second routine at physical 0x18F00,
 * `mov ax, imm16; add bx, ax; test dl, 1; jnz (32-bit displacement) +0x100; retf`, is called
 * through CS = 0x08F1 at offset 0xFFF0 with DL = 0 (not taken: the target would lie past the
 * 64 KiB CS limit) and then through CS = 0x18F0 at offset 0 with DL = 1 (taken, to a RETF at
 * offset 0x10F): the same physical bytes under two CS bases. A #GP (IVT 13) counts itself at
 * 0x6006 and halts. At the end the guest stores the pass count and BX at 0x6000 and 0x600D at 0x6004.
 * Built by test/cpu/system-smc16.test.ts (flat binary, linked at 0x7C00).
 */
        .set RESULT, 0x6000
        .set PASSES, 200
        .set BUF, 0x9000                /* physical */
        .set HIGH, 0x18f00              /* physical = 0x08F1 * 16 + 0xFFF0 = 0x18F0 * 16 */

#include "boot16.inc"

        .section .text
        .code16
        .globl _start
_start:
        BOOT16_START
        BIG_REAL_DS_ES 0x10
        movw $(gp_handler - _start), 13 * 4
        movw $0x07c0, 13 * 4 + 2
        addr32 movb $0xcb, %es:HIGH + 0x10f     /* RETF at the jump target */
        ljmp $0x07c0, $(main - _start)

main:
        xor %bx, %bx
        xor %si, %si                    /* passes done */
        mov $PASSES, %cx
pass:
        /* mov ax, cx; add bx, ax; ret -> the buffer, through ES with a 32-bit address */
        addr32 movb $0xb8, %es:BUF
        addr32 mov %cx, %es:BUF + 1
        addr32 movw $0xc301, %es:BUF + 3
        addr32 movb $0xc3, %es:BUF + 5
        call BUF                        /* near: CS base 0x7C00, offset 0x1400 (link addresses are physical) */
        /* the same bytes ending in RETF, called through another CS base */
        addr32 movb $0xcb, %es:BUF + 5
        lcall $0x0900, $0
        /* mov ax, cx; add bx, ax; test dl, 1; data32 jnz +0x100; retf -> HIGH */
        addr32 movb $0xb8, %es:HIGH
        addr32 mov %cx, %es:HIGH + 1
        addr32 movl $0xc2f6c301, %es:HIGH + 3   /* 01 c3: add bx, ax; f6 c2 01: test dl, 1 */
        addr32 movb $0x01, %es:HIGH + 7
        addr32 movl $0x00850f66, %es:HIGH + 8   /* 66 0f 85 rel32: data32 jnz +0x100 ... */
        addr32 movl $0xcb000001, %es:HIGH + 12  /* ... rel32 = 0x100; cb: retf */
        xor %dl, %dl
        lcall $0x08f1, $0xfff0          /* near the CS limit: the branch is not taken */
        mov $1, %dl
        lcall $0x18f0, $0               /* the same bytes at offset 0: taken, inside the limit */
        inc %si
        dec %cx
        jnz pass

        mov %si, %ds:RESULT
        mov %bx, %ds:RESULT + 2
        movw $0x600d, %ds:RESULT + 4
        cli
        hlt
        jmp .

gp_handler:                             /* #GP: count it, stop */
        incw %ds:RESULT + 6
        cli
        hlt
        jmp gp_handler

gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08 code 32 */
        .quad 0x00cf92000000ffff        /* 0x10 data, 4 GiB */
gdt_end:
gdt_ptr:
        .word gdt_end - gdt - 1
        .long gdt
