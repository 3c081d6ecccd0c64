/* tinyos: declarations shared by the kernel's C files, and the few
 * instructions C cannot say (port I/O, MSRs, CPUID, TSC, control registers). */
#ifndef TINYOS_KERNEL_H
#define TINYOS_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- segment selectors (the GDT is built in cpu.c) ---- */
#define SEL_KERNEL_CS 0x08
#define SEL_KERNEL_DS 0x10
#define SEL_USER_DS (0x18 | 3)
#define SEL_USER_CS (0x20 | 3)
#define SEL_TSS 0x28

/* ---- interrupt vectors ---- */
#define VEC_IRQ_BASE 0x20        /* 8259 master IRQ 0..7 -> 0x20..0x27, slave -> 0x28..0x2F */
#define VEC_LAPIC_TIMER 0x40
#define VEC_LAPIC_SPURIOUS 0xFF
#define VEC_IPI 0x50             /* smp.c: the fixed IPI the BSP sends each AP */
#define IRQ_TIMER 0
#define IRQ_COM1 4

/* ---- RFLAGS, CR and MSR bits ---- */
#define RFLAGS_IF (1u << 9)
#define MSR_APIC_BASE 0x1B
#define MSR_EFER 0xC0000080
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_FMASK 0xC0000084
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* ---- virtual memory layout ---- */
#define IDENTITY_LIMIT 0x100000000ull      /* 0..4 GiB identity-mapped with 2 MiB pages by boot.S */
#define DEMAND_BASE 0x0000008000000000ull  /* PML4 slot 1: pages appear on first touch (#PF) */
#define DEMAND_SIZE 0x0000000040000000ull
#define USER_BASE 0x0000040000000000ull    /* PML4 slot 8: the ring-3 program's code and stack */
#define USER_SIZE 0x0000000000004000ull

/* ---- page-table entry bits ---- */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PS (1ull << 7)

/* What the trap stubs in entry.S push, lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* A saved kernel context for kjmp_save/kjmp_restore (entry.S): rbx, rbp, r12-r15, rsp, rip. */
typedef uint64_t kjmp_buf[8];
int kjmp_save(kjmp_buf buf);
__attribute__((noreturn)) void kjmp_restore(kjmp_buf buf, int value);

/* ---- tiny instruction wrappers ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* sti;hlt is atomic: an interrupt that arrives after the check but before hlt still wakes it. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline uint64_t read_rflags(void) { uint64_t f; __asm__ volatile("pushfq; popq %0" : "=r"(f)); return f; }
static inline uint64_t irq_save(void) { uint64_t f = read_rflags(); cli(); return f; }
static inline void irq_restore(uint64_t f) { if (f & RFLAGS_IF) sti(); }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline uint64_t rdmsr(uint32_t msr) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((uint64_t)hi << 32) | lo; }
static inline void wrmsr(uint32_t msr, uint64_t v) { __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
#define READ_CR(n) ({ uint64_t v_; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v_)); v_; })
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
/* A pointer to a fixed physical address (identity-mapped) that the compiler cannot reason about. */
static inline void *phys(uint64_t a) { __asm__("" : "+r"(a)); return (void *)a; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

/* ---- lib.c ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int parse_uint(const char *s, uint64_t *out);

/* ---- console.c: COM1 16550, interrupt-driven, and kprintf ---- */
void serial_init(void);
void serial_enable_irq(void);
void serial_irq(void);
void serial_putc(char c);
int serial_getc(void); /* blocks (hlt) until a byte arrives */
void serial_flush(void);
extern uint64_t serial_rx_irqs, serial_tx_irqs;
void kputs(const char *s);
void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);

/* ---- cpu.c: GDT, TSS, IDT, traps, SYSCALL ---- */
void gdt_init(void);
void idt_init(void);
void syscall_init(void);
void trap(struct trap_frame *f);
extern volatile int trap_recover_armed;
extern kjmp_buf trap_recover;
const char *exception_mnemonic(unsigned vector);
void run_user(int fault_demo);
void idt_load(void); /* the IDT and GDT (no TSS) on an AP */
void gdt_load(void);
extern uint64_t tss_rsp0;

/* ---- mm.c: frames, page tables, demand paging ---- */
void mm_init(void);
uint64_t frame_alloc(void);
int map_page(uint64_t va, uint64_t pa, uint64_t flags);
int page_fault(struct trap_frame *f, uint64_t cr2);
extern volatile int pf_verbose;
extern uint64_t frames_used;
extern uint64_t frame_next, frame_limit;

/* ---- timer.c: 8259 PIC, 8254 PIT, local APIC timer, TSC ---- */
void pic_init(void);
void pic_unmask(int irq);
void pic_eoi(int irq);
int pic_spurious(int irq);
void timer_init(int force_pit);
void timer_irq(int from_lapic);
void lapic_eoi(void);
extern volatile uint64_t ticks;
extern uint64_t tsc_hz;
extern int timer_is_lapic;
#define TIMER_HZ 100
void wait_ticks(uint64_t n);

/* ---- acpi.c ---- */
void acpi_init(void);
int acpi_poweroff(void);
extern int acpi_found, acpi_cpus, acpi_ioapics;
extern uint32_t acpi_pm1a_cnt;
extern uint64_t acpi_lapic_addr;
extern char acpi_oem[7];
extern int acpi_s5_found;
extern uint32_t acpi_slp_typa;
#define MAX_CPUS 16
extern uint8_t acpi_apic_ids[MAX_CPUS]; /* the MADT's enabled local APICs, in its order */

/* ---- smp.c and ap.S: application processors ---- */
#define AP_TRAMPOLINE 0x8000 /* below 1 MiB, page-aligned: STARTUP vector 0x08 (ap.S has its own copy) */
void smp_ipi(void);

/* ---- main.c: what the multiboot loader told us ---- */
struct mmap_entry { uint64_t base, length; uint32_t type; };
#define MAX_MMAP 32
extern struct mmap_entry boot_mmap[MAX_MMAP];
extern int boot_mmap_count;
extern int booted_by_multiboot;
extern char boot_cmdline[128];
extern uint32_t boot_mem_lower, boot_mem_upper;
extern char __kernel_start[], __kernel_end[];

/* ---- shell.c and commands.c ---- */
void shell_run(void);
void cmd_info(int argc, char **argv);
void cmd_bench(int argc, char **argv);
void cmd_pf(int argc, char **argv);
void cmd_user(int argc, char **argv);
void cmd_io(int argc, char **argv);
void cmd_ticks(int argc, char **argv);
void cmd_fault(int argc, char **argv);
void cmd_poweroff(int argc, char **argv);
void cmd_reboot(int argc, char **argv);
void cmd_aspace(int argc, char **argv);
void cmd_smp(int argc, char **argv);

/* ---- bench.S: loops with a known instruction count ---- */
void bench_alu(uint64_t iters);
void bench_mem(uint64_t iters, uint64_t buf);
void bench_call(uint64_t iters);
void bench_io(uint64_t count, uint16_t port);
void bench_memread(uint64_t count, uint64_t addr);
#define BENCH_ALU_INSNS 10   /* per iteration, counted in bench.S */
#define BENCH_MEM_INSNS 7
#define BENCH_CALL_INSNS 4

__attribute__((noreturn)) void halt_forever(void);

#endif
