/*
 * The cpu-system test guest: a multiboot kernel that goes from multiboot's
 * 32-bit protected mode to long mode with 4-level paging, then takes and
 * handles #UD, #GP, three #PFs (not-present, write-protect, execute-disable:
 * CR2 and error codes reported), PIT timer interrupts through the 8259, an INT 0x80 from ring
 * 3 (TSS stack switch), and a SYSCALL/SYSRET round trip from ring 3.
 * Results are text lines in a buffer at physical 0x7000 (NUL-terminated, read
 * by the test from guest memory); the #UD and #GP handlers also log every trap
 * ("#UD at rip", "#GP at rip code"); the last line is "DONE".
 * Built by test/cpu/system-guest.test.ts with gcc/ld (linked at 1 MiB).
 */
        .set MB_MAGIC, 0x1badb002
        .set MB_FLAGS, 0x00000003
        .set REPORT, 0x7000

        .section .text
        .code32
        .globl _start
        .align 4
mb_header:
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

_start:
        cli
        mov $kstack_top, %esp
        movl $REPORT, report_ptr
        movb $0, REPORT
        cmp $0x2badb002, %eax
        jne halt32
        mov %cr4, %eax
        or $0x20, %eax                  /* CR4.PAE */
        mov %eax, %cr4
        mov $pml4, %eax
        mov %eax, %cr3
        mov $0xc0000080, %ecx           /* EFER: SCE | LME | NXE */
        rdmsr
        or $0x901, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80010000, %eax            /* CR0.PG | CR0.WP: IA-32e mode (compatibility) */
        mov %eax, %cr0
        lgdt gdt_ptr
        ljmp $0x08, $long_entry
halt32: hlt
        jmp halt32

        .code64
long_entry:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %ax, %fs
        mov %ax, %gs
        mov $kstack_top, %rsp
        lea msg_long(%rip), %rsi
        call puts

        /* TSS descriptor at 0x30: base = tss, limit 0x67, type 9 (available 64-bit TSS), present. */
        mov $tss, %rax
        mov %ax, tss_desc+2
        shr $16, %rax
        mov %al, tss_desc+4
        mov %ah, tss_desc+7
        shr $16, %rax
        mov %eax, tss_desc+8
        movw $0x67, tss_desc
        movb $0x89, tss_desc+5
        movq $kstack2_top, tss+4        /* RSP0 */
        movw $104, tss+102              /* no I/O bitmap */
        mov $0x30, %ax
        ltr %ax

        /* IDT: every vector -> unexpected, then the handlers under test. */
        xor %edi, %edi
1:      lea unexpected(%rip), %rsi
        mov $0x8e, %edx
        call set_gate
        inc %edi
        cmp $256, %edi
        jne 1b
        mov $6, %edi
        lea ud_handler(%rip), %rsi
        mov $0x8e, %edx
        call set_gate
        mov $13, %edi
        lea gp_handler(%rip), %rsi
        call set_gate
        mov $14, %edi
        lea pf_handler(%rip), %rsi
        call set_gate
        mov $0x20, %edi
        lea timer_handler(%rip), %rsi
        call set_gate
        mov $0x80, %edi
        lea int80_handler(%rip), %rsi
        mov $0xee, %edx                 /* DPL 3: reachable from user mode */
        call set_gate
        lidt idt_ptr

        /* #UD */
        ud2
        lea msg_ud(%rip), %rsi
        call puts
        mov ud_count, %eax
        call puthex_nl

        /* #GP: a selector past the GDT limit -> error code = selector */
        mov $0x1234, %ax
        mov %ax, %ds
        lea msg_gp(%rip), %rsi
        call puts
        mov gp_code, %rax
        call puthex_nl
        mov $0x10, %ax
        mov %ax, %ds

        /* #PF, not present: 0x400000 is reachable only through the alias at 0x600000. */
        movl $0x1234abcd, 0x600008
        mov 0x400008, %ebx              /* faults; the handler maps it and the read retries */
        lea msg_pf(%rip), %rsi
        call puts
        mov pf_addr, %rax
        call puthex_sp
        mov pf_code, %rax
        call puthex_sp
        mov %rbx, %rax
        call puthex_nl

        /* #PF, write to a read-only page with CR0.WP: error code P|W = 3 */
        movq $0x55, 0x800010
        lea msg_pf(%rip), %rsi
        call puts
        mov pf_addr, %rax
        call puthex_sp
        mov pf_code, %rax
        call puthex_sp
        mov 0x800010, %rax
        call puthex_nl

        /* #PF on an instruction fetch from an XD page (EFER.NXE): error code P|I/D = 0x11 */
        movb $0xc3, 0xa00000             /* RET, written through the (writable) XD page */
        mov $0xa00000, %eax
        call *%rax                      /* faults; the handler clears XD and the fetch retries */
        lea msg_pf(%rip), %rsi
        call puts
        mov pf_addr, %rax
        call puthex_sp
        mov pf_code, %rax
        call puthex_nl

        /* Timer: 8259 remapped to 0x20/0x28, only IRQ0 unmasked; PIT channel 0 at ~1 kHz. */
        mov $0x11, %al
        out %al, $0x20
        out %al, $0xa0
        mov $0x20, %al
        out %al, $0x21
        mov $0x28, %al
        out %al, $0xa1
        mov $0x04, %al
        out %al, $0x21
        mov $0x02, %al
        out %al, $0xa1
        mov $0x01, %al
        out %al, $0x21
        out %al, $0xa1
        mov $0xfe, %al
        out %al, $0x21
        mov $0xff, %al
        out %al, $0xa1
        mov $0x34, %al
        out %al, $0x43
        mov $1193, %ax
        out %al, $0x40
        mov %ah, %al
        out %al, $0x40
