// Linux's quick PIT calibration of the TSC (arch/x86/kernel/tsc.c, quick_pit_calibrate), as a
// flat 32-bit guest loaded at 0x100000 with interrupts off: PIT channel 2 in mode 0 from 0xFFFF,
// the MSB of its count polled (LSB read and dropped) while RDTSC stamps every read; the error of
// the first and last stamps of an MSB value must fall below 1/2048 of the TSC ticks between them
// (500 ppm) within 233 MSB steps (50 ms). Each poll also reads port 0xE0 (a test device that
// stalls the host, as a descheduled host thread would). Results at RESULT: status (1 calibrated,
// 2 failed), the MSB steps i, the TSC delta over them, d1 + d2; then isa-debug-exit status 33.
        .code32
        .set RESULT, 0x8000
        .set STALL, 0xe0
        .set MAX_ITER, 233
        .globl _start
_start:
        movl $0x90000, %esp
        inb $0x61, %al                  // gate high, speaker off
        andb $0xfd, %al
        orb $0x01, %al
        outb %al, $0x61
        movb $0xb0, %al                 // counter 2, lobyte/hibyte, mode 0, binary
        outb %al, $0x43
        movb $0xff, %al
        outb %al, $0x42
        outb %al, $0x42
        inb $0x42, %al                  // pit_verify_msb(0): the delay until the count loads
        inb $0x42, %al
        movb $0xff, %bl
        call expect
        cmpl $5, %eax
        jbe fail
        movl %esi, tsc0
        movl %edi, d1
        movl $1, %ecx
next:   cmpl $MAX_ITER, %ecx
        ja fail
        movl %ecx, iter
        movb $0xff, %bl
        subb %cl, %bl
        call expect
        cmpl $5, %eax
        jbe fail
        subl tsc0, %esi                 // delta
        movl %esi, delta
        addl d1, %edi                   // d1 + d2
        movl %edi, dsum
        movl iter, %ecx
        cmpl $1, %ecx                   // i == 1: fail fast if the error can never reach 500 ppm
        jne 1f
        movl %esi, %eax
        movl $MAX_ITER, %edx
        mull %edx
        shrdl $11, %edx, %eax
        cmpl %eax, %edi
        jae fail
1:      movl %esi, %eax
        shrl $11, %eax
        cmpl %eax, %edi
        jb verify
        incl %ecx
        jmp next
verify: movb $0xfe, %bl                 // the PIT once more: every stamp was stable against it
        subb %cl, %bl
        inb $0x42, %al
        inb $0x42, %al
        cmpb %bl, %al
        jne fail
        movl $1, RESULT
        jmp done
fail:   movl $2, RESULT
done:   movl iter, %eax
        movl %eax, RESULT + 4
        movl delta, %eax
        movl %eax, RESULT + 8
        movl dsum, %eax
        movl %eax, RESULT + 12
        movb $0x10, %al                 // isa-debug-exit: (0x10 << 1) | 1 = 33
        outb %al, $0xf4
2:      hlt
        jmp 2b

// pit_expect_msb(BL): poll while the MSB reads BL (at most 50000 times). Returns EAX = polls,
// ESI = the TSC at the last good poll, EDI = TSC now - the TSC at the poll before it.
expect: xorl %ecx, %ecx
        xorl %esi, %esi
        xorl %ebp, %ebp
3:      cmpl $50000, %ecx
        jae 4f
        inb $STALL, %al
        inb $0x42, %al
        inb $0x42, %al
        cmpb %bl, %al
        jne 4f
        movl %esi, %ebp
        rdtsc
        movl %eax, %esi
        incl %ecx
        jmp 3b
4:      rdtsc
        subl %ebp, %eax
        movl %eax, %edi
        movl %ecx, %eax
        ret

        .data
tsc0:   .long 0
d1:     .long 0
iter:   .long 0
delta:  .long 0
dsum:   .long 0
