/* tinyos aspace: a workload for page tables. It builds several address spaces
 * (each a copy of the kernel's PML4 plus private pages at ASPACE_BASE), then for
 * a number of rounds switches CR3 between them and in each one checks that every
 * private page shows the frame its PTE names, touches it, swaps the frames of
 * neighbouring pages by rewriting their PTEs (with INVLPG), checks again, and
 * unmaps and remaps the last page. A stale translation anywhere shows up as a
 * wrong frame. The spaces and their frames are built once and reused. */
#include "kernel.h"

#define ASPACE_BASE 0x0000080000000000ull /* PML4 slot 16: private to each space */
#define ASPACE_SLOT 16
#define MAX_SPACES 8
#define PAGES 16
#define ADDR_MASK 0x000FFFFFFFFFF000ull

extern uint64_t boot_pml4[512];

struct space {
    uint64_t *pml4, *pt;
};

static struct space spaces[MAX_SPACES];
static int spaces_built;

static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline volatile uint64_t *page(int p) { return (volatile uint64_t *)(ASPACE_BASE + (uint64_t)p * 4096); }

/* One space: the kernel's PML4 entries, then slot 16 -> PDPT -> PD -> PT -> PAGES frames. Each
 * frame's first word holds its own address, written through the identity map. */
static int build(struct space *s) {
    uint64_t pml4 = frame_alloc(), pdpt = frame_alloc(), pd = frame_alloc(), pt = frame_alloc();
    if (!pml4 || !pdpt || !pd || !pt) return -1;
    memcpy(phys(pml4), boot_pml4, 4096);
    s->pml4 = phys(pml4);
    s->pt = phys(pt);
    s->pml4[ASPACE_SLOT] = pdpt | PTE_P | PTE_W;
    ((uint64_t *)phys(pdpt))[0] = pd | PTE_P | PTE_W;
    ((uint64_t *)phys(pd))[0] = pt | PTE_P | PTE_W;
    for (int p = 0; p < PAGES; p++) {
        uint64_t f = frame_alloc();
        if (!f) return -1;
        *(uint64_t *)phys(f) = f;
        s->pt[p] = f | PTE_P | PTE_W;
    }
    return 0;
}

void cmd_aspace(int argc, char **argv) {
    uint64_t n = 4, rounds = 20;
    if ((argc > 1 && (!parse_uint(argv[1], &n) || n < 1 || n > MAX_SPACES)) ||
        (argc > 2 && (!parse_uint(argv[2], &rounds) || rounds < 1 || rounds > 100000))) {
        kprintf("aspace: give the number of address spaces (1 to %d, default 4) and of rounds (1 to 100000, default 20)\n", MAX_SPACES);
        return;
    }
    for (; spaces_built < (int)n; spaces_built++) {
        if (build(&spaces[spaces_built])) { kputs("aspace: out of memory for page tables\n"); return; }
    }
    uint64_t home = READ_CR(3), loads = 0, checks = 0, bad = 0, swaps = 0, unmaps = 0, sum = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        for (uint64_t i = 0; i < n; i++) {
            struct space *s = &spaces[i];
            write_cr3((uint64_t)s->pml4);
            loads++;
            for (int p = 0; p < PAGES; p++) {
                uint64_t want = s->pt[p] & ADDR_MASK, got = page(p)[0];
                checks++;
                bad += got != want;
                sum += got ^ (r << 32);
                page(p)[1 + (r + i) % 500] = r; /* touch: a write somewhere in the page */
            }
            /* Swap the frames of pages 2k and 2k+1, then look again. */
            for (int p = (r + i) & 1; p + 1 < PAGES; p += 2) {
                uint64_t a = s->pt[p];
                s->pt[p] = s->pt[p + 1];
                s->pt[p + 1] = a;
                invlpg((uint64_t)page(p));
                invlpg((uint64_t)page(p + 1));
                swaps++;
                checks += 2;
                bad += page(p)[0] != (s->pt[p] & ADDR_MASK);
                bad += page(p + 1)[0] != (s->pt[p + 1] & ADDR_MASK);
            }
            /* Unmap the last page and map it again. */
            uint64_t last = s->pt[PAGES - 1];
            s->pt[PAGES - 1] = 0;
            invlpg((uint64_t)page(PAGES - 1));
            s->pt[PAGES - 1] = last;
            unmaps++;
            checks++;
            bad += page(PAGES - 1)[0] != (last & ADDR_MASK);
        }
    }
    write_cr3(home);
    kprintf("aspace: %lu address spaces x %d pages, %lu rounds: %lu CR3 loads, %lu page checks, %lu PTE swaps, %lu unmaps\n",
            n, PAGES, rounds, loads, checks, swaps, unmaps);
    kprintf("aspace: %s (checksum 0x%lx)\n", bad ? "WRONG FRAMES SEEN" : "every page showed the frame its PTE names", sum);
    if (bad) kprintf("aspace: %lu checks failed\n", bad);
}
