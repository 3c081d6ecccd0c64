/* tinyos shell commands that demonstrate one mechanism each: bench, pf, user,
 * io, ticks, fault, poweroff, reboot (info is in info.c). */
#include "kernel.h"

#define DEBUG_EXIT_PORT 0xF4
#define I8042_STATUS 0x64
#define I8042_CMD 0x64
#define I8042_IBF 0x02       /* input buffer full: controller not ready for a command */
#define I8042_PULSE_RESET 0xFE
#define COM1_SCRATCH 0x3FF   /* 16550 scratch register: a port with no side effects */
#define IO_COUNT 10000
#define BENCH_BUF (DEMAND_BASE + DEMAND_SIZE / 2)
#define BENCH_BUF_SIZE 0x10000
#define PF_AREA_SIZE (DEMAND_SIZE / 2)

/* "12.3" from a value scaled by 10 */
static void print_tenths(uint64_t v10) { kprintf("%lu.%lu", v10 / 10, v10 % 10); }

static void bench_report(const char *name, uint64_t insns, uint64_t cycles) {
    kprintf("  %-5s %9lu instructions in %11lu TSC cycles", name, insns, cycles);
    if (tsc_hz && cycles) {
        uint64_t us = cycles * 1000000 / tsc_hz;
        uint64_t mips10 = insns * (tsc_hz / 100000) / cycles; /* million instructions per second, x10 */
        kprintf(" = %lu us, ", us);
        print_tenths(mips10);
        kputs(" M instructions/s");
    }
    kputs("\n");
}

void cmd_bench(int argc, char **argv) {
    uint64_t k = 200;
    if (argc > 1 && (!parse_uint(argv[1], &k) || k < 1 || k > 100000)) {
        kputs("bench: give the thousands of iterations per loop, 1 to 100000 (default 200)\n");
        return;
    }
    uint64_t iters = k * 1000;
    /* The paged loop's buffer lives in demand-paged memory: fault it in first, quietly. */
    for (uint64_t off = 0; off < BENCH_BUF_SIZE; off += 4096) *(volatile uint64_t *)(BENCH_BUF + off) = 0;
    kprintf("bench: %lu iterations per loop, timed with the TSC%s\n", iters, tsc_hz ? "" : " (not available)");

    uint64_t t0 = rdtsc();
    bench_alu(iters);
    uint64_t t1 = rdtsc();
    bench_report("alu", iters * BENCH_ALU_INSNS, t1 - t0);
    t0 = rdtsc();
    bench_mem(iters, BENCH_BUF);
    t1 = rdtsc();
    bench_report("mem", iters * BENCH_MEM_INSNS, t1 - t0);
    t0 = rdtsc();
    bench_call(iters);
    t1 = rdtsc();
    bench_report("call", iters * BENCH_CALL_INSNS, t1 - t0);
    kputs("  (alu: 8 register ops + dec/jnz; mem: load/add/store over 16 pages, a new page each time;\n"
          "   call: call/ret + dec/jnz)\n");
}

static uint64_t pf_next = DEMAND_BASE;

void cmd_pf(int argc, char **argv) {
    (void)argc, (void)argv;
    uint64_t va = pf_next;
    pf_next = DEMAND_BASE + (pf_next - DEMAND_BASE + 4096) % PF_AREA_SIZE;
    const uint64_t value = 0x736f796e6974ull; /* "tinyos" */
    kprintf("pf: writing to 0x%016lx, which no page table maps yet\n", va);
    pf_verbose = 1;
    *(volatile uint64_t *)va = value;
    pf_verbose = 0;
    uint64_t back = *(volatile uint64_t *)va;
    kprintf("pf: the write completed; read back 0x%lx (%s)\n", back, back == value ? "ok" : "MISMATCH");
}

void cmd_user(int argc, char **argv) {
    int fault = argc > 1 && !strcmp(argv[1], "fault");
    if (argc > 1 && !fault) {
        kputs("user: the only option is 'fault'\n");
        return;
    }
    run_user(fault);
}

void cmd_io(int argc, char **argv) {
    (void)argc, (void)argv;
    static volatile uint8_t cell;
    uint64_t t0 = rdtsc();
    bench_io(IO_COUNT, COM1_SCRATCH);
    uint64_t io = rdtsc() - t0;
    t0 = rdtsc();
    bench_memread(IO_COUNT, (uint64_t)&cell);
    uint64_t mem = rdtsc() - t0;
    kprintf("io: %u reads of port 0x%x (16550 scratch register) took %lu TSC cycles: ", IO_COUNT, COM1_SCRATCH, io);
    print_tenths(io * 10 / IO_COUNT);
    kputs(" cycles");
    if (tsc_hz >= 1000000) {
        kputs(" = ");
        print_tenths(io * 10000 / (tsc_hz / 1000000) / IO_COUNT);
        kputs(" ns");
    }
    kputs(" per IN\n");
    kprintf("io: %u reads of memory took %lu TSC cycles: ", IO_COUNT, mem);
    print_tenths(mem * 10 / IO_COUNT);
    kputs(" cycles per load");
    if (mem) {
        kputs("; a port read costs ");
        print_tenths(io * 10 / mem);
        kputs("x a memory read");
    }
    kputs("\n");
}

