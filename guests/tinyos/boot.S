/* tinyos boot: the multiboot v1 header, and the 32-bit entry that checks for
 * long mode, builds the first page tables (0..4 GiB identity, 2 MiB pages),
 * turns on PAE + EFER.LME + paging and jumps to 64-bit code, which calls kmain. */

#define MB_MAGIC        0x1BADB002
#define MB_FLAG_MEMINFO (1 << 1)   /* ask for mem_lower/upper and the memory map */
#define MB_FLAG_AOUT    (1 << 16)  /* the address fields below are valid: loaders need not parse the ELF */
#define MB_FLAGS        (MB_FLAG_MEMINFO | MB_FLAG_AOUT)
#define MB_LOADER_MAGIC 0x2BADB002

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS 0x080
#define COM1 0x3F8

        .section .multiboot, "a"
        .balign 4
        .globl mb_header
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long mb_header         /* header_addr: where this header lands in memory */
        .long __kernel_start    /* load_addr: the image is loaded from the header's file offset */
        .long __load_end        /* load_end_addr: end of .text/.rodata/.data */
        .long __bss_end         /* bss_end_addr: the loader zeroes up to here */
        .long _start            /* entry_addr */

        .section .boot, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        mov %eax, boot_magic
        mov %ebx, boot_info

        /* Zero .bss ourselves (loaders should, but the stack and page tables live there). */
        mov $__bss_start, %edi
        mov $__bss_end, %ecx
        sub %edi, %ecx
        xor %eax, %eax
        rep stosb
        mov $boot_stack_top, %esp

        /* CPUID present? (EFLAGS.ID can be toggled) */
        pushfl
        pop %eax
        mov %eax, %ecx
        xor $(1 << 21), %eax
        push %eax
        popfl
        pushfl
        pop %eax
        push %ecx               /* put EFLAGS back as the loader left it */
        popfl
        cmp %eax, %ecx
        je no_long_mode
        /* Long mode present? CPUID 0x80000001 EDX bit 29 */
        mov $0x80000000, %eax
        cpuid
        cmp $0x80000001, %eax
        jb no_long_mode
        mov $0x80000001, %eax
        cpuid
        test $(1 << 29), %edx
        jz no_long_mode

        /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories; each PD entry maps 2 MiB. */
        mov $boot_pdpt, %eax
        or $(PTE_P | PTE_W), %eax
        mov %eax, boot_pml4
        mov $boot_pd, %eax
        or $(PTE_P | PTE_W), %eax
        xor %ecx, %ecx
1:      mov %eax, boot_pdpt(,%ecx,8)
        add $4096, %eax
        inc %ecx
        cmp $4, %ecx
        jb 1b
        /* 2048 PDEs: entry i maps physical i * 2 MiB; the 4th GiB (MMIO: LAPIC, IOAPIC) uncached. */
        xor %ecx, %ecx
2:      mov %ecx, %eax
        shl $21, %eax
        or $(PTE_P | PTE_W | PTE_PS), %eax
        cmp $1536, %ecx
        jb 3f
        or $(PTE_PCD | PTE_PWT), %eax
3:      mov %eax, boot_pd(,%ecx,8)
        inc %ecx
        cmp $2048, %ecx
        jb 2b

        lgdt boot_gdtr
        mov %cr4, %eax
        or $CR4_PAE, %eax
        mov %eax, %cr4
        mov $boot_pml4, %eax
        mov %eax, %cr3
        mov $MSR_EFER, %ecx
        rdmsr
        or $EFER_LME, %eax
        wrmsr
        mov %cr0, %eax
        or $(CR0_PG | CR0_WP | CR0_PE), %eax
        mov %eax, %cr0          /* EFER.LMA is now 1: we are in compatibility mode */
        ljmp $0x08, $long_mode_entry

no_long_mode:
        mov $msg_no_lm, %esi
4:      lodsb
        test %al, %al
        jz 6f
        mov %al, %ah
        mov $(COM1 + 5), %dx    /* wait for the line status register's THRE bit */
5:      in %dx, %al
        test $0x20, %al
        jz 5b
        mov $COM1, %dx
        mov %ah, %al
        out %al, %dx
        jmp 4b
6:      hlt
        jmp 6b

        .code64
long_mode_entry:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        xor %eax, %eax
        mov %ax, %fs
        mov %ax, %gs
        mov $boot_stack_top, %rsp
        mov boot_magic(%rip), %edi
        mov boot_info(%rip), %esi
        call kmain
7:      cli
        hlt
        jmp 7b

        .section .rodata
msg_no_lm:
        .asciz "tinyos: this CPU has no long mode (CPUID 0x80000001 EDX.LM = 0); halting\r\n"

        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00AF9A000000FFFF  /* 0x08: 64-bit code, DPL 0 */
        .quad 0x00CF92000000FFFF  /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdtr:
        .word boot_gdt_end - boot_gdt - 1
        .long boot_gdt

        .section .data
        .globl boot_magic, boot_info
boot_magic: .long 0
boot_info:  .long 0

        .section .bss
        .balign 4096
        .globl boot_pml4
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
        .globl boot_stack_top
boot_stack: .skip 16384
boot_stack_top:
