/* tinyos `info`: what the CPU says about itself (CPUID), the mode we run in,
 * the multiboot memory map, the timer and TSC, and what ACPI told us. */
#include "kernel.h"

static const char *const leaf1_edx[32] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", 0, "sep", "mtrr", "pge", "mca", "cmov",
    "pat", "pse36", "psn", "clflush", 0, "ds", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "htt", "tm", "ia64", "pbe",
};
static const char *const leaf1_ecx[32] = {
    "sse3", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3", "cnxt_id", "sdbg",
    "fma", "cx16", "xtpr", "pdcm", 0, "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt",
    "tsc_deadline", "aes", "xsave", "osxsave", "avx", "f16c", "rdrand", "hypervisor",
};
static const char *const ext_edx[32] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "syscall", 0, 0, 0, 0,
    0, 0, 0, 0, "nx", 0, "mmxext", 0, 0, 0, "pdpe1gb", "rdtscp", 0, "lm", "3dnowext", "3dnow",
};
static const char *const ext_ecx[32] = {
    "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a", "misalignsse", "3dnowprefetch",
    "osvw", "ibs", "xop", "skinit", "wdt", 0, "lwp", "fma4", "tce", 0, "nodeid_msr", 0, "tbm", "topoext",
};

static void flags(const char *label, uint32_t bits, const char *const names[32]) {
    kprintf("  %-9s", label);
    int col = 11;
    for (int i = 0; i < 32; i++) {
        if (!(bits & (1u << i)) || !names[i]) continue;
        int n = (int)strlen(names[i]) + 1;
        if (col + n > 100) {
            kputs("\n           ");
            col = 11;
        }
        kprintf(" %s", names[i]);
        col += n;
    }
    kputs("\n");
}

static void regs_text(char *out, const uint32_t *regs, int n) {
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 4; b++) out[i * 4 + b] = (char)(regs[i] >> (8 * b));
    out[n * 4] = 0;
}

static const char *memory_type(uint32_t t) {
    switch (t) {
    case 1: return "available";
    case 2: return "reserved";
    case 3: return "ACPI reclaimable";
    case 4: return "ACPI NVS";
    case 5: return "bad";
    default: return "other";
    }
}

void cmd_info(int argc, char **argv) {
    (void)argc, (void)argv;
    uint32_t r[4], ordered[3];
    char text[49];

    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    ordered[0] = r[1], ordered[1] = r[3], ordered[2] = r[2]; /* vendor is EBX, EDX, ECX */
    regs_text(text, ordered, 3);
    cpuid(1, 0, r);
    uint32_t f1_eax = r[0], f1_ecx = r[2], f1_edx = r[3];
    unsigned family = (f1_eax >> 8) & 0xF, model = (f1_eax >> 4) & 0xF;
    if (family == 0xF) family += (f1_eax >> 20) & 0xFF;
    if (family == 0x6 || family >= 0xF) model |= ((f1_eax >> 16) & 0xF) << 4;
    kprintf("cpu: vendor %s, max leaf 0x%x, family 0x%x model 0x%x stepping %u\n", text, max_leaf, family, model,
            f1_eax & 0xF);
    cpuid(0x80000000, 0, r);
    uint32_t max_ext = r[0];
    if (max_ext >= 0x80000004) {
        uint32_t brand[12];
        for (uint32_t i = 0; i < 3; i++) cpuid(0x80000002 + i, 0, brand + i * 4);
        regs_text(text, brand, 12);
        const char *b = text;
        while (*b == ' ') b++;
        kprintf("  brand     %s\n", b);
    }
    if (f1_ecx & (1u << 31)) {
        cpuid(0x40000000, 0, r);
        ordered[0] = r[1], ordered[1] = r[2], ordered[2] = r[3];
        regs_text(text, ordered, 3);
        kprintf("  hypervisor \"%s\" (CPUID 0x40000000)\n", text);
    }
    flags("1:EDX", f1_edx, leaf1_edx);
    flags("1:ECX", f1_ecx, leaf1_ecx);
    if (max_ext >= 0x80000001) {
        cpuid(0x80000001, 0, r);
        flags("ext:EDX", r[3], ext_edx);
        flags("ext:ECX", r[2], ext_ecx);
    }

    uint64_t efer = rdmsr(MSR_EFER), cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    kprintf("mode: %s, CPL %u, CS 0x%lx; paging %s\n", efer & EFER_LMA ? "64-bit long mode" : "not long mode?",
            (unsigned)(cs & 3), cs, READ_CR(4) & (1u << 12) ? "5-level" : "4-level");
    kprintf("  CR0 0x%lx  CR3 0x%lx  CR4 0x%lx  EFER 0x%lx\n", READ_CR(0), READ_CR(3), READ_CR(4), efer);

    if (!boot_mmap_count) {
        kprintf("memory map: none from the loader (mem_upper %u KiB)\n", boot_mem_upper);
    } else {
        kprintf("memory map (multiboot, %d entries):\n", boot_mmap_count);
        for (int i = 0; i < boot_mmap_count; i++) {
            const struct mmap_entry *e = &boot_mmap[i];
            kprintf("  0x%016lx-0x%016lx %10lu KiB  %s\n", e->base, e->base + e->length - 1, e->length / 1024,
                    memory_type(e->type));
        }
    }
    kprintf("  kernel 0x%lx-0x%lx; page frames used %lu, free %lu KiB\n", (uint64_t)__kernel_start,
            (uint64_t)__kernel_end, frames_used, (frame_limit - frame_next) / 1024);
    kprintf("timer: %s, %u Hz; %lu ticks since boot\n",
            timer_is_lapic ? "local APIC timer (vector 0x40)" : "8254 PIT on 8259 IRQ 0", TIMER_HZ, ticks);
    kprintf("console: 16550 at 0x3F8, IRQ 4: %lu receive and %lu transmit-empty interrupts so far\n", serial_rx_irqs,
            serial_tx_irqs);
    if (tsc_hz)
        kprintf("tsc: %lu.%03lu MHz, measured against %u timer ticks at boot\n", tsc_hz / 1000000,
                tsc_hz / 1000 % 1000, 10);
    else
        kputs("tsc: not available (CPUID 1:EDX.TSC = 0)\n");
    if (acpi_found) {
        kprintf("acpi: OEM \"%s\"; MADT: %d CPU(s), %d IOAPIC(s), LAPIC at 0x%lx; PM1a_CNT 0x%x", acpi_oem, acpi_cpus,
                acpi_ioapics, acpi_lapic_addr, acpi_pm1a_cnt);
        if (acpi_s5_found) kprintf(", \\_S5 SLP_TYPa %u\n", acpi_slp_typa);
        else kputs(", no \\_S5\n");
    } else {
        kputs("acpi: no RSDP found\n");
    }
}
