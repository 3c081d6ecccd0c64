/*
 * A boot-sector-style test guest for cpu-system: starts in real mode at 0x7C00,
 * takes a software interrupt through the real-mode IVT, enters unreal mode
 * (a 4 GiB data limit cached in DS after returning to real mode), then goes
 * real -> 32-bit protected -> IA-32e long mode with 4-level paging. Each step
 * appends a text line to the report buffer at physical 0x6000.
 * Built by test/cpu/system-guest.test.ts (flat binary, linked at 0x7C00).
 */
        .set REPORT, 0x6000
        .set PML4, 0x10000

#include "boot16.inc"

        .section .text
        .code16
        .globl _start
_start:
        BOOT16_START
        movw $REPORT, rptr
        movb $0, REPORT

        /* Real-mode INT 0x30 through the IVT. */
        movw $int30, 0x30 * 4
        movw $0, 0x30 * 4 + 2
        int $0x30
        mov $msg_real, %si
        call puts16

        /* Unreal mode: load DS with a 4 GiB data segment in protected mode, return to real mode. */
        lgdtl gdt_ptr
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        mov $0x10, %bx
        mov %bx, %ds
        and $~1, %eax
        mov %eax, %cr0
        xor %bx, %bx
        mov %bx, %ds
        movl $0x600dcafe, %ebx
        addr32 mov %ebx, 0x200000       /* above 1 MiB through DS with base 0: needs the cached limit */
        addr32 mov 0x200000, %ecx
        cmp %ebx, %ecx
        jne 1f
        mov $msg_unreal, %si
        call puts16
1:
        /* Protected mode proper. */
        ENTER_PM 0x08, pm32

int30:
        mov $msg_int, %si
        call puts16
        iret

puts16:                                 /* ds:si -> report */
        mov (%si), %al
        inc %si
        test %al, %al
        jz 2f
        mov rptr, %di
        mov %al, (%di)
        movb $0, 1(%di)
        incw rptr
        jmp puts16
2:      ret

        .code32
pm32:
        FLAT_DATA32 0x10
        mov $0x7000, %esp
        mov $msg_pm, %esi
        call puts32
        /* 4-level tables at PML4: identity 0-2 MiB with one 2 MiB page. */
        mov $PML4, %edi
        mov $0x3000, %ecx
        xor %eax, %eax
3:      movl $0, (%edi)
        add $4, %edi
        dec %ecx
        jnz 3b
        movl $PML4 + 0x1000 + 7, PML4
        movl $PML4 + 0x2000 + 7, PML4 + 0x1000
        movl $0x87, PML4 + 0x2000
        mov %cr4, %eax
        or $0x20, %eax
        mov %eax, %cr4
        mov $PML4, %eax
        mov %eax, %cr3
        mov $0xc0000080, %ecx
        rdmsr
        or $0x100, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000000, %eax
        mov %eax, %cr0
        mov $msg_compat, %esi
        call puts32
        ljmp $0x18, $lm64

puts32:
        mov (%esi), %al
        inc %esi
        test %al, %al
        jz 4f
        movzwl rptr, %edi
        mov %al, (%edi)
        movb $0, 1(%edi)
        incw rptr
        jmp puts32
4:      ret

        .code64
lm64:
        mov $msg_long, %esi
        call puts32_in64
5:      hlt
        jmp 5b

puts32_in64:
        mov (%rsi), %al
        inc %rsi
        test %al, %al
        jz 6f
        movzwl rptr, %edi
        mov %al, (%rdi)
        movb $0, 1(%rdi)
        incw rptr
        jmp puts32_in64
6:      ret

msg_int:    .asciz "INT30\n"
msg_real:   .asciz "REAL\n"
msg_unreal: .asciz "UNREAL\n"
msg_pm:     .asciz "PM32\n"
msg_compat: .asciz "COMPAT\n"
msg_long:   .asciz "LONG64\n"

        .align 8
gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08 code 32 */
        .quad 0x00cf92000000ffff        /* 0x10 data, 4 GiB */
        .quad 0x00af9a000000ffff        /* 0x18 code 64 */
gdt_end:
gdt_ptr:
        .word gdt_end - gdt - 1
        .long gdt
rptr:   .word 0
