/*
 * cmdtime: times whole commands, interleaved, as a benchmark scenario needs
 * in a guest whose busybox has no sub-second clock.
 *
 *   cmdtime ROUNDS NAME=COMMAND [NAME=COMMAND ...]
 *
 * Each COMMAND is run by /bin/sh -c with stdout and stderr to /dev/null. A
 * round runs every command once, in the order given, so that a drift of the
 * machine (another guest, the host's own load) affects every command alike.
 * One warm-up round is not counted. Each run is timed with CLOCK_MONOTONIC
 * from fork() to waitpid(), the way a user or a script meets it.
 *
 * Prints, per command, min/median/max in milliseconds, and the ratio of each
 * command's median to the first command's ("x1.00" for the first), then one
 * machine-readable line:
 *
 *   cmdtime: NAME median_ms=M min_ms=N max_ms=X ratio=R   (R = median / first median)
 *
 * Exit 1 (naming the command and its status) if any run fails: a benchmark of
 * a command that did not work measures nothing.
 *
 * Built static on the host by run-vm-test; a test helper, not part of pmemd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COMMANDS 16

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs one command; returns its wall time in ms, or -1 when it failed. */
static double run_once(const char *command) {
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  double took = now_ms() - t0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "cmdtime: '%s' failed (status 0x%x)\n", command, status);
    return -1;
  }
  return took;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: cmdtime ROUNDS NAME=COMMAND [NAME=COMMAND ...]\n");
    return 2;
  }
  int rounds = atoi(argv[1]);
  int n = argc - 2;
  if (rounds < 1 || n > MAX_COMMANDS) {
    fprintf(stderr, "cmdtime: ROUNDS must be >= 1 and at most %d commands\n", MAX_COMMANDS);
    return 2;
  }
  const char *name[MAX_COMMANDS], *command[MAX_COMMANDS];
  for (int c = 0; c < n; c++) {
    char *eq = strchr(argv[c + 2], '=');
    if (!eq) {
      fprintf(stderr, "cmdtime: '%s' is not NAME=COMMAND\n", argv[c + 2]);
      return 2;
    }
    *eq = '\0';
    name[c] = argv[c + 2];
    command[c] = eq + 1;
  }
  double *ms = calloc((size_t)rounds * (size_t)n, sizeof *ms);
  if (!ms) return 1;
  for (int r = -1; r < rounds; r++) {
    for (int c = 0; c < n; c++) {
      double t = run_once(command[c]);
      if (t < 0) return 1;
      if (r >= 0) ms[(size_t)c * (size_t)rounds + (size_t)r] = t;
    }
  }
  double first_median = 0;
  printf("%-10s %9s %9s %9s %8s   (%d interleaved rounds)\n", "command", "min ms", "median", "max", "ratio",
         rounds);
  for (int c = 0; c < n; c++) {
    double *v = ms + (size_t)c * (size_t)rounds;
    qsort(v, (size_t)rounds, sizeof *v, cmp_double);
    double median = rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
    if (c == 0) first_median = median;
    printf("%-10s %9.1f %9.1f %9.1f %7.2fx   %s\n", name[c], v[0], median, v[rounds - 1],
           median / first_median, command[c]);
  }
  for (int c = 0; c < n; c++) {
    double *v = ms + (size_t)c * (size_t)rounds;
    double median = rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
    printf("cmdtime: %s median_ms=%.1f min_ms=%.1f max_ms=%.1f ratio=%.2f\n", name[c], median, v[0],
           v[rounds - 1], median / first_median);
  }
  free(ms);
  return 0;
}
