/*
 * What guests probe before they trust a CPU, from inside a 64-bit guest: INVLPG of a
 * non-canonical address, the MSRs that real kernels read (IA32_FEATURE_CONTROL, MSR_PLATFORM_INFO,
 * IA32_MISC_ENABLE, IA32_TSC_ADJUST) and the CPUID bits that say "virtual machine" (leaf 1 ECX[31],
 * leaves 0x40000000 up). Built as a flat binary at 0x10000 and run by
 * test/cpu/system-probes.test.ts (test/cpu/guest64-rig.ts).
 *
 * Each probe appends a 32-byte record at LOG + 16 (the count at LOG): EAX, EBX, ECX, EDX as the
 * probe left them, then the #GPs taken during it. A #GP goes on at the probe's `fixup` label.
 */
#include "idt64.inc"

        .set LOG, 0x6000

        /* Run the instructions that follow with a #GP resuming at 2f. */
        .macro TRY
        lea 2f(%rip), %rax
        mov %rax, fixup(%rip)
        .endm

        .text
        .code64
        .globl _start
_start:
        cli
        mov $13, %edi
        lea gp_handler(%rip), %rsi
        call set_gate
        lidt idt_ptr(%rip)
        movl $0, LOG

        /* 1. INVLPG of a non-canonical address: no fault. */
        TRY
        mov $0x8000000000001000, %rbx
        invlpg (%rbx)
2:      call snap

        /* 2. INVLPG of a canonical one (the code page): no fault. */
        TRY
        invlpg _start(%rip)
2:      call snap

        /* 3. RDMSR IA32_FEATURE_CONTROL: locked, VMX off. */
        TRY
        mov $0x3a, %ecx
        rdmsr
2:      call snap

        /* 4. WRMSR IA32_FEATURE_CONTROL while locked: #GP. */
        TRY
        mov $0x3a, %ecx
        mov $5, %eax
        xor %edx, %edx
        wrmsr
2:      call snap

        /* 5. RDMSR MSR_PLATFORM_INFO. */
        TRY
        mov $0xce, %ecx
        rdmsr
2:      call snap

        /* 6. RDMSR IA32_MISC_ENABLE. */
        TRY
        mov $0x1a0, %ecx
        rdmsr
2:      call snap

        /* 7. CPUID.7.0 (EBX bit 1: IA32_TSC_ADJUST), then RDMSR IA32_TSC_ADJUST (#GP unless advertised). */
        mov $7, %eax
        xor %ecx, %ecx
        cpuid
        mov %ebx, tsc_adjust_cpuid(%rip)
        TRY
        mov $0x3b, %ecx
        rdmsr
2:      mov tsc_adjust_cpuid(%rip), %ebx
        call snap

        /* 8. CPUID.1: ECX bit 31, the hypervisor bit. */
        mov $1, %eax
        cpuid
        call snap

        /* 9. CPUID.0x40000000: the highest hypervisor leaf and the signature. */
        mov $0x40000000, %eax
        cpuid
        call snap

        /* 10. CPUID.0x40000001 (past the highest hypervisor leaf) and CPUID.0 for the highest basic leaf. */
        mov $0x40000001, %eax
        xor %ecx, %ecx
        cpuid
        call snap
        xor %eax, %eax
        cpuid
        call snap

        IDT64_HALT_AND_SET_GATE

/* Append EAX, EBX, ECX, EDX and the #GP count; reset the count. */
snap:
        push %rdi
        mov LOG, %edi
        incl LOG
        shl $5, %edi
        add $LOG + 16, %edi
        mov %eax, (%rdi)
        mov %ebx, 4(%rdi)
        mov %ecx, 8(%rdi)
        mov %edx, 12(%rdi)
        mov gp_count(%rip), %eax
        mov %eax, 16(%rdi)
        movl $0, gp_count(%rip)
        pop %rdi
        ret

/* #GP: count it and resume at `fixup` (the error code is dropped). */
gp_handler:
        incl gp_count(%rip)
        push %rax
        mov fixup(%rip), %rax
        mov %rax, 16(%rsp)
        pop %rax
        add $8, %rsp
        iretq

        .data
        IDT64_TABLE
        .align 8
fixup:  .quad 0
gp_count: .long 0
tsc_adjust_cpuid: .long 0
