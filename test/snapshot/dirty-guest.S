/*
 * A memory-dirtying guest for the live-migration tests: loaded flat at 1 MiB in 32-bit
 * protected mode (-device loader). It prints "start", then round after round adds
 * (i ^ round) to each dword i of a region, until ROUNDS rounds are done or the host
 * writes a non-zero dword at STOP_FLAG; then it prints the rounds done and the region's
 * checksum as "rounds=XXXXXXXX sum=XXXXXXXX" and leaves through isa-debug-exit with
 * 0x10 (exit status 33).
 */
        .set REGION, 0x400000
        .set DWORDS, 0x40000
        .set ROUNDS, 12
        .set COM1, 0x3f8
        .set STOP_FLAG, 0x300000

        .code32
        .text
        .globl _start
_start:
        mov $0x90000, %esp
        mov $msg_start, %esi
        call puts
        xor %ebx, %ebx
round:
        mov $REGION, %edi
        xor %ecx, %ecx
fill:
        mov %ecx, %eax
        xor %ebx, %eax
        add %eax, (%edi,%ecx,4)
        inc %ecx
        cmp $DWORDS, %ecx
        jne fill
        inc %ebx
        cmpl $0, STOP_FLAG
        jne done
        cmp $ROUNDS, %ebx
        jne round
done:
        mov %ebx, %edx
        mov $msg_rounds, %esi
        call puts
        call puthex
        xor %eax, %eax
        xor %ecx, %ecx
sum:
        add (%edi,%ecx,4), %eax
        inc %ecx
        cmp $DWORDS, %ecx
        jne sum
        mov %eax, %edx
        mov $msg_sum, %esi
        call puts
        call puthex
        mov $'\n', %al
        call putc
        mov $0x10, %al
        out %al, $0xf4
1:      hlt
        jmp 1b

/* %edx as 8 hex digits */
puthex: mov $8, %ecx
4:      rol $4, %edx
        mov %edx, %eax
        and $15, %eax
        movb hexdigits(%eax), %al
        call putc
        loop 4b
        ret

putc:   push %edx
        push %eax
        mov $COM1 + 5, %dx
2:      in %dx, %al
        test $0x20, %al
        jz 2b
        pop %eax
        mov $COM1, %dx
        out %al, %dx
        pop %edx
        ret

puts:   lodsb
        test %al, %al
        jz 3f
        call putc
        jmp puts
3:      ret

msg_start:  .asciz "start\n"
msg_rounds: .asciz "rounds="
msg_sum:    .asciz " sum="
hexdigits:  .ascii "0123456789abcdef"