2:      sti
        hlt
        cli
        cmpl $3, ticks
        jb 2b
        mov $0xff, %al                  /* mask the timer again */
        out %al, $0x21
        lea msg_timer(%rip), %rsi
        call puts

        /* Ring 3: STAR/LSTAR/SFMASK, then IRETQ to user code. */
        mov $0xc0000081, %ecx
        xor %eax, %eax
        mov $0x00180008, %edx           /* SYSRET base 0x18 (user SS 0x23, CS 0x2b), SYSCALL CS 0x08 */
        wrmsr
        mov $0xc0000082, %ecx
        mov $syscall_entry, %eax
        xor %edx, %edx
        wrmsr
        mov $0xc0000084, %ecx
        mov $0x200, %eax                /* SFMASK: clear IF */
        xor %edx, %edx
        wrmsr
        mov %rsp, kstack_save
        push $0x23
        push $ustack_top
        push $0x2
        push $0x2b
        push $user_code
        iretq

after_user:
        lea msg_int80(%rip), %rsi
        call puts
        mov int80_cs, %rax
        call puthex_sp
        mov int80_ss, %rax
        call puthex_sp
        mov int80_onstack, %rax
        call puthex_nl
        lea msg_syscall(%rip), %rsi
        call puts
        mov sys_result, %rax
        call puthex_sp
        mov sys_cs, %rax
        call puthex_sp
        mov sys_user_cs, %rax
        call puthex_nl
        lea msg_done(%rip), %rsi
        call puts
3:      cli
        hlt
        jmp 3b

/* ---- ring 3 ---- */
user_code:
        int $0x80
        mov $42, %rdi
        xor %esi, %esi
        syscall
        mov %cs, %rbx                   /* back in ring 3 after SYSRET */
        mov %rbx, %rdx
        mov %rax, %rdi
        mov $1, %esi
        syscall                         /* "exit": does not return */
4:      jmp 4b

/* ---- kernel entry points ---- */
syscall_entry:
        cmp $1, %rsi
        je sys_exit
        mov %cs, %rax
        mov %rax, sys_cs
        lea 1(%rdi), %rax
        sysretq
sys_exit:
        mov %rdi, sys_result
        mov %rdx, sys_user_cs
        mov kstack_save, %rsp
        jmp after_user

int80_handler:
        mov 8(%rsp), %rax
        mov %rax, int80_cs
        mov 32(%rsp), %rax
        mov %rax, int80_ss
        mov %rsp, %rax
        mov $kstack2_top, %rcx
        sub %rax, %rcx
        cmp $0x1000, %rcx
        setb %al
        movzbl %al, %eax
        mov %rax, int80_onstack
        iretq

ud_handler:
        incl ud_count
        push %rax
        push %rsi
        lea msg_trap_ud(%rip), %rsi
        call puts
        mov 16(%rsp), %rax
        call puthex_nl
        pop %rsi
        pop %rax
        addq $2, (%rsp)                 /* skip UD2 */
        iretq

gp_handler:
        pop gp_code
        push %rax
        push %rsi
        lea msg_trap_gp(%rip), %rsi
        call puts
        mov 16(%rsp), %rax
        call puthex_sp
        mov gp_code, %rax
        call puthex_nl
        pop %rsi
        pop %rax
        addq $2, (%rsp)                 /* skip "mov %ax, %ds" (8E D8) */
        iretq

pf_handler:
        pop pf_code
        push %rax
        push %rcx
        mov %cr2, %rax
        mov %rax, pf_addr
        /* Map the faulting 2 MiB region identity, present + writable, and retry. */
        mov %rax, %rcx
        shr $21, %rcx
        and $0x1ff, %rcx
        and $~0x1fffff, %rax
        or $0x83, %rax
        mov %rax, pd(,%rcx,8)
        mov pf_addr, %rax
        invlpg (%rax)
        pop %rcx
        pop %rax
        iretq

