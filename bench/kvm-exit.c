// The C baseline for bench/kvm-exit.ts: the same real-mode guest loop
// (OUT 0x80, AL; DEC ECX; JNZ) run on /dev/kvm directly, each port-I/O exit
// handled by a call through a function pointer (the bus dispatch) and straight
// back into KVM_RUN. Prints "<exits> <ns per exit>".
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static unsigned long port_writes;
static void port_write(uint16_t port, uint8_t size, uint32_t value) {
  (void)port; (void)size; (void)value;
  port_writes++;
}
static void (*volatile bus_write)(uint16_t, uint8_t, uint32_t) = port_write;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 20000;
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) { perror("/dev/kvm"); return 1; }
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);
  size_t ram = 2 << 20;
  uint8_t *mem = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0, .memory_size = ram, .userspace_addr = (uint64_t)mem};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) { perror("KVM_SET_USER_MEMORY_REGION"); return 1; }
  // mov ecx, n ; l: out 0x80, al ; dec ecx ; jnz l ; hlt
  uint8_t code[] = {0x66, 0xb9, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >> 24, 0xe6, 0x80, 0x66, 0x49, 0x75, 0xfa, 0xf4};
  memcpy(mem + 0x1000, code, sizeof code);
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  struct kvm_sregs sregs;
  ioctl(vcpu, KVM_GET_SREGS, &sregs);
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  ioctl(vcpu, KVM_SET_SREGS, &sregs);
  struct kvm_regs regs = {.rip = 0x1000, .rflags = 2};
  ioctl(vcpu, KVM_SET_REGS, &regs);
  double t0 = now_ns();
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) { perror("KVM_RUN"); return 1; }
    if (run->exit_reason == KVM_EXIT_IO) {
      uint8_t *data = (uint8_t *)run + run->io.data_offset;
      for (uint32_t i = 0; i < run->io.count; i++) bus_write(run->io.port, run->io.size, data[i * run->io.size]);
      continue;
    }
    if (run->exit_reason == KVM_EXIT_HLT) break;
    fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
    return 1;
  }
  double t1 = now_ns();
  printf("%lu %.1f\n", port_writes, (t1 - t0) / port_writes);
  return 0;
}
