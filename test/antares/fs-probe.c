/*
 * fs-probe: the syscalls the job-mount semantics tests need and Node does not expose.
 *   fs-probe tmpfile DIR NAME   O_TMPFILE in DIR, write, then linkat it to DIR/NAME
 *   fs-probe mmapwrite FILE     write "MMAP" at offset 0 through a MAP_SHARED mapping, msync
 *   fs-probe lock FILE          flock and fcntl locks: held by us, refused to a second open file/process
 * Exit 0 on success; otherwise a message on stderr and exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  return 1;
}

static int do_tmpfile(const char *dir, const char *name) {
  int fd = open(dir, O_TMPFILE | O_RDWR, 0644);
  if (fd < 0) return fail("open O_TMPFILE");
  if (write(fd, "tmpfile\n", 8) != 8) return fail("write");
  char proc[64], target[4096];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  snprintf(target, sizeof target, "%s/%s", dir, name);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, target, AT_SYMLINK_FOLLOW) != 0) return fail("linkat");
  return close(fd) == 0 ? 0 : fail("close");
}

static int do_mmapwrite(const char *file) {
  int fd = open(file, O_RDWR);
  if (fd < 0) return fail("open");
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 4) return fail("fstat (file must have 4 bytes)");
  char *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return fail("mmap");
  memcpy(p, "MMAP", 4);
  if (msync(p, st.st_size, MS_SYNC) != 0) return fail("msync");
  munmap(p, st.st_size);
  return close(fd) == 0 ? 0 : fail("close");
}

static int do_lock(const char *file) {
  int a = open(file, O_RDWR);
  int b = open(file, O_RDWR);
  if (a < 0 || b < 0) return fail("open");
  if (flock(a, LOCK_EX | LOCK_NB) != 0) return fail("flock on the first open file");
  if (flock(b, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK) { fprintf(stderr, "a second flock was not refused\n"); return 1; }
  flock(a, LOCK_UN);
  if (flock(b, LOCK_EX | LOCK_NB) != 0) return fail("flock after unlock");
  flock(b, LOCK_UN);
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
  if (fcntl(a, F_SETLK, &fl) != 0) return fail("fcntl F_SETLK");
  pid_t pid = fork();
  if (pid == 0) {
    int c = open(file, O_RDWR);
    struct flock probe = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (c < 0 || fcntl(c, F_GETLK, &probe) != 0) _exit(2);
    _exit(probe.l_type == F_WRLCK && probe.l_pid == getppid() ? 0 : 3);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "another process did not see the fcntl lock (%d)\n", status); return 1; }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "tmpfile") == 0) return do_tmpfile(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "mmapwrite") == 0) return do_mmapwrite(argv[2]);
  if (argc == 3 && strcmp(argv[1], "lock") == 0) return do_lock(argv[2]);
  fprintf(stderr, "usage: fs-probe tmpfile DIR NAME | mmapwrite FILE | lock FILE\n");
  return 2;
}
