/* tinyos smp: start the application processors the MADT lists with INIT-SIPI-SIPI
 * through the local APIC's ICR (Intel SDM vol. 3A 9.4.4), let every CPU add to one
 * shared counter with LOCK-prefixed increments and to its own (an AP sleeps in HLT
 * until the BSP's fixed IPI says go), and report per-CPU counts. The APs then park with CLI; HLT: the next `smp`
 * starts them again from INIT (an AP in wait-for-SIPI ignores nothing but SIPI). */
#include "kernel.h"

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define SVR_ENABLE 0x100
#define ICR_INIT 0x00004500u    /* INIT, level assert, physical destination */
#define ICR_STARTUP 0x00004600u /* STARTUP: the vector is the start page (VV000) */
#define ICR_FIXED 0x00004000u   /* fixed, assert */
#define ICR_PENDING (1u << 12)  /* delivery status: send pending */
#define DEFAULT_K 20            /* thousands of increments per CPU */
#define START_TIMEOUT_TICKS 50  /* half a second for an AP to check in */

uint64_t ap_cr3, ap_efer, ap_stack_top; /* read by ap.S */
extern char ap_trampoline[], ap_trampoline_end[];

static uint64_t apic;
static uint8_t stacks[MAX_CPUS][8192] __attribute__((aligned(16)));
/* What each CPU did, by index in the MADT's order (the BSP's is its own). */
static volatile uint64_t shared_count, own_count[MAX_CPUS], cycles[MAX_CPUS], ipis[MAX_CPUS];
static volatile int up[MAX_CPUS], done[MAX_CPUS], booting;
static uint64_t work;

static uint32_t apic_read(uint32_t reg) { return mmio_read32(apic + reg); }
static void apic_write(uint32_t reg, uint32_t v) { mmio_write32(apic + reg, v); }
static uint32_t my_apic_id(void) { return apic_read(LAPIC_ID) >> 24; }

static int index_of(uint32_t apic_id) {
    for (int i = 0; i < acpi_cpus && i < MAX_CPUS; i++)
        if (acpi_apic_ids[i] == apic_id) return i;
    return -1;
}

static void send_ipi(uint32_t apic_id, uint32_t icr) {
    apic_write(LAPIC_ICR_HI, apic_id << 24);
    apic_write(LAPIC_ICR_LO, icr);
    for (int i = 0; i < 100000 && (apic_read(LAPIC_ICR_LO) & ICR_PENDING); i++) __asm__ volatile("pause");
}

/* Busy-waits up to about `us` microseconds on the TSC (a fixed count of PAUSEs without one) for *flag. */
static void wait_flag_us(volatile int *flag, uint64_t us) {
    if (!tsc_hz) {
        for (uint64_t i = 0; i < us * 100 && !*flag; i++) __asm__ volatile("pause");
        return;
    }
    uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
    while (!*flag && rdtsc() < end) __asm__ volatile("pause");
}

/* Both the BSP and the APs: `work` increments of the shared counter (LOCK INC) and of its own. */
static void do_work(int me) {
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < work; i++) {
        __asm__ volatile("lock incq %0" : "+m"(shared_count));
        own_count[me]++;
    }
    cycles[me] = rdtsc() - t0;
}

/* An AP in long mode, on its own stack (ap.S). */
void ap_main(void);
void ap_main(void) {
    idt_load();
    gdt_load();
    int me = booting;
    apic_write(LAPIC_SVR, SVR_ENABLE | VEC_LAPIC_SPURIOUS);
    apic_write(LAPIC_TPR, 0);
    up[me] = 1;
    /* Sleep with interrupts on until the BSP's fixed IPI says go (smp_ipi counts it). */
    while (!ipis[me]) sti_hlt();
    cli();
    do_work(me);
    done[me] = 1;
}

/* Vector VEC_IPI on any CPU (cpu.c's trap): count it for whoever took it. */
void smp_ipi(void) {
    int me = index_of(my_apic_id());
    if (me >= 0) ipis[me]++;
    apic_write(LAPIC_EOI, 0);
}

