/* tinyos CPU tables and traps: the GDT with a 64-bit TSS, the IDT over entry.S's
 * stubs, the exception reports, and SYSCALL plus the ring-3 round trip. */
#include "kernel.h"

/* ---- GDT and TSS ---- */
struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];     /* stack for an interrupt that raises CPL to 0..2 */
    uint64_t reserved1;
    uint64_t ist[7];     /* Interrupt Stack Table: IDT entries may name one */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base; /* past the limit: no I/O bitmap, ring 3 gets #GP on IN/OUT */
};

#define IST_DOUBLE_FAULT 1
static struct tss64 tss;
static uint64_t gdt[7];
static uint8_t ring0_stack[16384] __attribute__((aligned(16)));
static uint8_t df_stack[4096] __attribute__((aligned(16)));
uint64_t tss_rsp0; /* entry.S's SYSCALL path uses the same stack as TSS.RSP0 */

/* Descriptor access bytes and flags (Intel SDM vol. 3, 3.4.5). */
#define SEG_CODE64_DPL0 0x00AF9A000000FFFFull
#define SEG_DATA_DPL0 0x00CF92000000FFFFull
#define SEG_DATA_DPL3 0x00CFF2000000FFFFull
#define SEG_CODE64_DPL3 0x00AFFA000000FFFFull
#define TSS_TYPE_AVAILABLE 0x89 /* present, 64-bit TSS (available) */

struct __attribute__((packed)) table_reg { uint16_t limit; uint64_t base; };