timer_handler:
        push %rax
        incl ticks
        mov $0x20, %al
        out %al, $0x20                  /* EOI */
        pop %rax
        iretq

unexpected:
        lea msg_unexpected(%rip), %rsi
        call puts
5:      cli
        hlt
        jmp 5b

/* set_gate(edi = vector, rsi = handler, edx = type/attribute byte) */
set_gate:
        mov %edi, %eax
        shl $4, %eax
        lea idt(%rax), %rax
        mov %si, (%rax)
        movw $0x08, 2(%rax)
        movb $0, 4(%rax)
        mov %dl, 5(%rax)
        mov %rsi, %rcx
        shr $16, %rcx
        mov %cx, 6(%rax)
        shr $16, %rcx
        mov %ecx, 8(%rax)
        movl $0, 12(%rax)
        ret

/* ---- the report buffer ---- */
putc:                                   /* append al, keep the buffer NUL-terminated */
        push %rdx
        mov report_ptr, %edx
        mov %al, (%rdx)
        movb $0, 1(%rdx)
        inc %edx
        mov %edx, report_ptr
        pop %rdx
        ret
puts:                                   /* rsi = NUL-terminated string */
        mov (%rsi), %al
        inc %rsi
        test %al, %al
        jz 6f
        call putc
        jmp puts
6:      ret
puthex_sp:
        call puthex
        mov $' ', %al
        jmp putc
puthex_nl:
        call puthex
        mov $'\n', %al
        jmp putc
puthex:                                 /* rax, no leading zeros */
        push %rbx
        push %rcx
        push %rdx
        mov %rax, %rbx
        mov $16, %ecx
        xor %edx, %edx
7:      rol $4, %rbx
        mov %bl, %al
        and $0xf, %al
        test %dl, %dl
        jnz 8f
        test %al, %al
        jnz 8f
        cmp $1, %ecx
        jne 9f
8:      mov $1, %dl
        cmp $10, %al
        jb 10f
        add $('a' - 10 - '0'), %al
10:     add $'0', %al
        call putc
9:      dec %ecx
        jnz 7b
        pop %rdx
        pop %rcx
        pop %rbx
        ret

        .section .rodata
msg_long:       .asciz "LONG\n"
msg_ud:         .asciz "UD "
msg_gp:         .asciz "GP "
msg_pf:         .asciz "PF "
msg_timer:      .asciz "TIMER\n"
msg_int80:      .asciz "INT80 "
msg_syscall:    .asciz "SYSCALL "
msg_done:       .asciz "DONE\n"
msg_unexpected: .asciz "UNEXPECTED\n"
msg_trap_ud:    .asciz "#UD at "
msg_trap_gp:    .asciz "#GP at "

        .section .data
        .align 8
gdt:
        .quad 0
        .quad 0x00af9a000000ffff        /* 0x08 kernel code, 64-bit */
        .quad 0x00cf92000000ffff        /* 0x10 kernel data */
        .quad 0x00cffa000000ffff        /* 0x18 user code, 32-bit */
        .quad 0x00cff2000000ffff        /* 0x20 user data */
        .quad 0x00affa000000ffff        /* 0x28 user code, 64-bit */
tss_desc:
        .quad 0, 0                      /* 0x30 TSS (filled in) */
gdt_end:
gdt_ptr:
        .word gdt_end - gdt - 1
        .quad gdt
idt_ptr:
        .word 4095
        .quad idt

        .align 4096
pml4:   .quad pdpt + 7
        .fill 511, 8, 0
pdpt:   .quad pd + 7
        .fill 511, 8, 0
pd:     .quad pt + 7                    /* 0-2 MiB: 4 KiB pages */
        .quad 0x200000 + 0x87           /* 2-4 MiB: one 2 MiB page */
        .quad 0                         /* 4-6 MiB: not present */
        .quad 0x400000 + 0x83           /* 6-8 MiB: alias of 4 MiB */
        .quad 0x800000 + 0x81           /* 8-10 MiB: read-only */
        .quad 0x8000000000a00083        /* 10-12 MiB: writable, execute-disable */
        .fill 506, 8, 0
pt:
        .set i, 0
        .rept 512
        .quad (i << 12) + 7
        .set i, i + 1
        .endr

        .section .bss
        .align 4096
idt:            .skip 4096
tss:            .skip 104
        .align 16
kstack:         .skip 8192
kstack_top:
kstack2:        .skip 4096
kstack2_top:
ustack:         .skip 4096
ustack_top:
        .align 8
kstack_save:    .skip 8
ud_count:       .skip 8
gp_code:        .skip 8
pf_code:        .skip 8
pf_addr:        .skip 8
ticks:          .skip 8
int80_cs:       .skip 8
int80_ss:       .skip 8
int80_onstack:  .skip 8
sys_result:     .skip 8
sys_cs:         .skip 8
sys_user_cs:    .skip 8
report_ptr:     .skip 8
