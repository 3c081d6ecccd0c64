/* tinyos time: the 8259 PIC pair (remapped to vectors 0x20-0x2F), the 8254 PIT
 * on IRQ 0 at TIMER_HZ, the TSC calibrated against it, and the local APIC timer,
 * used instead of the PIT when CPUID and the ACPI MADT say there is a LAPIC. */
#include "kernel.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01
#define OCW2_EOI 0x20
#define OCW3_READ_ISR 0x0B
#define PIC_CASCADE_IRQ 2

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CH0_LOHI_MODE2 0x34 /* channel 0, lobyte/hibyte, mode 2 (rate generator), binary */
#define PIT_HZ 1193182u

/* Local APIC registers (offsets in its 4 KiB MMIO page; SDM vol. 3, table 11-1) */
#define LAPIC_VER 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0
#define SVR_ENABLE 0x100
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define LVT_EXTINT 0x700 /* LINT0 as ExtINT: the 8259 still reaches the CPU (virtual wire mode) */
#define LVT_NMI 0x400
#define TIMER_DIV_16 0x3
#define APIC_BASE_ENABLE (1u << 11)
#define CPUID1_EDX_TSC (1u << 4)
#define CPUID1_EDX_APIC (1u << 9)
#define CALIBRATE_TICKS 10

volatile uint64_t ticks;
uint64_t tsc_hz;
int timer_is_lapic;
static uint64_t lapic;
static uint8_t pic_mask1 = 0xFF, pic_mask2 = 0xFF;

void pic_init(void) {
    outb(PIC1_CMD, ICW1_INIT_ICW4);
    outb(PIC2_CMD, ICW1_INIT_ICW4);
    outb(PIC1_DATA, VEC_IRQ_BASE);      /* ICW2: vector base */
    outb(PIC2_DATA, VEC_IRQ_BASE + 8);
    outb(PIC1_DATA, 1 << PIC_CASCADE_IRQ); /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, PIC_CASCADE_IRQ);
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    pic_mask1 = 0xFF & ~(1 << PIC_CASCADE_IRQ);
    pic_mask2 = 0xFF;
    outb(PIC1_DATA, pic_mask1);
    outb(PIC2_DATA, pic_mask2);
}

static void pic_set_mask(int irq, int masked) {
    uint8_t *m = irq < 8 ? &pic_mask1 : &pic_mask2;
    uint8_t bit = (uint8_t)(1 << (irq & 7));
    *m = masked ? (uint8_t)(*m | bit) : (uint8_t)(*m & ~bit);
    outb(irq < 8 ? PIC1_DATA : PIC2_DATA, *m);
}

void pic_unmask(int irq) { pic_set_mask(irq, 0); }

void pic_eoi(int irq) {
    if (irq >= 8) outb(PIC2_CMD, OCW2_EOI);
    outb(PIC1_CMD, OCW2_EOI);
}

/* IRQ 7/15 with the in-service bit clear is the 8259's spurious interrupt: no EOI for it
 * (but the master did see the cascade for a spurious IRQ 15). */
int pic_spurious(int irq) {
    if (irq != 7 && irq != 15) return 0;
    uint16_t cmd = irq == 7 ? PIC1_CMD : PIC2_CMD;
    outb(cmd, OCW3_READ_ISR);
    if (inb(cmd) & 0x80) return 0;
    if (irq == 15) outb(PIC1_CMD, OCW2_EOI);
    return 1;
}

/* Each source counts its own interrupts; `ticks` follows whichever drives the system. */
static volatile uint64_t pit_ticks, lapic_ticks;

void timer_irq(int from_lapic) {
    if (from_lapic) lapic_ticks++;
    else pit_ticks++;
    if (from_lapic == timer_is_lapic) ticks++;
}

void wait_ticks(uint64_t n) {
    uint64_t t = ticks;
    while (ticks - t < n) sti_hlt();
}

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(lapic + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(lapic + reg, v); }
void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

/* The LAPIC is used only if CPUID says so, the MADT lists it, and its version register looks real. */
static int lapic_usable(uint32_t cpuid1_edx) {
    if (!(cpuid1_edx & CPUID1_EDX_APIC) || !acpi_found || !acpi_lapic_addr) return 0;
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE) || (base & ~0xFFFull) >= IDENTITY_LIMIT) return 0;
    lapic = base & 0xFFFFF000ull;
    uint32_t version = lapic_read(LAPIC_VER) & 0xFF;
    return version >= 0x10 && version <= 0x1F;
}

void timer_init(int force_pit) {
    uint32_t r[4];
    cpuid(1, 0, r);
    uint16_t divisor = (uint16_t)((PIT_HZ + TIMER_HZ / 2) / TIMER_HZ);
    outb(PIT_CMD, PIT_CH0_LOHI_MODE2);
    outb(PIT_CH0, divisor & 0xFF);
    outb(PIT_CH0, divisor >> 8);
    pic_unmask(IRQ_TIMER);

    int use_lapic = !force_pit && lapic_usable(r[3]);
    if (use_lapic) {
        lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_LAPIC_SPURIOUS);
        lapic_write(LAPIC_TPR, 0);
        lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT);
        lapic_write(LAPIC_LVT_LINT1, LVT_NMI);
        lapic_write(LAPIC_LVT_ERROR, LVT_MASKED | VEC_LAPIC_SPURIOUS);
        lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
        lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    }

    /* Count TSC cycles (and LAPIC timer counts) across CALIBRATE_TICKS PIT periods. */
    wait_ticks(1);
    uint64_t t0 = rdtsc();
    if (use_lapic) lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
    wait_ticks(CALIBRATE_TICKS);
    uint64_t t1 = rdtsc();
    uint32_t lapic_elapsed = use_lapic ? 0xFFFFFFFFu - lapic_read(LAPIC_TIMER_CUR) : 0;
    if (r[3] & CPUID1_EDX_TSC) tsc_hz = (t1 - t0) * TIMER_HZ / CALIBRATE_TICKS;

    if (use_lapic && lapic_elapsed >= CALIBRATE_TICKS) {
        uint32_t per_tick = lapic_elapsed / CALIBRATE_TICKS;
        lapic_write(LAPIC_TIMER_INIT, 0);
        lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_LAPIC_TIMER);
        lapic_write(LAPIC_TIMER_INIT, per_tick);
        /* Trust it only once it has been seen to tick, while the PIT still runs: sleep (HLT,
         * which costs an emulator nothing) until 2 LAPIC ticks or 5 PIT ticks have come. */
        uint64_t pit0 = pit_ticks, lapic0 = lapic_ticks;
        while (lapic_ticks - lapic0 < 2 && pit_ticks - pit0 < 5) sti_hlt();
        if (lapic_ticks - lapic0 >= 2) {
            cli();
            pic_set_mask(IRQ_TIMER, 1);
            timer_is_lapic = 1;
            sti();
            kprintf("timer: local APIC timer at 0x%lx, %u Hz on vector 0x%x (%u counts/tick, divide by 16)\n", lapic,
                    TIMER_HZ, VEC_LAPIC_TIMER, per_tick);
            return;
        }
        lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
        lapic_write(LAPIC_TIMER_INIT, 0);
        kputs("timer: the local APIC timer did not tick; falling back to the PIT\n");
    }
    kprintf("timer: 8254 PIT channel 0, %u Hz (divisor %u) on 8259 IRQ 0\n", TIMER_HZ, divisor);
}