void gdt_init(void) {
    tss_rsp0 = (uint64_t)(ring0_stack + sizeof ring0_stack);
    tss.rsp[0] = tss_rsp0;
    tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(df_stack + sizeof df_stack);
    tss.iomap_base = sizeof tss;

    uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
    gdt[0] = 0;
    gdt[1] = SEG_CODE64_DPL0;   /* 0x08 */
    gdt[2] = SEG_DATA_DPL0;     /* 0x10 */
    gdt[3] = SEG_DATA_DPL3;     /* 0x18: SYSRET loads SS from STAR[63:48] + 8 */
    gdt[4] = SEG_CODE64_DPL3;   /* 0x20: and CS from STAR[63:48] + 16 */
    gdt[5] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | ((uint64_t)TSS_TYPE_AVAILABLE << 40) |
             (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[6] = base >> 32;        /* a system descriptor is 16 bytes in long mode */

    struct table_reg gdtr = { sizeof gdt - 1, (uint64_t)gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"                    /* reload CS from the new table */
        "1: movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t movw %%ax, %%es\n\t movw %%ax, %%ss\n\t"
        "ltr %w3"
        : : "m"(gdtr), "i"(SEL_KERNEL_CS), "r"(SEL_KERNEL_DS), "r"(SEL_TSS) : "rax", "memory");
}

/* An AP takes the BSP's table without LTR: the one TSS is the BSP's (busy), and an AP never leaves ring 0.
 * Its CS selector (0x08 in ap.S's table) means the same 64-bit code segment here. */
void gdt_load(void) {
    struct table_reg gdtr = { sizeof gdt - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0\n\t movw %w1, %%ds\n\t movw %w1, %%es\n\t movw %w1, %%ss" : : "m"(gdtr), "r"(SEL_KERNEL_DS) : "memory");
}

/* ---- IDT ---- */
struct __attribute__((packed)) idt_gate {
    uint16_t offset0, selector;
    uint8_t ist, type_attr;
    uint16_t offset1;
    uint32_t offset2, zero;
};
#define GATE_INTERRUPT 0x8E      /* present, DPL 0, 64-bit interrupt gate (clears IF) */
#define GATE_INTERRUPT_DPL3 0xEE /* same, but INT n allowed from ring 3 */
#define STUB_SIZE 16

extern char trap_stubs[];
static struct idt_gate idt[256];

void idt_init(void) {
    for (int v = 0; v < 256; v++) {
        uint64_t a = (uint64_t)(trap_stubs + v * STUB_SIZE);
        idt[v].offset0 = a & 0xFFFF;
        idt[v].selector = SEL_KERNEL_CS;
        idt[v].ist = v == 8 ? IST_DOUBLE_FAULT : 0;
        idt[v].type_attr = v == 3 ? GATE_INTERRUPT_DPL3 : GATE_INTERRUPT;
        idt[v].offset1 = (a >> 16) & 0xFFFF;
        idt[v].offset2 = a >> 32;
        idt[v].zero = 0;
    }
    idt_load();
}

void idt_load(void) {
    struct table_reg idtr = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* ---- exception reports ---- */
static const char *const mnemonics[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF9", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};
static const char *const names[32] = {
    "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow", "BOUND range exceeded",
    "invalid opcode", "device not available", "double fault", "coprocessor segment overrun", "invalid TSS",
    "segment not present", "stack-segment fault", "general protection", "page fault", "reserved",
    "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point", "virtualization",
    "control protection", "reserved", "reserved", "reserved", "reserved", "reserved", "reserved",
    "hypervisor injection", "VMM communication", "security", "reserved",
};

const char *exception_mnemonic(unsigned vector) { return vector < 32 ? mnemonics[vector] : "IRQ"; }

static void describe_error_code(const struct trap_frame *f) {
    uint64_t e = f->error;
    if (f->vector == 14) {
        kprintf(" (%s, %s, %s%s%s)", e & 1 ? "protection violation" : "not present", e & 2 ? "write" : "read",
                e & 4 ? "user" : "kernel", e & 8 ? ", reserved bit" : "", e & 16 ? ", instruction fetch" : "");
    } else if (e && (f->vector == 10 || f->vector == 11 || f->vector == 12 || f->vector == 13)) {
        /* selector error code: bit 0 external, bit 1 IDT, bit 2 LDT, index in bits 15:3 */
        kprintf(" (%s index %u%s)", e & 2 ? "IDT" : e & 4 ? "LDT" : "GDT", (unsigned)(e >> 3), e & 1 ? ", external" : "");
    }
}

static void report(const struct trap_frame *f, const char *what) {
    unsigned v = (unsigned)f->vector;
    kprintf("\n*** %s %s (vector %u, %s) in ring %u\n", what, exception_mnemonic(v), v, v < 32 ? names[v] : "?",
            (unsigned)(f->cs & 3));
    kprintf("    error code 0x%lx", f->error);
    describe_error_code(f);
    kprintf("\n    RIP 0x%016lx  CS 0x%lx  RFLAGS 0x%lx  RSP 0x%016lx  SS 0x%lx\n", f->rip, f->cs, f->rflags, f->rsp,
            f->ss);
    kprintf("    CR2 0x%016lx  CR3 0x%016lx\n", READ_CR(2), READ_CR(3));
    kprintf("    RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("    RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
}

/* Set by the shell around a command: a kernel exception then ends the command, not the OS. */
volatile int trap_recover_armed;
kjmp_buf trap_recover;
static kjmp_buf user_return;
static volatile int in_user;

static void exception(struct trap_frame *f) {
    uint64_t cr2 = READ_CR(2);
    /* Report with interrupts on (console output is interrupt-driven) unless they were off. */
    if ((f->rflags & RFLAGS_IF) && f->vector != 8) sti();
    if (f->vector == 14 && page_fault(f, cr2)) return;
    if (f->vector == 3) { /* INT3 is a trap: RIP is already past it, so just carry on */
        kprintf("*** #BP breakpoint (vector 3) at RIP 0x%016lx, continuing\n", f->rip);
        return;
    }
    if ((f->cs & 3) == 3 && in_user) {
        report(f, "user program killed by");
        in_user = 0;
        kjmp_restore(user_return, 2);
    }
    report(f, "kernel exception");
    /* #DF is an abort, but the recovery point restores a known-good stack and registers. */
    if (trap_recover_armed && f->vector != 18) {
        kputs("    command aborted; back to the shell\n");
        trap_recover_armed = 0;
        kjmp_restore(trap_recover, 1);
    }
    kputs("    system halted\n");
    serial_flush();
    halt_forever();
}

void trap(struct trap_frame *f) {
    unsigned v = (unsigned)f->vector;
    if (v < 32) {
        exception(f);
    } else if (v >= VEC_IRQ_BASE && v < VEC_IRQ_BASE + 16) {
        int irq = v - VEC_IRQ_BASE;
        if (pic_spurious(irq)) return;
        if (irq == IRQ_TIMER) timer_irq(0);
        else if (irq == IRQ_COM1) serial_irq();
        pic_eoi(irq);
    } else if (v == VEC_LAPIC_TIMER) {
        timer_irq(1);
        lapic_eoi();
    } else if (v == VEC_IPI) {
        smp_ipi();
    } else if (v == VEC_LAPIC_SPURIOUS) {
        /* spurious: no EOI (SDM vol. 3, 11.9) */
    } else {
        kprintf("*** unexpected interrupt vector %u at RIP 0x%lx\n", v, f->rip);
    }
}

/* ---- SYSCALL and ring 3 ---- */
#define SYS_EXIT 0
#define SYS_WRITE 1
#define SYS_GETPID 2
#define FMASK_BITS (RFLAGS_IF | (1u << 8) | (1u << 10) | (1u << 18)) /* IF, TF, DF, AC */

extern char syscall_entry[], user_blob_start[], user_blob_end[], user_fault_entry[];
void enter_user(uint64_t rip, uint64_t rsp);
static unsigned user_syscalls;
static int user_exit_status;

void syscall_init(void) {
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((uint64_t)0x10 << 48) | ((uint64_t)SEL_KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, FMASK_BITS);
}

static int user_range_ok(uint64_t p, uint64_t n) {
    return p >= USER_BASE && n <= USER_SIZE && p - USER_BASE <= USER_SIZE - n;
}

uint64_t syscall_dispatch(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t nr, uint64_t user_rip);
uint64_t syscall_dispatch(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t nr, uint64_t user_rip) {
    (void)a3;
    user_syscalls++;
    switch (nr) {
    case SYS_WRITE:
        kprintf("  [ring 0] syscall %u write(0x%lx, %u), user RIP 0x%lx\n", (unsigned)nr, a1, (unsigned)a2, user_rip);
        if (!user_range_ok(a1, a2)) return (uint64_t)-14; /* EFAULT: the buffer must be user memory */
        for (uint64_t i = 0; i < a2; i++) {
            char c = ((const char *)a1)[i];
            if (c == '\n') serial_putc('\r');
            serial_putc(c);
        }
        return a2;
    case SYS_GETPID:
        kprintf("  [ring 0] syscall %u getpid() -> 1\n", (unsigned)nr);
        return 1;
    case SYS_EXIT:
        kprintf("  [ring 0] syscall %u exit(%d)\n", (unsigned)nr, (int)a1);
        user_exit_status = (int)a1;
        in_user = 0;
        kjmp_restore(user_return, 1);
    default:
        kprintf("  [ring 0] unknown syscall %u\n", (unsigned)nr);
        return (uint64_t)-38; /* ENOSYS */
    }
}

static int user_mapped;

void run_user(int fault_demo) {
    uint64_t blob = (uint64_t)(user_blob_end - user_blob_start);
    if (!user_mapped) {
        /* one page of code+data and one page of stack, both with the U bit */
        for (uint64_t off = 0; off < USER_SIZE; off += 4096) {
            uint64_t frame = frame_alloc();
            if (!frame || map_page(USER_BASE + off, frame, PTE_P | PTE_W | PTE_U)) {
                kputs("user: out of memory\n");
                return;
            }
        }
        user_mapped = 1;
    }
    memcpy((void *)USER_BASE, user_blob_start, blob);
    uint64_t entry = USER_BASE + (fault_demo ? (uint64_t)(user_fault_entry - user_blob_start) : 0);
    uint64_t stack = USER_BASE + USER_SIZE;
    user_syscalls = 0;
    kprintf("entering ring 3: RIP 0x%lx RSP 0x%lx (CS 0x%x, SS 0x%x)\n", entry, stack, SEL_USER_CS, SEL_USER_DS);
    int how = kjmp_save(user_return);
    if (how == 0) {
        in_user = 1;
        enter_user(entry, stack);
    }
    sti();
    if (how == 1)
        kprintf("back in ring 0: the user program exited with status %d after %u system calls\n", user_exit_status,
                user_syscalls);
    else
        kprintf("back in ring 0: the user program was stopped by an exception after %u system calls\n", user_syscalls);
}
