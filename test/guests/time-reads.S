// Instruction time as the guest sees it: a flat 32-bit guest (loaded at 0x100000, interrupts
// off) that reads every time source in loops whose blocks the JIT compiles: the TSC (RDTSC,
// an executor), the ACPI PM timer (IN), the HPET main counter (a MOV load whose slow path is
// MMIO) and PIT counter 2 (latched, two INs), with a second RDTSC in a subroutine on another
// page (a region of its own, reached by a chain hop and left by RET). Under --deterministic
// (1 ns and one TSC tick per instruction) every reading must be the instructions retired
// before it, whatever blocks, passes or regions ran them. Results: at LOOP_OUT, 6 dwords per
// iteration (TSC, PM timer, HPET, PIT LSB|MSB << 8, the subroutine's TSC, 0); at TIGHT_OUT
// one TSC per pass of a one-block self-loop; then isa-debug-exit status 33.
        .code32
        .set LOOP_OUT, 0x8000
        .set LOOP_N, 300
        .set TIGHT_OUT, 0x10000
        .set TIGHT_N, 300
        .set PM_TMR, 0x608
        .set HPET, 0xfed00000
        .globl _start
_start:
        movl $0x90000, %esp
        movl $1, HPET + 0x10            // HPET general configuration: ENABLE_CNF
        inb $0x61, %al                  // PIT gate 2 high, speaker off
        andb $0xfd, %al
        orb $0x01, %al
        outb %al, $0x61
        movb $0xb4, %al                 // counter 2, lobyte/hibyte, mode 2, binary
        outb %al, $0x43
        movb $0xff, %al
        outb %al, $0x42
        outb %al, $0x42
        movl $HPET + 0xf0, %ebx
        movl $LOOP_OUT, %edi
        movl $LOOP_N, %ecx
loop:   movl %ecx, %esi                 // 1
        addl $1, %ebp                   // 2
        rdtsc                           // 3: 2 instructions into the iteration
        movl %eax, (%edi)
        movw $PM_TMR, %dx
        inl %dx, %eax
        movl %eax, 4(%edi)
        movl (%ebx), %eax               // 8: the HPET counter
        movl %eax, 8(%edi)
        movb $0x80, %al                 // latch counter 2
        outb %al, $0x43
        inb $0x42, %al
        movb %al, 12(%edi)
        inb $0x42, %al
        movb %al, 13(%edi)
        call sub                        // 16
        movl %eax, 16(%edi)
        addl $24, %edi
        decl %ecx
        jnz loop                        // 20 (+ 3 in sub: 23 per iteration)
        movl $TIGHT_OUT, %edi
        movl $TIGHT_N, %ecx
tight:  addl $1, %ebp                   // 6 per pass, the TSC read 1 in
        rdtsc
        movl %eax, (%edi)
        addl $4, %edi
        decl %ecx
        jnz tight
        movb $16, %al
        outb %al, $0xf4                 // isa-debug-exit: status 33

        .p2align 12
sub:    addl $1, %ebp                   // 17 into the iteration
        rdtsc
        ret
