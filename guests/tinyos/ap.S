/* tinyos application-processor start: the real-mode trampoline that smp.c copies to
 * AP_TRAMPOLINE (below 1 MiB, where a STARTUP IPI can point: vector 0x08 starts the AP
 * at 0800:0000) and the 64-bit entry it reaches. The trampoline goes real mode ->
 * protected mode -> long mode with the BSP's CR3 and EFER (ap_cr3, ap_efer), then jumps
 * to ap_entry64, which takes the stack the BSP left in ap_stack_top and calls ap_main. */

#define AP_TRAMPOLINE 0x8000       /* keep in step with kernel.h */
#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define AT(label) (AP_TRAMPOLINE + (label - ap_trampoline))

        .section .rodata
        .code16
        .globl ap_trampoline, ap_trampoline_end
ap_trampoline:
        cli
        cld
        mov %cs, %ax            /* CS = 0x0800: data at offsets from the trampoline's start */
        mov %ax, %ds
        lgdtl ap_gdtr - ap_trampoline
        mov %cr0, %eax
        or $CR0_PE, %eax
        mov %eax, %cr0
        ljmpl $0x18, $AT(ap_pm32)

        .code32
ap_pm32:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %cr4, %eax
        or $CR4_PAE, %eax
        mov %eax, %cr4
        mov ap_cr3, %eax        /* the BSP's page tables (identity map below 4 GiB) */
        mov %eax, %cr3
        mov $MSR_EFER, %ecx
        mov ap_efer, %eax       /* LME, and NXE/SCE as the BSP has them */
        xor %edx, %edx
        wrmsr
        mov %cr0, %eax
        or $(CR0_PG | CR0_WP), %eax
        mov %eax, %cr0          /* EFER.LMA is now 1 */
        ljmp $0x08, $AT(ap_lm64)

        .code64
ap_lm64:
        movabs $ap_entry64, %rax
        jmp *%rax

        .balign 8
ap_gdt:                         /* 0x08 is the kernel's 64-bit code selector, so the IDT's gates work as they are */
        .quad 0
        .quad 0x00AF9A000000FFFF  /* 0x08: 64-bit code, DPL 0 */
        .quad 0x00CF92000000FFFF  /* 0x10: data, DPL 0 */
        .quad 0x00CF9A000000FFFF  /* 0x18: 32-bit code, DPL 0 (the step through protected mode) */
ap_gdt_end:
ap_gdtr:
        .word ap_gdt_end - ap_gdt - 1
        .long AT(ap_gdt)
ap_trampoline_end:

        .text
        .globl ap_entry64
ap_entry64:                     /* DS/ES/SS hold 0x10 from ap_pm32, FS/GS 0 from INIT */
        mov ap_stack_top(%rip), %rsp
        call ap_main
1:      cli
        hlt
        jmp 1b
