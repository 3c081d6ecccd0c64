// A virtio console driver in 61 instructions, for the CLI's -chardev test: loaded at
// 0x100000 (-device loader; flat 32-bit protected mode), it finds the console's BAR4
// where the board's firmware left it (0xFEB00000: the first virtio function), brings the
// device up (VERSION_1 only), sends "hello-from-guest\n" on transmitq0, posts one
// 64-byte receive buffer, spins until the host's input arrives, sends it back, waits for
// that to complete and exits through isa-debug-exit with status 33.
        .code32
        .set BAR, 0xfeb00000
        .set STATUS, BAR + 0x14
        .set RXQ, 0x200000              // desc, avail +0x1000, used +0x2000
        .set TXQ, 0x210000
        .set RXBUF, 0x220000
        .globl _start
_start:
        movl $0x90000, %esp             // a stack for the calls
        movb $0, STATUS                 // reset
        movb $3, STATUS                 // ACKNOWLEDGE | DRIVER
        movl $1, BAR + 0x08             // driver_feature_select = 1
        movl $1, BAR + 0x0c             // VERSION_1
        movl $0, BAR + 0x08
        movl $0, BAR + 0x0c
        movb $0x0b, STATUS              // | FEATURES_OK
        xorl %eax, %eax
        movl $RXQ, %ebx
        call queue
        movl $1, %eax
        movl $TXQ, %ebx
        call queue
        movb $0x0f, STATUS              // | DRIVER_OK

        movl $hello, %eax               // transmit the greeting
        movl $hello_end - hello, %ecx
        xorl %edx, %edx                 // no WRITE flag
        movl $TXQ, %ebx
        call post
        movw $1, BAR + 0x3004           // notify transmitq0

        movl $RXBUF, %eax               // one receive buffer
        movl $64, %ecx
        movl $2, %edx                   // VIRTQ_DESC_F_WRITE
        movl $RXQ, %ebx
        call post
        movw $0, BAR + 0x3000           // notify receiveq0
1:      cmpw $0, RXQ + 0x2002           // used.idx: wait for the host's bytes
        je 1b
        movl RXQ + 0x2008, %ecx         // used.ring[0].len

        movl $RXBUF, %eax               // echo them
        xorl %edx, %edx
        movl $TXQ, %ebx
        call post
        movw $1, BAR + 0x3004
2:      cmpw $2, TXQ + 0x2002           // both transmissions used
        jne 2b
        movb $0x10, %al                 // isa-debug-exit: status (0x10 << 1) | 1 = 33
        outb %al, $0xf4
3:      hlt
        jmp 3b

// Queue %eax with rings at %ebx (size 1).
queue:
        movw %ax, BAR + 0x16            // queue_select
        movw $1, BAR + 0x18             // queue_size
        movl %ebx, BAR + 0x20           // queue_desc
        movl $0, BAR + 0x24
        leal 0x1000(%ebx), %esi
        movl %esi, BAR + 0x28           // queue_driver (avail)
        movl $0, BAR + 0x2c
        leal 0x2000(%ebx), %esi
        movl %esi, BAR + 0x30           // queue_device (used)
        movl $0, BAR + 0x34
        movw $1, BAR + 0x1c             // queue_enable
        ret

// Descriptor 0 of the ring at %ebx = (addr %eax, len %ecx, flags %edx); avail.idx++.
post:
        movl %eax, 0(%ebx)
        movl $0, 4(%ebx)
        movl %ecx, 8(%ebx)
        movw %dx, 12(%ebx)
        movw $0, 0x1004(%ebx)           // avail.ring[0] = descriptor 0
        incw 0x1002(%ebx)               // avail.idx
        ret

hello:  .ascii "hello-from-guest\n"
hello_end:
