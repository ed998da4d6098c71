/*
 * pin_dax: maps the first 2 MiB of a device-dax character device, writes its
 * first page and vmsplices that page into a pipe it keeps open, so that the
 * kernel holds a reference to a page of the device (as RDMA or a pipe would).
 * It closes its descriptor but keeps the mapping: pmemd must see the mapping
 * (/proc/PID/maps) and refuse to disable the device under it. (Unmapped too,
 * the pipe's reference alone is invisible from userspace, and on 6.1
 * disabling the namespace then oopses the kernel when the pipe is released:
 * docs/memory-blocks.md. Do not do that in a test.)
 *
 *   pin_dax /dev/daxX.Y
 *
 * Prints "pinned" and sleeps until killed; exit 1 with the failing call.
 *
 * Built static on the host by run-vm-test; a test helper, not part of pmemd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pin_dax /dev/daxX.Y\n");
    return 2;
  }
  int fd = open(argv[1], O_RDWR);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  size_t len = 2ul << 20;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  memset(p, 0x5a, 4096);
  int pipefd[2];
  if (pipe(pipefd) != 0) {
    perror("pipe");
    return 1;
  }
  struct iovec iov = {p, 4096};
  if (vmsplice(pipefd[1], &iov, 1, 0) != 4096) {
    perror("vmsplice");
    return 1;
  }
  close(fd);
  printf("pinned\n");
  fflush(stdout);
  for (;;) pause();
}
