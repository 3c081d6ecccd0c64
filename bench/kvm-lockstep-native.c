// Native end-state oracle for x87/SSE random programs where KVM cannot
// single-step them (kvm_pvm): runs each program on the host CPU in 64-bit user
// mode from the entry state's GPRs, RFLAGS and FXSAVE image, and writes back
// the GPRs, RFLAGS, FXSAVE image and scratch page it ends with.
// Protocol on stdin/stdout, per case: u32 code length, code (ending in HLT),
// 0x640-byte state record, 4096-byte scratch page -> 8*16 GPRs, 8 RFLAGS, 512 FXSAVE, 4096 scratch.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

struct ctx { uint64_t gpr[16]; uint64_t rflags; uint64_t host_rsp; uint64_t target; };
struct ctx C;
uint8_t fx_in[512] __attribute__((aligned(16)));
uint8_t fx_out[512] __attribute__((aligned(16)));
void enter_prog(void);
void leave_prog(void);
asm(".globl enter_prog\nenter_prog:\n"
    " push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    " mov %rsp, C+136(%rip)\n"
    " fxrstor64 fx_in(%rip)\n"
    " push C+128(%rip)\n popfq\n"
    " mov C+0(%rip), %rax\n mov C+8(%rip), %rcx\n mov C+16(%rip), %rdx\n mov C+24(%rip), %rbx\n"
    " mov C+40(%rip), %rbp\n mov C+48(%rip), %rsi\n mov C+56(%rip), %rdi\n"
    " mov C+64(%rip), %r8\n mov C+72(%rip), %r9\n mov C+80(%rip), %r10\n mov C+88(%rip), %r11\n"
    " mov C+96(%rip), %r12\n mov C+104(%rip), %r13\n mov C+112(%rip), %r14\n mov C+120(%rip), %r15\n"
    " mov C+32(%rip), %rsp\n"
    " jmp *C+144(%rip)\n"
    ".globl leave_prog\nleave_prog:\n"
    " mov %rax, C+0(%rip)\n mov %rcx, C+8(%rip)\n mov %rdx, C+16(%rip)\n mov %rbx, C+24(%rip)\n mov %rsp, C+32(%rip)\n"
    " mov %rbp, C+40(%rip)\n mov %rsi, C+48(%rip)\n mov %rdi, C+56(%rip)\n"
    " mov %r8, C+64(%rip)\n mov %r9, C+72(%rip)\n mov %r10, C+80(%rip)\n mov %r11, C+88(%rip)\n"
    " mov %r12, C+96(%rip)\n mov %r13, C+104(%rip)\n mov %r14, C+112(%rip)\n mov %r15, C+120(%rip)\n"
    " pushfq\n pop C+128(%rip)\n"
    " fxsave64 fx_out(%rip)\n"
    " fninit\n"
    " mov C+136(%rip), %rsp\n"
    " pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n ret\n");

static int readn(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }

int main(void) {
  uint8_t *code = mmap(0, 1 << 20, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint8_t *scratch = mmap((void *)0x8000, 0x3000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (code == MAP_FAILED || scratch == MAP_FAILED) { perror("mmap"); return 1; }
  static uint8_t state[0x640];
  uint32_t len;
  uint16_t cw_save; uint32_t mx_save;
  asm volatile("fnstcw %0; stmxcsr %1" : "=m"(cw_save), "=m"(mx_save));
  while (readn(&len, 4)) {
    if (len > (1 << 20) - 16 || !readn(code, len) || !readn(state, sizeof state) || !readn(scratch, 4096)) return 2;
    // HLT -> jmp [rip+0]; .quad leave_prog
    uint8_t *h = code + len - 1;
    h[0] = 0xff; h[1] = 0x25; memset(h + 2, 0, 4);
    uint64_t lp = (uint64_t)(uintptr_t)leave_prog; memcpy(h + 6, &lp, 8);
    memcpy(C.gpr, state, 128);
    C.gpr[3] = 0x8000;
    C.gpr[4] = 0xa000;
    memcpy(&C.rflags, state + 0x88, 8);
    C.target = (uint64_t)(uintptr_t)code;
    memcpy(fx_in, state + 0x400, 512);
    enter_prog();
    asm volatile("fldcw %0; ldmxcsr %1" :: "m"(cw_save), "m"(mx_save));
    fwrite(C.gpr, 1, 128, stdout);
    fwrite(&C.rflags, 1, 8, stdout);
    fwrite(fx_out, 1, 512, stdout);
    fwrite(scratch, 1, 4096, stdout);
    fflush(stdout);
  }
  return 0;
}
