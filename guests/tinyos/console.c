/* tinyos console: the 16550 UART at COM1 (0x3F8) driven by its RX and THRE
 * interrupts (IRQ 4) through two ring buffers, and kprintf on top of it.
 * Before interrupts are on, or with IF clear (fatal reports), it polls instead. */
#include "kernel.h"

#define COM1 0x3F8
#define UART_THR 0 /* write: transmit holding register */
#define UART_RBR 0 /* read: receive buffer */
#define UART_IER 1 /* interrupt enable */
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_MSR 6 /* modem status */
#define UART_DLL 0 /* divisor latch, with LCR.DLAB */
#define UART_DLM 1
#define IER_RDA 0x01   /* received data available */
#define IER_THRE 0x02  /* transmit holding register empty */
#define IIR_NO_INT 0x01
#define IIR_ID_MASK 0x0E
#define IIR_MODEM 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_LINE 0x06
#define IIR_TIMEOUT 0x0C
#define IIR_FIFO_ON 0xC0
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define MCR_DTR_RTS_OUT2 0x0B /* OUT2 gates the UART's interrupt line on a PC */
#define FCR_ENABLE_CLEAR 0x07
#define BAUD_115200_DIVISOR 1
#define HW_FIFO_DEPTH 16

#define RING 4096 /* power of two */
static char tx_ring[RING], rx_ring[256];
static volatile uint32_t tx_head, tx_tail, rx_head, rx_tail;
static volatile int irq_mode;   /* serial_enable_irq has run */
static volatile uint8_t ier;    /* shadow of UART_IER */
static int fifo_depth = 1;
uint64_t serial_rx_irqs, serial_tx_irqs; /* shown by `info`: proof the console is interrupt-driven */

void serial_init(void) {
    outb(COM1 + UART_IER, 0);
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, BAUD_115200_DIVISOR);
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, LCR_8N1);
    outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
    /* A 16550A reports its working FIFO in IIR bits 7:6; an 8250/16450 does not. */
    fifo_depth = (inb(COM1 + UART_IIR) & IIR_FIFO_ON) == IIR_FIFO_ON ? HW_FIFO_DEPTH : 1;
    outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
}

/* Turn on RX interrupts; the PIC line is unmasked by the caller. */
void serial_enable_irq(void) {
    (void)inb(COM1 + UART_LSR);
    while (inb(COM1 + UART_LSR) & LSR_DR) (void)inb(COM1 + UART_RBR);
    (void)inb(COM1 + UART_IIR);
    (void)inb(COM1 + UART_MSR);
    ier = IER_RDA;
    outb(COM1 + UART_IER, ier);
    irq_mode = 1;
}

static void poll_put(char c) {
    while (!(inb(COM1 + UART_LSR) & LSR_THRE)) {}
    outb(COM1 + UART_THR, (uint8_t)c);
}

/* Feed the transmitter from the ring; called with interrupts off when THR is empty.
 * While bytes are in flight the THRE interrupt stays on, so the UART asks for more;
 * the interrupt that finds the ring empty turns it off (transmitter idle). */
static void tx_fill(void) {
    int wrote = 0;
    for (int i = 0; i < fifo_depth && tx_tail != tx_head; i++, wrote = 1) {
        outb(COM1 + UART_THR, (uint8_t)tx_ring[tx_tail % RING]);
        tx_tail++;
    }
    uint8_t want = wrote ? (uint8_t)(ier | IER_THRE) : (uint8_t)(ier & ~IER_THRE);
    if (want != ier) {
        ier = want;
        outb(COM1 + UART_IER, ier);
    }
}

void serial_irq(void) {
    for (int guard = 0; guard < 64; guard++) {
        uint8_t iir = inb(COM1 + UART_IIR);
        if (iir & IIR_NO_INT) break;
        switch (iir & IIR_ID_MASK) {
        case IIR_RDA:
        case IIR_TIMEOUT:
            serial_rx_irqs++;
            while (inb(COM1 + UART_LSR) & LSR_DR) {
                uint8_t c = inb(COM1 + UART_RBR);
                if (rx_head - rx_tail < sizeof rx_ring) rx_ring[rx_head++ % sizeof rx_ring] = (char)c;
            }
            break;
        case IIR_THRE:
            serial_tx_irqs++;
            tx_fill();
            break;
        case IIR_LINE:
            (void)inb(COM1 + UART_LSR);
            break;
        default:
            (void)inb(COM1 + UART_MSR);
            break;
        }
    }
}

/* With IF clear nothing will drain the ring, so empty it by polling first (keeps order). */
static void poll_drain(void) {
    while (tx_tail != tx_head) poll_put(tx_ring[tx_tail++ % RING]);
}

void serial_putc(char c) {
    if (!irq_mode || !(read_rflags() & RFLAGS_IF)) {
        poll_drain();
        poll_put(c);
        return;
    }
    for (;;) {
        cli();
        if (tx_head - tx_tail < RING) {
            tx_ring[tx_head++ % RING] = c;
            /* Transmitter idle (THRE interrupt off): start it by hand; its THRE interrupt does the rest. */
            if (!(ier & IER_THRE) && (inb(COM1 + UART_LSR) & LSR_THRE)) tx_fill();
            else if (!(ier & IER_THRE)) {
                ier |= IER_THRE;
                outb(COM1 + UART_IER, ier);
            }
            sti();
            return;
        }
        sti_hlt(); /* ring full: wait for a THRE interrupt to make room */
    }
}

/* Wait until everything queued has gone to the UART (before poweroff/reboot). */
void serial_flush(void) {
    if (!irq_mode || !(read_rflags() & RFLAGS_IF)) { poll_drain(); return; }
    for (;;) {
        cli();
        if (tx_tail == tx_head) break;
        sti_hlt();
    }
    sti();
    while (!(inb(COM1 + UART_LSR) & 0x40)) {} /* LSR.TEMT: shifter empty too */
}

int serial_getc(void) {
    for (;;) {
        cli();
        if (rx_tail != rx_head) {
            char c = rx_ring[rx_tail++ % sizeof rx_ring];
            sti();
            return (unsigned char)c;
        }
        sti_hlt();
    }
}

void kputs(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') serial_putc('\r');
        serial_putc(*s);
    }
}

/* ---- kprintf: %s %c %d %u %x %p, with l/ll, '0' padding and a width ---- */
static void put_uint(uint64_t v, unsigned base, int width, char pad) {
    char buf[24];
    int n = 0;
    do {
        unsigned d = v % base;
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n < width--) serial_putc(pad);
    while (n) serial_putc(buf[--n]);
}

void kvprintf(const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            if (*fmt == '\n') serial_putc('\r');
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0, left = 0;
        if (*fmt == '-') left = 1, fmt++;
        if (*fmt == '0') pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') longs++, fmt++;
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            int n = (int)strlen(s);
            if (!left) for (; n < width; n++) serial_putc(' ');
            kputs(s);
            if (left) for (; n < width; n++) serial_putc(' ');
            break;
        }
        case 'c': serial_putc((char)va_arg(ap, int)); break;
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) { serial_putc('-'); v = -v; if (width) width--; }
            put_uint((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u': put_uint(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad); break;
        case 'x': put_uint(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad); break;
        case 'p': kputs("0x"); put_uint((uint64_t)va_arg(ap, void *), 16, 16, '0'); break;
        case '%': serial_putc('%'); break;
        default: serial_putc('%'); serial_putc(*fmt); break;
        }
    }
}

void kprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