void cmd_ticks(int argc, char **argv) {
    (void)argc, (void)argv;
    wait_ticks(1);
    uint64_t start = ticks, c0 = rdtsc();
    if (tsc_hz) {
        while (rdtsc() - c0 < tsc_hz) sti_hlt();
    } else {
        wait_ticks(TIMER_HZ);
    }
    uint64_t n = ticks - start, cycles = rdtsc() - c0;
    kprintf("ticks: %lu timer interrupts in ", n);
    if (tsc_hz) kprintf("%lu ms by the TSC", cycles * 1000 / tsc_hz);
    else kputs("(no TSC) ");
    kprintf(" from the %s at %u Hz; %lu since boot\n", timer_is_lapic ? "local APIC timer" : "PIT", TIMER_HZ, ticks);
}

void cmd_fault(int argc, char **argv) {
    const char *k = argc > 1 ? argv[1] : "";
    if (!strcmp(k, "de")) {
        kputs("fault: dividing by zero\n");
        __asm__ volatile("xor %%ecx, %%ecx\n\tmov $1, %%eax\n\txor %%edx, %%edx\n\tdiv %%ecx" ::: "rax", "rcx", "rdx");
    } else if (!strcmp(k, "ud")) {
        kputs("fault: executing UD2\n");
        __asm__ volatile("ud2");
    } else if (!strcmp(k, "gp")) {
        kputs("fault: reading the non-canonical address 0x8000000000000000\n");
        __asm__ volatile("movq (%0), %%rax" : : "r"(0x8000000000000000ull) : "rax");
    } else if (!strcmp(k, "bp")) {
        kputs("fault: executing INT3\n");
        __asm__ volatile("int3");
        kputs("fault: the breakpoint handler returned; still running\n");
        return;
    } else if (!strcmp(k, "pf")) {
        kputs("fault: reading 0x0000700000000000, which nothing maps\n");
        __asm__ volatile("movq (%0), %%rax" : : "r"(0x0000700000000000ull) : "rax");
    } else if (!strcmp(k, "df")) {
        /* The #PF cannot be delivered on the same bad stack, so it becomes a #DF, which the
         * IDT sends to IST1: a known-good stack. */
        kputs("fault: pushing onto an unmapped stack (RSP 0x0000700000001000)\n");
        __asm__ volatile("mov %0, %%rsp\n\tpushq $0" : : "r"(0x0000700000001000ull) : "memory");
    } else {
        kputs("fault: choose one of de, ud, gp, bp, pf, df\n");
        return;
    }
    kputs("fault: no exception happened?\n");
}

void cmd_poweroff(int argc, char **argv) {
    uint64_t code = 0;
    if (argc > 1 && (!parse_uint(argv[1], &code) || code > 127)) {
        kputs("poweroff: code must be a number from 0 to 127\n");
        return;
    }
    kprintf("poweroff: writing %lu to isa-debug-exit (port 0x%x): exit status %lu\n", code, DEBUG_EXIT_PORT,
            code * 2 + 1);
    serial_flush();
    outb(DEBUG_EXIT_PORT, (uint8_t)code);
    if (acpi_s5_found && acpi_pm1a_cnt) {
        kprintf("poweroff: still running; ACPI S5: SLP_TYPa %u | SLP_EN to PM1a_CNT (port 0x%x)\n", acpi_slp_typa,
                acpi_pm1a_cnt);
        serial_flush();
        acpi_poweroff();
    }
    kputs("poweroff: the machine is still on; halting\n");
    serial_flush();
    halt_forever();
}

void cmd_reboot(int argc, char **argv) {
    (void)argc, (void)argv;
    kputs("reboot: pulsing the reset line (0xFE to i8042 port 0x64)\n");
    serial_flush();
    for (int i = 0; i < 100000 && (inb(I8042_STATUS) & I8042_IBF); i++) {}
    outb(I8042_CMD, I8042_PULSE_RESET);
    for (int i = 0; i < 10000000; i++) __asm__ volatile("pause");
    kputs("reboot: no reset; forcing a triple fault\n");
    serial_flush();
    static const struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty = { 0, 0 };
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty));
    halt_forever();
}
