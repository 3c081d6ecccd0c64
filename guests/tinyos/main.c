/* tinyos main: kmain (called by boot.S in long mode) saves what the multiboot
 * loader reported, brings up the CPU tables, memory, interrupts and timer, then
 * runs the shell. Multiboot command line: "timer=pit" keeps the PIT even with a LAPIC. */
#include "kernel.h"

#define MB_LOADER_MAGIC 0x2BADB002
#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MMAP (1u << 6)

struct mmap_entry boot_mmap[MAX_MMAP];
int boot_mmap_count;
int booted_by_multiboot;
char boot_cmdline[128];
uint32_t boot_mem_lower, boot_mem_upper;

static uint32_t rd32(uint64_t a) { return *(const volatile uint32_t *)a; }
static uint64_t rd64(uint64_t a) { return rd32(a) | (uint64_t)rd32(a + 4) << 32; }

/* Copy the multiboot information now: the loader put it just past our image,
 * where the frame allocator will soon hand out pages. */
static void save_multiboot(uint32_t magic, uint32_t mbi) {
    if (magic != MB_LOADER_MAGIC || !mbi) return;
    booted_by_multiboot = 1;
    uint32_t flags = rd32(mbi);
    if (flags & MBI_FLAG_MEM) {
        boot_mem_lower = rd32(mbi + 4);
        boot_mem_upper = rd32(mbi + 8);
    }
    if ((flags & MBI_FLAG_CMDLINE) && rd32(mbi + 16)) {
        const char *s = (const char *)(uint64_t)rd32(mbi + 16);
        size_t i = 0;
        for (; i < sizeof boot_cmdline - 1 && s[i]; i++) boot_cmdline[i] = s[i];
        boot_cmdline[i] = 0;
    }
    if (flags & MBI_FLAG_MMAP) {
        uint64_t p = rd32(mbi + 48), end = p + rd32(mbi + 44);
        while (p + 24 <= end && boot_mmap_count < MAX_MMAP) {
            uint32_t size = rd32(p);
            boot_mmap[boot_mmap_count].base = rd64(p + 4);
            boot_mmap[boot_mmap_count].length = rd64(p + 12);
            boot_mmap[boot_mmap_count].type = rd32(p + 20);
            boot_mmap_count++;
            if (size < 20) break;
            p += size + 4; /* the size field does not count itself */
        }
    }
}

static int cmdline_has(const char *word) {
    size_t n = strlen(word);
    for (const char *p = boot_cmdline; *p; p++)
        if ((p == boot_cmdline || p[-1] == ' ') && !memcmp(p, word, n) && (p[n] == 0 || p[n] == ' ')) return 1;
    return 0;
}

void kmain(uint32_t magic, uint32_t mbi);
void kmain(uint32_t magic, uint32_t mbi) {
    serial_init();
    save_multiboot(magic, mbi);
    kputs("\ntinyos 1.0: a small 64-bit teaching OS\n");
    if (!booted_by_multiboot) kputs("warning: not started by a multiboot loader; no memory map\n");
    gdt_init();
    idt_init();
    kputs("cpu: long mode, 4-level paging (0-4 GiB identity-mapped), GDT + 64-bit TSS, IDT with 256 vectors\n");
    mm_init();
    pic_init();
    serial_enable_irq();
    pic_unmask(IRQ_COM1);
    acpi_init();
    sti();
    kputs("console: 16550 UART at 0x3F8 driven by RX/THRE interrupts on 8259 IRQ 4\n");
    timer_init(cmdline_has("timer=pit"));
    syscall_init();
    if (tsc_hz) kprintf("tsc: %lu.%03lu MHz (measured against the timer)\n", tsc_hz / 1000000, tsc_hz / 1000 % 1000);
    kprintf("memory: %lu KiB free for page frames at 0x%lx\n", (frame_limit - frame_next) / 1024, frame_next);
    kputs("type 'help' for the commands\n");
    shell_run();
}
