/*
 * bench/fuse-measure.c — the measuring client of bench/fuse-overhead.ts. A separate C process so the
 * numbers carry no JS or GC noise and the client never shares a process with a FUSE server.
 *
 *   fuse-measure stat <path> <count>        stat() the same path <count> times
 *   fuse-measure readdir <dir> <reps>       opendir + readdir to the end, <reps> times (like `ls -f`)
 *   fuse-measure read <file> <bufsize>      read() the whole file sequentially
 *
 * Prints one JSON line: {"ns": total elapsed nanoseconds, "n": operations or bytes}.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fuse-measure stat|readdir|read <path> <count|reps|bufsize>\n");
    return 2;
  }
  const char *what = argv[1], *path = argv[2];
  long long arg = atoll(argv[3]), n = 0, t0, t1;
  if (strcmp(what, "stat") == 0) {
    struct stat st;
    t0 = now_ns();
    for (long long i = 0; i < arg; i++) {
      if (stat(path, &st) != 0) { perror(path); return 1; }
    }
    t1 = now_ns();
    n = arg;
  } else if (strcmp(what, "readdir") == 0) {
    t0 = now_ns();
    for (long long i = 0; i < arg; i++) {
      DIR *d = opendir(path);
      if (!d) { perror(path); return 1; }
      while (readdir(d)) n++;
      closedir(d);
    }
    t1 = now_ns();
  } else if (strcmp(what, "read") == 0) {
    char *buf = malloc(arg);
    int fd = open(path, O_RDONLY);
    if (fd < 0 || !buf) { perror(path); return 1; }
    t0 = now_ns();
    for (;;) {
      ssize_t r = read(fd, buf, arg);
      if (r < 0) { perror("read"); return 1; }
      if (r == 0) break;
      n += r;
    }
    t1 = now_ns();
    close(fd);
  } else {
    fprintf(stderr, "unknown measure %s\n", what);
    return 2;
  }
  printf("{\"ns\":%lld,\"n\":%lld}\n", t1 - t0, n);
  return 0;
}
