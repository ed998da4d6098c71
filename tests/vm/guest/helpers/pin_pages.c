/*
 * pin_pages: holds one page of user memory inside a physical address range
 * (a system-ram dax device's memory blocks) so that the kernel cannot
 * migrate it and offlining its block never finishes, as a process with pages
 * pinned in a pipe does on a real server.
 *
 *   pin_pages START END BLOCK_SIZE [NODE]     (numbers in hex or decimal)
 *
 * It allocates anonymous memory in 16 MiB chunks (bound to NUMA node NODE
 * when given: kmem memory on its own node), finds a page whose physical
 * address (from /proc/self/pagemap; needs root) is in [START + BLOCK_SIZE,
 * END), preferring not the device's first block so that an offline has
 * something to roll back, and vmsplices that page into a pipe: the pipe
 * keeps a reference to it, which migration cannot move. The rest is freed.
 * It prints "pinned block=N phys=0x..." and sleeps until killed. Exit 2 when
 * no page landed in the range within the allocation limit (1 GiB).
 *
 * Built static on the host by run-vm-test; a test helper, not part of pmemd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHUNK (16ul << 20)
#define LIMIT (1024ul << 20)
#define PAGE 4096ul
#define MPOL_BIND 2

static uint64_t phys_of(int pagemap, void *addr) {
  uint64_t e = 0;
  off_t off = (off_t)((uintptr_t)addr / PAGE * 8);
  if (pread(pagemap, &e, sizeof e, off) != (ssize_t)sizeof e) return 0;
  if (!(e & (1ull << 63))) return 0;        /* not present */
  return (e & ((1ull << 55) - 1)) * PAGE;   /* PFN bits 0-54; 0 without CAP_SYS_ADMIN */
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: pin_pages START END BLOCK_SIZE [NODE]\n");
    return 1;
  }
  uint64_t start = strtoull(argv[1], NULL, 0), end = strtoull(argv[2], NULL, 0);
  uint64_t bs = strtoull(argv[3], NULL, 0);
  if (argc > 4) {
    unsigned long mask = 1ul << atoi(argv[4]);
    if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof mask * 8 + 1) != 0) perror("set_mempolicy");
  }
  int pagemap = open("/proc/self/pagemap", O_RDONLY);
  if (pagemap < 0) {
    perror("open /proc/self/pagemap");
    return 1;
  }
  uint64_t lo = end - start > bs ? start + bs : start;
  char *chunks[LIMIT / CHUNK];
  size_t n = 0;
  char *found = NULL;
  uint64_t found_phys = 0;
  while (!found && n < LIMIT / CHUNK) {
    char *c = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (c == MAP_FAILED) break;
    chunks[n++] = c;
    for (size_t off = 0; off < CHUNK; off += PAGE) {
      c[off] = 1;
      uint64_t p = phys_of(pagemap, c + off);
      if (p >= lo && p < end) {
        found = c + off;
        found_phys = p;
        break;
      }
    }
  }
  if (!found) {
    fprintf(stderr, "pin_pages: no page landed in [0x%llx, 0x%llx) after %zu MiB\n", (unsigned long long)lo,
            (unsigned long long)end, n * (CHUNK >> 20));
    return 2;
  }
  int p[2];
  if (pipe(p) != 0) {
    perror("pipe");
    return 1;
  }
  struct iovec iov = {found, PAGE};
  if (vmsplice(p[1], &iov, 1, 0) != (ssize_t)PAGE) {
    perror("vmsplice");
    return 1;
  }
  for (size_t i = 0; i < n; ++i) munmap(chunks[i], CHUNK);
  printf("pinned block=%llu phys=0x%llx\n", (unsigned long long)(found_phys / bs), (unsigned long long)found_phys);
  fflush(stdout);
  for (;;) pause();
}
