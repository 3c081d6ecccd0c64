/* tinyos ACPI: finds the RSDP, walks the RSDT/XSDT to the FADT (PM1a control
 * block, for S5 poweroff) and the MADT (local APIC address, CPUs, IOAPICs), and
 * digs \_S5's SLP_TYPa out of the DSDT's AML. Everything is read through the
 * 0..4 GiB identity map; tables that are out of reach or fail checksums are ignored. */
#include "kernel.h"

#define SDT_HEADER 36
#define MAX_TABLE (1u << 20)
#define FADT_DSDT 40
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT 64
#define FADT_X_DSDT 140
#define MADT_LAPIC_ADDR 36
#define MADT_ENTRIES 44
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN 0x2000
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_ONE_OP 0x01

int acpi_found, acpi_cpus, acpi_ioapics;
uint8_t acpi_apic_ids[MAX_CPUS];
uint32_t acpi_pm1a_cnt;
uint64_t acpi_lapic_addr;
char acpi_oem[7];
static uint32_t smi_cmd;
static uint8_t acpi_enable_value;
int acpi_s5_found;
uint32_t acpi_slp_typa;

static int checksum_ok(const uint8_t *p, uint32_t n) {
    uint8_t sum = 0;
    while (n--) sum += *p++;
    return sum == 0;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static const uint8_t *find_rsdp_in(uint64_t start, uint64_t end) {
    for (uint64_t a = start; a + 20 <= end; a += 16)
        if (!memcmp((const void *)a, "RSD PTR ", 8) && checksum_ok((const uint8_t *)a, 20)) return (const uint8_t *)a;
    return 0;
}

/* A table we can trust: inside the identity map, sane length, checksum 0. */
static const uint8_t *table_at(uint64_t a) {
    if (!a || a + SDT_HEADER > IDENTITY_LIMIT) return 0;
    const uint8_t *t = (const uint8_t *)a;
    uint32_t len = rd32(t + 4);
    if (len < SDT_HEADER || len > MAX_TABLE || a + len > IDENTITY_LIMIT || !checksum_ok(t, len)) return 0;
    return t;
}

/* AML integer encodings that can appear in the \_S5 package. */
static int aml_integer(const uint8_t *p, const uint8_t *end, uint32_t *v) {
    if (p >= end) return 0;
    switch (p[0]) {
    case 0x00: *v = 0; return 1;
    case AML_ONE_OP: *v = 1; return 1;
    case AML_BYTE_PREFIX: if (p + 1 >= end) return 0; *v = p[1]; return 1;
    case AML_WORD_PREFIX: if (p + 2 >= end) return 0; *v = p[1] | p[2] << 8; return 1;
    case AML_DWORD_PREFIX: if (p + 4 >= end) return 0; *v = rd32(p + 1); return 1;
    default: return 0;
    }
}

/* Name(_S5, Package(n) { SLP_TYPa, SLP_TYPb, ... }) somewhere in the DSDT. */
static void find_s5(const uint8_t *dsdt) {
    uint32_t len = rd32(dsdt + 4);
    const uint8_t *end = dsdt + len;
    for (const uint8_t *p = dsdt + SDT_HEADER; p + 8 < end; p++) {
        if (memcmp(p, "_S5_", 4)) continue;
        if (p[-1] != AML_NAME_OP && !(p[-1] == '\\' && p[-2] == AML_NAME_OP)) continue;
        const uint8_t *q = p + 4;
        if (*q++ != AML_PACKAGE_OP) continue;
        q += (*q >> 6) + 1; /* PkgLength: bits 7:6 of its first byte count the bytes that follow */
        q++;                /* NumElements */
        if (aml_integer(q, end, &acpi_slp_typa)) acpi_s5_found = 1;
        return;
    }
}

void acpi_init(void) {
    const uint8_t *rsdp = 0;
    uint64_t ebda = (uint64_t)(*(volatile uint16_t *)phys(0x40E)) << 4; /* BIOS data area: EBDA segment */
    if (ebda >= 0x80000 && ebda < 0xA0000) rsdp = find_rsdp_in(ebda, ebda + 1024);
    if (!rsdp) rsdp = find_rsdp_in(0xE0000, 0x100000);
    if (!rsdp) return;
    memcpy(acpi_oem, rsdp + 9, 6);

    const uint8_t *root = 0;
    int entry_size = 4;
    if (rsdp[15] >= 2 && checksum_ok(rsdp, 36) && rd64(rsdp + 24)) {
        root = table_at(rd64(rsdp + 24));
        entry_size = 8;
    }
    if (!root) {
        root = table_at(rd32(rsdp + 16));
        entry_size = 4;
    }
    if (!root) return;
    acpi_found = 1;

    uint32_t n = (rd32(root + 4) - SDT_HEADER) / entry_size;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = root + SDT_HEADER + i * entry_size;
        const uint8_t *t = table_at(entry_size == 8 ? rd64(e) : rd32(e));
        if (!t) continue;
        uint32_t len = rd32(t + 4);
        if (!memcmp(t, "FACP", 4) && len >= FADT_PM1A_CNT + 4) {
            smi_cmd = rd32(t + FADT_SMI_CMD);
            acpi_enable_value = t[FADT_ACPI_ENABLE];
            acpi_pm1a_cnt = rd32(t + FADT_PM1A_CNT);
            uint64_t d = len >= FADT_X_DSDT + 8 ? rd64(t + FADT_X_DSDT) : 0;
            const uint8_t *dsdt = table_at(d ? d : rd32(t + FADT_DSDT));
            if (dsdt && !memcmp(dsdt, "DSDT", 4)) find_s5(dsdt);
        } else if (!memcmp(t, "APIC", 4) && len >= MADT_ENTRIES) {
            acpi_lapic_addr = rd32(t + MADT_LAPIC_ADDR);
            for (uint32_t off = MADT_ENTRIES; off + 2 <= len;) {
                uint8_t type = t[off], elen = t[off + 1];
                if (elen < 2 || off + elen > len) break;
                if (type == MADT_TYPE_LAPIC && elen >= 8 && (rd32(t + off + 4) & 1)) {
                    if (acpi_cpus < MAX_CPUS) acpi_apic_ids[acpi_cpus] = t[off + 3];
                    acpi_cpus++;
                }
                if (type == MADT_TYPE_IOAPIC) acpi_ioapics++;
                off += elen;
            }
        }
    }
}

/* ACPI soft-off: SLP_TYPa(S5) | SLP_EN into PM1a_CNT. Returns only if the machine is still on. */
int acpi_poweroff(void) {
    if (!acpi_pm1a_cnt || acpi_pm1a_cnt > 0xFFFF || !acpi_s5_found) return 0;
    uint16_t port = (uint16_t)acpi_pm1a_cnt;
    if (smi_cmd && acpi_enable_value && !(inw(port) & PM1_SCI_EN)) {
        outb((uint16_t)smi_cmd, acpi_enable_value); /* hand ACPI from the firmware (SMM) to the OS */
        for (int i = 0; i < 1000000 && !(inw(port) & PM1_SCI_EN); i++) __asm__ volatile("pause");
    }
    outw(port, (uint16_t)((acpi_slp_typa << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
    for (int i = 0; i < 10000000; i++) __asm__ volatile("pause");
    return 0;
}
