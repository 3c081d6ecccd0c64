/* Runs program.S natively: 512 bytes in on stdin, the same buffer out on stdout. */
#include <stdio.h>
#include <stdint.h>
void prog(uint8_t *buf);
int main(void) {
  static uint8_t buf[512] __attribute__((aligned(64)));
  if (fread(buf, 1, 512, stdin) != 512) return 2;
  prog(buf);
  fwrite(buf, 1, 512, stdout);
  return 0;
}