/* INIT, 10 ms, STARTUP, 200 us, STARTUP (SDM 9.4.4.1); the second STARTUP only if the AP has not checked in
 * by then (an AP already running would ignore it anyway). */
static int start_ap(int i) {
    uint32_t id = acpi_apic_ids[i];
    booting = i;
    ap_stack_top = (uint64_t)(stacks[i] + sizeof stacks[i]);
    send_ipi(id, ICR_INIT);
    wait_ticks(1);
    for (int k = 0; k < 2 && !up[i]; k++) {
        send_ipi(id, ICR_STARTUP | (AP_TRAMPOLINE >> 12));
        wait_flag_us(&up[i], 200);
    }
    uint64_t t = ticks;
    while (!up[i] && ticks - t < START_TIMEOUT_TICKS) sti_hlt();
    return up[i];
}

void cmd_smp(int argc, char **argv) {
    uint64_t k = DEFAULT_K;
    if (argc > 1 && (!parse_uint(argv[1], &k) || k < 1 || k > 10000)) {
        kputs("smp: give the thousands of increments per CPU, 1 to 10000 (default 20)\n");
        return;
    }
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!acpi_found || acpi_cpus < 1 || !(base & (1u << 11))) {
        kputs("smp: no ACPI MADT or no enabled local APIC: one CPU only\n");
        return;
    }
    apic = base & 0xFFFFF000ull;
    int n = acpi_cpus < MAX_CPUS ? acpi_cpus : MAX_CPUS;
    int bsp = index_of(my_apic_id());
    kprintf("smp: %d CPU%s in the MADT; this is CPU %d (APIC ID %u)\n", n, n == 1 ? "" : "s", bsp, my_apic_id());
    if (n == 1) {
        kputs("smp: nothing to start (emu: -smp N)\n");
        return;
    }
    if (bsp < 0) {
        kputs("smp: this CPU's APIC ID is not in the MADT\n");
        return;
    }
    work = k * 1000;
    shared_count = 0;
    for (int i = 0; i < n; i++) up[i] = done[i] = 0, own_count[i] = cycles[i] = ipis[i] = 0;
    memcpy(phys(AP_TRAMPOLINE), ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    ap_cr3 = READ_CR(3);
    ap_efer = rdmsr(MSR_EFER) & (EFER_SCE | EFER_LME | EFER_NXE);

    int started = 1;
    for (int i = 0; i < n; i++) {
        if (i == bsp) continue;
        if (start_ap(i)) {
            started++;
            kprintf("smp: CPU %d (APIC ID %u) is up in long mode (INIT-SIPI-SIPI, trampoline at 0x%x)\n", i,
                    acpi_apic_ids[i], AP_TRAMPOLINE);
        } else {
            kprintf("smp: CPU %d (APIC ID %u) did not answer its STARTUP IPI\n", i, acpi_apic_ids[i]);
        }
    }
    kprintf("smp: a fixed IPI (vector 0x%x) to each AP, then %d CPUs each add 1 to a shared counter %lu times (LOCK INC) and to their own\n",
            VEC_IPI, started, work);
    for (int i = 0; i < n; i++)
        if (i != bsp && up[i]) send_ipi(acpi_apic_ids[i], ICR_FIXED | VEC_IPI);
    do_work(bsp);
    uint64_t t = ticks;
    for (int i = 0; i < n; i++)
        while (i != bsp && up[i] && !done[i] && ticks - t < START_TIMEOUT_TICKS) sti_hlt();

    kputs("  cpu  apic id   own count   TSC cycles  IPIs taken\n");
    for (int i = 0; i < n; i++) {
        if (i != bsp && !up[i]) continue;
        kprintf("  %3d  %7u  %10lu  %11lu  %10lu%s\n", i, acpi_apic_ids[i], own_count[i], cycles[i], ipis[i],
                i == bsp ? "  (BSP)" : done[i] ? "" : "  (did not finish)");
    }
    uint64_t expect = work * (uint64_t)started;
    kprintf("smp: shared counter %lu, expected %lu: %s\n", shared_count, expect, shared_count == expect ? "ok" : "WRONG");
    kputs("smp: the APs are parked (CLI; HLT) until the next INIT\n");
}
