/* tinyos memory: a bump allocator for 4 KiB frames (from the multiboot memory
 * map), a 4-level page-table mapper, and demand paging for DEMAND_BASE: a #PF
 * there gets a fresh zeroed frame and the faulting instruction runs again. */
#include "kernel.h"

#define PAGE 4096ull
#define ADDR_MASK 0x000FFFFFFFFFF000ull

uint64_t frame_next, frame_limit, frames_used;
volatile int pf_verbose;

void mm_init(void) {
    uint64_t kend = ((uint64_t)__kernel_end + PAGE - 1) & ~(PAGE - 1);
    frame_next = kend;
    frame_limit = 0;
    for (int i = 0; i < boot_mmap_count; i++) {
        const struct mmap_entry *e = &boot_mmap[i];
        if (e->type == 1 && e->base <= kend && kend < e->base + e->length) frame_limit = e->base + e->length;
    }
    if (!frame_limit && boot_mem_upper) frame_limit = 0x100000ull + (uint64_t)boot_mem_upper * 1024;
    if (!frame_limit) frame_limit = kend + 4 * 1024 * 1024; /* no map at all: assume a little */
    if (frame_limit > IDENTITY_LIMIT) frame_limit = IDENTITY_LIMIT; /* frames are reached through the identity map */
    frame_limit &= ~(PAGE - 1);
}

/* A zeroed 4 KiB frame, or 0 when memory is exhausted. */
uint64_t frame_alloc(void) {
    if (frame_next + PAGE > frame_limit) return 0;
    uint64_t f = frame_next;
    frame_next += PAGE;
    frames_used++;
    memset((void *)f, 0, PAGE);
    return f;
}

/* Map one 4 KiB page, creating page-table levels as needed. Upper levels get
 * P|W, plus U when the leaf is a user page (every level must allow the access). */
int map_page(uint64_t va, uint64_t pa, uint64_t flags) {
    uint64_t *table = (uint64_t *)(READ_CR(3) & ADDR_MASK);
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *e = &table[(va >> shift) & 511];
        if (!(*e & PTE_P)) {
            uint64_t t = frame_alloc();
            if (!t) return -1;
            *e = t | PTE_P | PTE_W;
        } else if (*e & PTE_PS) {
            return -1; /* already covered by a large page */
        }
        *e |= flags & PTE_U;
        table = (uint64_t *)(*e & ADDR_MASK);
    }
    table[(va >> 12) & 511] = (pa & ADDR_MASK) | flags;
    invlpg(va);
    return 0;
}

/* Returns 1 when the fault was a first touch of the demand region and is now mapped. */
int page_fault(struct trap_frame *f, uint64_t cr2) {
    int not_present = !(f->error & 1), kernel = !(f->error & 4);
    if (!not_present || !kernel || cr2 < DEMAND_BASE || cr2 >= DEMAND_BASE + DEMAND_SIZE) return 0;
    uint64_t page = cr2 & ~(PAGE - 1), frame = frame_alloc();
    if (!frame || map_page(page, frame, PTE_P | PTE_W)) return 0;
    if (pf_verbose) {
        kprintf("*** #PF page fault (vector 14) at RIP 0x%016lx\n", f->rip);
        kprintf("    CR2 0x%016lx  error code 0x%lx (%s, %s, %s)\n", cr2, f->error, "not present",
                f->error & 2 ? "write" : "read", "kernel");
        kprintf("    handler: mapped page 0x%016lx -> frame 0x%lx; returning to retry the access\n", page, frame);
    }
    return 1;
}
