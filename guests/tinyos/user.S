/* tinyos's ring-3 program: position-independent code and data that `user` copies
 * to USER_BASE (mapped with the U bit) and enters with IRETQ. It talks to the
 * kernel only through SYSCALL: 0 exit(status), 1 write(buf, len), 2 getpid(). */

#define SYS_EXIT 0
#define SYS_WRITE 1
#define SYS_GETPID 2

        .code64
        .section .rodata
        .balign 16
        .globl user_blob_start, user_blob_end, user_fault_entry
user_blob_start:
        lea msg_hello(%rip), %rdi
        mov $(msg_hello_end - msg_hello), %esi
        mov $SYS_WRITE, %eax
        syscall
        mov $SYS_GETPID, %eax
        syscall
        mov %eax, %ebx

        /* Copy the CPL message to the user stack and patch in the low two bits of CS. */
        sub $64, %rsp
        lea msg_cpl(%rip), %rsi
        mov %rsp, %rdi
        mov $(msg_cpl_end - msg_cpl), %ecx
        rep movsb
        mov %cs, %eax
        and $3, %eax
        add $'0', %eax
        mov %al, (msg_cpl_digit - msg_cpl)(%rsp)
        mov %rsp, %rdi
        mov $(msg_cpl_end - msg_cpl), %esi
        mov $SYS_WRITE, %eax
        syscall

        lea 41(%rbx), %edi      /* exit status 41 + pid */
        mov $SYS_EXIT, %eax
        syscall
        ud2                     /* exit does not return */

user_fault_entry:
        lea msg_fault(%rip), %rdi
        mov $(msg_fault_end - msg_fault), %esi
        mov $SYS_WRITE, %eax
        syscall
        hlt                     /* privileged at CPL 3: #GP(0), the kernel ends the program */
        ud2

msg_hello:
        .ascii "hello from ring 3, via SYSCALL\n"
msg_hello_end:
msg_cpl:
        .ascii "user code reads CS: CPL = "
msg_cpl_digit:
        .ascii "?\n"
msg_cpl_end:
msg_fault:
        .ascii "user program executes HLT at CPL 3...\n"
msg_fault_end:
user_blob_end:
