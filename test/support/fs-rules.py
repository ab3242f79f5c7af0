#!/usr/bin/env python3
"""
fs-rules.py RULE DIR — runs one rule's sequence of file operations in DIR and prints what it
observes, one "label: value" line per step. The overlay differential tests run it on a native
directory and on the same directory seen through the FUSE overlay and compare the transcripts, so a
line must never print what legitimately differs between two filesystems (inode numbers, device
numbers, absolute clock times, readdir order): it prints errno names, contents, modes, link counts,
whether two names share an inode, xattr lists, sorted listings and whether a timestamp moved.
A label starting with "~" marks a line that a documented difference or the free space of a busy
disk may change; test/support/fs-rules.ts judges those separately.

DIR holds (committed to the lower layer, or checked out natively):
  f ("lower f\\n", 0644), x.sh (0755), big (65536 bytes), d/a, d/sub/b, e/c, h/z,
  many/000..299 (rule readdir only).
Python's os module covers most calls; renameat2, utimensat, fallocate flags and getdents64 go
through ctypes.
"""
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import mmap
import os
import stat
import struct
import sys
import tempfile

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
OLD = 1_000_000_000  # a fixed past time: "moved" means "no longer this"
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = -100, 0x100, 0x400, 0x1000
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 0x01, 0x02, 0x10
F_OFD_GETLK, F_OFD_SETLK = 36, 37
SEEK_DATA, SEEK_HOLE = 3, 4
SYS_getdents64 = 217 if os.uname().machine == "x86_64" else 61


def out(label, value):
    print(f"{label}: {value}", flush=True)


def name_of(e):
    # ENOTSUP and EOPNOTSUPP are one number on Linux; Python names it ENOTSUP.
    return "EOPNOTSUPP" if e == errno.EOPNOTSUPP else errno.errorcode.get(e, str(e))


def attempt(label, fn):
    """Runs fn; prints its result (or "ok") or the errno name it failed with."""
    try:
        v = fn()
        out(label, "ok" if v is None else v)
        return v
    except OSError as e:
        out(label, name_of(e.errno))
        return None


def check(rc):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return None


def renameat2(a, b, flags):
    return check(libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), ctypes.c_uint(flags)))


class Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


def utimensat(path, atime, mtime, flags=0):
    """atime/mtime: (sec, nsec), "now" or "omit"; both None: utimensat(..., NULL, ...)."""
    if atime is None and mtime is None:
        return check(libc.utimensat(AT_FDCWD, path.encode(), None, flags))
    ts = (Timespec * 2)()
    for i, t in enumerate((atime, mtime)):
        ts[i].sec, ts[i].nsec = (0, UTIME_NOW) if t == "now" else (0, UTIME_OMIT) if t == "omit" else t
    return check(libc.utimensat(AT_FDCWD, path.encode(), ts, flags))


def fallocate(fd, mode, off, length):
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    return check(libc.fallocate(fd, mode, off, length))


def linkat(src, dst, flags, srcfd=AT_FDCWD):
    return check(libc.linkat(srcfd, src.encode(), AT_FDCWD, dst.encode(), flags))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def show(data):
    """Short data as is, long data as length + digest."""
    if len(data) <= 48:
        return repr(data)
    return f"{len(data)} bytes sha1 {hashlib.sha1(data).hexdigest()[:12]}"


def content(path):
    try:
        return show(read(path))
    except OSError as e:
        return name_of(e.errno)


def kind(mode):
    return "dir" if stat.S_ISDIR(mode) else "link" if stat.S_ISLNK(mode) else "file" if stat.S_ISREG(mode) else "other"


def desc(path):
    """Type, permission bits, size and (non-directories) link count; or the errno of lstat."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return name_of(e.errno)
    s = f"{kind(st.st_mode)} {stat.S_IMODE(st.st_mode):o}"
    if not stat.S_ISDIR(st.st_mode):
        s += f" size {st.st_size} nlink {st.st_nlink}"
    return s


def same_inode(a, b):
    try:
        return os.lstat(a).st_ino == os.lstat(b).st_ino
    except OSError as e:
        return name_of(e.errno)


def tree(path):
    """Every entry under path, sorted, with type, mode, and content for files."""
    lines = []
    for dirpath, dirs, files in os.walk(path):
        for n in sorted(dirs + files):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, path)
            d = desc(p)
            if d.startswith("file"):
                d += " " + content(p)
            elif d.startswith("link"):
                d += " -> " + os.readlink(p)
            lines.append(f"{rel}={d}")
    return "; ".join(sorted(lines)) or "(empty)"


def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        return name_of(e.errno)


def age(path):
    """Sets atime and mtime to OLD, so that a later change shows as "moved"."""
    os.utime(path, (OLD, OLD), follow_symlinks=False)


def times(path, what="mc"):
    """Which of mtime (m), ctime (c), atime (a) are no longer OLD."""
    st = os.lstat(path)
    got = {"m": st.st_mtime_ns, "c": st.st_ctime_ns, "a": st.st_atime_ns}
    return " ".join(f"{k}{'-moved' if got[k] != OLD * 10**9 else '-kept'}" for k in what)


def aged(path):
    """Ages path (see age) and returns it."""
    age(path)
    return path


# ---- rules ---------------------------------------------------------------------------------------


def rule_hardlink(r):
    f, f2, f3 = f"{r}/f", f"{r}/f2", f"{r}/sub-link"
    # Readers opened before the copy-up: one has the data cached, one has never read.
    cached = os.open(f, os.O_RDONLY)
    os.read(cached, 100)
    uncached = os.open(f, os.O_RDONLY)
    attempt("link lower file", lambda: os.link(f, f2))
    out("names share an inode", same_inode(f, f2))
    out("f", desc(f))
    out("f2", desc(f2))
    with open(f2, "ab") as w:
        w.write(b"via f2\n")
    out("read through f after append through f2", content(f))
    out("read through an fd of f opened (and read) before the link", show(os.pread(cached, 100, 0)))
    out("read through an fd of f opened before the link", show(os.pread(uncached, 100, 0)))
    out("fstat through it", os.fstat(uncached).st_nlink)
    os.close(cached)
    os.close(uncached)
    # The same for a file copied up by a write-open rather than by a link.
    ro = os.open(f"{r}/e/c", os.O_RDONLY)
    with open(f"{r}/e/c", "ab") as w:
        w.write(b"appended\n")
    out("read through an fd opened before another fd wrote", show(os.pread(ro, 100, 0)))
    mapped = mmap.mmap(ro, 0, mmap.MAP_SHARED, mmap.PROT_READ)
    with open(f"{r}/e/c", "r+b") as w:
        w.write(b"L")
    # Kernel overlayfs keeps such a mapping on the lower file (its documented non-standard behaviour).
    out("~read-only mapping made before a copy-up", mapped[:8])
    mapped.close()
    os.close(ro)
    with open(f, "r+b") as w:
        w.write(b"LOWER")
    out("read through f2 after write through f", content(f2))
    os.mkdir(f"{r}/new")
    attempt("link into a new directory", lambda: os.link(f2, f"{r}/new/f3"))
    out("three names share an inode", same_inode(f, f"{r}/new/f3") is True and same_inode(f2, f"{r}/new/f3") is True)
    out("f after a third link", desc(f))
    attempt("link a file of a lower subdirectory", lambda: os.link(f"{r}/d/a", f"{r}/e/a-link"))
    out("d/a", desc(f"{r}/d/a"))
    out("e/a-link", desc(f"{r}/e/a-link"))
    out("d/a and e/a-link share an inode", same_inode(f"{r}/d/a", f"{r}/e/a-link"))
    attempt("link a directory", lambda: os.link(f"{r}/d", f"{r}/d-link"))
    attempt("link over an existing name", lambda: os.link(f, f"{r}/x.sh"))
    attempt("link a missing file", lambda: os.link(f"{r}/missing", f3))
    attempt("link into a missing directory", lambda: os.link(f, f"{r}/missing/f"))
    attempt("unlink f", lambda: os.unlink(f))
    out("f after unlink", desc(f))
    out("f2 after unlink of f", desc(f2))
    out("f2 content", content(f2))
    attempt("rename f2 over its own other name", lambda: os.rename(f2, f"{r}/new/f3"))
    out("f2 after rename onto its other name", desc(f2))
    out("new/f3", desc(f"{r}/new/f3"))
    fd = os.open(f2, os.O_RDONLY)
    attempt("unlink f2 while open", lambda: os.unlink(f2))
    attempt("unlink new/f3 while open", lambda: os.unlink(f"{r}/new/f3"))
    out("nlink through the open fd", os.fstat(fd).st_nlink)
    out("read through the open fd", show(os.pread(fd, 100, 0)))
    os.close(fd)
    # A link made through an upper file, and a link count seen through an fd opened before.
    fd = os.open(f"{r}/x.sh", os.O_RDONLY)
    attempt("link x.sh", lambda: os.link(f"{r}/x.sh", f"{r}/x2.sh"))
    out("nlink through an fd opened before the link", os.fstat(fd).st_nlink)
    out("x2.sh", desc(f"{r}/x2.sh"))
    os.close(fd)
    os.chmod(f"{r}/x2.sh", 0o700)
    out("x.sh after chmod of x2.sh", desc(f"{r}/x.sh"))
    aged(f"{r}/x.sh")
    os.link(f"{r}/x.sh", f"{r}/x3.sh")
    out("times of x.sh after another link", times(f"{r}/x.sh"))
    out("tree", tree(r))


def rule_rename(r):
    attempt("rename a lower-only directory", lambda: os.rename(f"{r}/d", f"{r}/d2"))
    out("d", desc(f"{r}/d"))
    out("d2", tree(f"{r}/d2"))
    with open(f"{r}/e/new", "w") as w:
        w.write("upper\n")
    attempt("rename a merged directory", lambda: os.rename(f"{r}/e", f"{r}/e2"))
    out("e2", tree(f"{r}/e2"))
    attempt("recreate the old name", lambda: os.mkdir(f"{r}/e"))
    out("e after mkdir", listing(f"{r}/e"))
    os.mkdir(f"{r}/empty")
    attempt("rename a directory over an empty directory", lambda: os.rename(f"{r}/d2", f"{r}/empty"))
    out("empty", tree(f"{r}/empty"))
    out("d2 after", desc(f"{r}/d2"))
    os.unlink(f"{r}/h/z")
    attempt("rename over a lower directory emptied by unlink", lambda: os.rename(f"{r}/e2", f"{r}/h"))
    out("h", tree(f"{r}/h"))
    attempt("rename a directory over a non-empty directory", lambda: os.rename(f"{r}/empty", f"{r}/h"))
    attempt("rename a directory over a file", lambda: os.rename(f"{r}/h", f"{r}/f"))
    attempt("rename a file over a directory", lambda: os.rename(f"{r}/f", f"{r}/h"))
    attempt("rename a directory into itself", lambda: os.rename(f"{r}/h", f"{r}/h/inside"))
    attempt("rename a directory to its own name", lambda: os.rename(f"{r}/h", f"{r}/h"))
    attempt("rename a missing entry", lambda: os.rename(f"{r}/missing", f"{r}/m2"))
    attempt("rename into a missing directory", lambda: os.rename(f"{r}/f", f"{r}/missing/f"))
    attempt("rename a file over a file below a file", lambda: os.rename(f"{r}/f", f"{r}/x.sh/f"))
    attempt("rename a lower file over a lower file", lambda: os.rename(f"{r}/x.sh", f"{r}/big"))
    out("big", desc(f"{r}/big"))
    with open(f"{r}/u", "w") as w:
        w.write("upper u\n")
    attempt("RENAME_NOREPLACE onto an existing name", lambda: renameat2(f"{r}/u", f"{r}/f", RENAME_NOREPLACE))
    attempt("RENAME_NOREPLACE onto a new name", lambda: renameat2(f"{r}/u", f"{r}/u2", RENAME_NOREPLACE))
    attempt("RENAME_EXCHANGE of an upper and a lower file", lambda: renameat2(f"{r}/u2", f"{r}/f", RENAME_EXCHANGE))
    out("f", content(f"{r}/f"))
    out("u2", content(f"{r}/u2"))
    attempt("RENAME_EXCHANGE of a file and a directory", lambda: renameat2(f"{r}/f", f"{r}/h", RENAME_EXCHANGE))
    out("f after exchange", desc(f"{r}/f"))
    out("h after exchange", desc(f"{r}/h"))
    attempt("RENAME_EXCHANGE with a missing name", lambda: renameat2(f"{r}/f", f"{r}/missing", RENAME_EXCHANGE))
    attempt("RENAME_NOREPLACE|RENAME_EXCHANGE", lambda: renameat2(f"{r}/f", f"{r}/h", RENAME_NOREPLACE | RENAME_EXCHANGE))
    attempt("RENAME_EXCHANGE of a directory into its own subdirectory", lambda: renameat2(f"{r}/f", f"{r}/f/sub", RENAME_EXCHANGE))
    os.mkdir(f"{r}/p1")
    os.mkdir(f"{r}/p1/s1")
    os.mkdir(f"{r}/p1/s2")
    out("nlink of a new directory with two subdirectories", os.lstat(f"{r}/p1").st_nlink)
    os.rmdir(f"{r}/p1/s2")
    out("nlink after rmdir of one", os.lstat(f"{r}/p1").st_nlink)
    with open(f"{r}/w", "w") as w:
        w.write("w\n")
    # Known difference: the overlay's own marker; only overlayfs itself uses this flag.
    attempt("~RENAME_WHITEOUT", lambda: renameat2(f"{r}/w", f"{r}/w2", 4))
    for n in ("w", "w2"):
        if os.path.lexists(f"{r}/{n}"):
            os.unlink(f"{r}/{n}")
    aged(f"{r}/p1")
    aged(r)
    attempt("rename a file to another directory", lambda: os.rename(f"{r}/u2", f"{r}/p1/u2"))
    out("times of the source directory", times(r))
    out("times of the target directory", times(f"{r}/p1"))
    out("tree", tree(r))


def rule_xattr(r):
    with open(f"{r}/upper", "w") as w:
        w.write("upper\n")
    os.symlink("f", f"{r}/sym")
    for name in ("f", "upper", "d"):
        p = f"{r}/{name}"
        out(f"{name}: list", sorted(os.listxattr(p)))
        attempt(f"{name}: get missing", lambda: os.getxattr(p, "user.a"))
        attempt(f"{name}: remove missing", lambda: os.removexattr(p, "user.a"))
        attempt(f"{name}: XATTR_REPLACE missing", lambda: os.setxattr(p, "user.a", b"1", os.XATTR_REPLACE))
        out(f"{name}: after refused changes", desc(p))
        attempt(f"{name}: XATTR_CREATE", lambda: os.setxattr(p, "user.a", b"1", os.XATTR_CREATE))
        attempt(f"{name}: XATTR_CREATE existing", lambda: os.setxattr(p, "user.a", b"2", os.XATTR_CREATE))
        attempt(f"{name}: XATTR_REPLACE existing", lambda: os.setxattr(p, "user.a", b"2", os.XATTR_REPLACE))
        attempt(f"{name}: get", lambda: os.getxattr(p, "user.a"))
        attempt(f"{name}: set empty value", lambda: os.setxattr(p, "user.empty", b""))
        attempt(f"{name}: get empty value", lambda: os.getxattr(p, "user.empty"))
        attempt(f"{name}: set 2000 bytes", lambda: os.setxattr(p, "user.big", bytes(range(250)) * 8))
        attempt(f"{name}: get 2000 bytes", lambda: show(os.getxattr(p, "user.big")))
        out(f"{name}: list after sets", sorted(os.listxattr(p)))
        attempt(f"{name}: remove", lambda: os.removexattr(p, "user.a"))
        out(f"{name}: list after remove", sorted(os.listxattr(p)))
        attempt(f"{name}: get removed", lambda: os.getxattr(p, "user.a"))
        attempt(f"{name}: name too long", lambda: os.setxattr(p, "user." + "n" * 300, b"x"))
        attempt(f"{name}: unknown namespace", lambda: os.setxattr(p, "bogus.a", b"x"))
        out(f"{name}: after", desc(p) + (" " + content(p) if name != "d" else ""))
    aged(f"{r}/x.sh")
    os.setxattr(f"{r}/x.sh", "user.t", b"t")
    out("x.sh times after setxattr", times(f"{r}/x.sh"))
    attempt("symlink: set user xattr on the link itself", lambda: os.setxattr(f"{r}/sym", "user.a", b"1", follow_symlinks=False))
    attempt("symlink: get through the link", lambda: os.getxattr(f"{r}/sym", "user.empty"))
    out("symlink: list of the link itself", sorted(os.listxattr(f"{r}/sym", follow_symlinks=False)))
    fd = os.open(f"{r}/big", os.O_RDONLY)
    attempt("fsetxattr on a read-only fd of a lower file", lambda: os.setxattr(fd, "user.fd", b"v"))
    attempt("fgetxattr", lambda: os.getxattr(fd, "user.fd"))
    os.close(fd)
    attempt("missing file", lambda: os.getxattr(f"{r}/missing", "user.a"))
    buf = ctypes.create_string_buffer(64)
    p = f"{r}/f".encode()
    out("getxattr size query", libc.getxattr(p, b"user.big", None, 0))
    out("getxattr into a small buffer", name_of(ctypes.get_errno()) if libc.getxattr(p, b"user.big", buf, 64) < 0 else "fits")
    # Kernel overlayfs counts its hidden trusted.overlay.* names in the size (an upper bound).
    out("~listxattr size query", libc.listxattr(p, None, 0))
    out("listxattr into a 4-byte buffer", name_of(ctypes.get_errno()) if libc.listxattr(p, buf, 4) < 0 else "fits")
    # POSIX ACLs are stored (on the upper file); the FUSE engine does not enforce named entries
    # (see docs/overlay.md). user::rw- user:65534:rwx group::r-- mask::rwx other::---
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in ((1, 6, 0xFFFFFFFF), (2, 7, 65534), (4, 4, 0xFFFFFFFF), (0x10, 7, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)))
    attempt("set system.posix_acl_access", lambda: os.setxattr(f"{r}/upper", "system.posix_acl_access", acl))
    attempt("get system.posix_acl_access", lambda: os.getxattr(f"{r}/upper", "system.posix_acl_access") == acl)
    out("mode after setting the ACL (group bits are the mask)", desc(f"{r}/upper"))
    out("list with an ACL", sorted(os.listxattr(f"{r}/upper")))
    out("tree", tree(r))


def rule_tmpfile(r):
    # Known difference: the FUSE overlay has no tmpfile op (libfuse 3.14) and says EOPNOTSUPP,
    # as any filesystem without O_TMPFILE support does.
    def tmpfile():
        fd = os.open(f"{r}/d", os.O_TMPFILE | os.O_RDWR, 0o600)
        os.close(fd)

    attempt("~O_TMPFILE", tmpfile)
    # Python's tempfile tries O_TMPFILE first and falls back to a named, unlinked file.
    with tempfile.TemporaryFile(dir=f"{r}/d") as t:
        t.write(b"fallback\n")
        t.seek(0)
        out("TemporaryFile round trip", t.read())
    out("d after TemporaryFile", listing(f"{r}/d"))
    # linkat of /proc/self/fd/N: a second name for an open file.
    fd = os.open(f"{r}/f", os.O_RDONLY)
    attempt("linkat /proc/self/fd of a lower file", lambda: linkat(f"/proc/self/fd/{fd}", f"{r}/f-proc", AT_SYMLINK_FOLLOW))
    out("f-proc", desc(f"{r}/f-proc") + " " + content(f"{r}/f-proc"))
    out("f and f-proc share an inode", same_inode(f"{r}/f", f"{r}/f-proc"))
    attempt("linkat AT_EMPTY_PATH", lambda: linkat("", f"{r}/f-empty", AT_EMPTY_PATH, srcfd=fd))
    out("f-empty", desc(f"{r}/f-empty"))
    os.close(fd)
    with open(f"{r}/gone", "w") as w:
        w.write("gone\n")
    fd = os.open(f"{r}/gone", os.O_RDWR)
    os.unlink(f"{r}/gone")
    attempt("linkat /proc/self/fd of an unlinked file", lambda: linkat(f"/proc/self/fd/{fd}", f"{r}/revived", AT_SYMLINK_FOLLOW))
    out("revived", desc(f"{r}/revived"))
    os.close(fd)
    out("tree", tree(r))


def rule_mmap(r):
    for name in ("big", "upper"):
        p = f"{r}/{name}"
        if name == "upper":
            with open(p, "wb") as w:
                w.write(bytes(65536))
        aged(p)
        fd = os.open(p, os.O_RDWR)
        m = mmap.mmap(fd, 65536, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        m[0:4] = b"MMAP"
        m[40000:40004] = b"DEEP"
        out(f"{name}: pread on the same fd before msync", show(os.pread(fd, 4, 0)) + show(os.pread(fd, 4, 40000)))
        fd2 = os.open(p, os.O_RDONLY)
        out(f"{name}: pread on another fd before msync", show(os.pread(fd2, 4, 0)))
        os.pwrite(fd, b"PWRT", 8)
        out(f"{name}: the mapping sees pwrite", m[8:12])
        m.flush()
        m.close()
        os.close(fd)
        os.close(fd2)
        out(f"{name}: after close and reopen", content(p))
        out(f"{name}: times after mmap writes", times(p))
        out(f"{name}: desc", desc(p))
    fd = os.open(f"{r}/f", os.O_RDONLY)
    attempt("shared writable mapping of a read-only fd", lambda: mmap.mmap(fd, 8, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE).close())
    m = mmap.mmap(fd, 8, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE)
    m[0:4] = b"PRIV"
    out("private mapping", m[0:8])
    m.close()
    os.close(fd)
    out("f after a private write", content(f"{r}/f"))
    # Grow a file, then map the new part.
    fd = os.open(f"{r}/x.sh", os.O_RDWR)
    os.ftruncate(fd, 8192)
    m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[8000:8004] = b"GROW"
    m.flush()
    m.close()
    os.close(fd)
    out("x.sh after growing and mapping", content(f"{r}/x.sh"))
    out("tree", tree(r))


def flock_struct(kind_, start, length, pid=0):
    return struct.pack("hhqqi4x", kind_, os.SEEK_SET, start, length, pid)


def getlk(fd, start, length, cmd=fcntl.F_GETLK):
    t, _, s, l, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, cmd, flock_struct(fcntl.F_WRLCK, start, length)))
    names = {fcntl.F_RDLCK: "F_RDLCK", fcntl.F_WRLCK: "F_WRLCK", fcntl.F_UNLCK: "F_UNLCK"}
    return f"{names[t]} start {s} len {l} pid {'parent' if pid == os.getppid() else 'self' if pid == os.getpid() else pid}"


def in_child(fn):
    """Runs fn in a forked child; returns what it printed as one string."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            res = fn()
        except OSError as e:
            res = name_of(e.errno)
        os.write(wr, str(res).encode())
        os._exit(0)
    os.close(wr)
    data = b""
    while chunk := os.read(rd, 4096):
        data += chunk
    os.close(rd)
    os.waitpid(pid, 0)
    return data.decode()


def rule_locks(r):
    for name in ("f", "upper"):
        p = f"{r}/{name}"
        if name == "upper":
            with open(p, "w") as w:
                w.write("upper\n")
        a = os.open(p, os.O_RDONLY)
        b = os.open(p, os.O_RDWR)  # copies a lower file up while a holds it open
        attempt(f"{name}: flock LOCK_EX on a read-only fd", lambda: fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB))
        attempt(f"{name}: flock LOCK_EX on another open file", lambda: fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB))
        attempt(f"{name}: flock LOCK_SH on another open file", lambda: fcntl.flock(b, fcntl.LOCK_SH | fcntl.LOCK_NB))
        out(f"{name}: flock from a child", in_child(lambda: fcntl.flock(os.open(p, os.O_RDONLY), fcntl.LOCK_SH | fcntl.LOCK_NB)))
        fcntl.flock(a, fcntl.LOCK_SH)
        attempt(f"{name}: shared flocks together", lambda: fcntl.flock(b, fcntl.LOCK_SH | fcntl.LOCK_NB))
        attempt(f"{name}: upgrade while another shares", lambda: fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB))
        os.close(b)
        attempt(f"{name}: upgrade after the other closed", lambda: fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB))
        attempt(f"{name}: fcntl write lock on a read-only fd", lambda: fcntl.lockf(a, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0))
        b = os.open(p, os.O_RDWR)
        attempt(f"{name}: fcntl write lock 0-10", lambda: fcntl.lockf(b, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0))
        out(f"{name}: F_GETLK in a child", in_child(lambda: getlk(os.open(p, os.O_RDWR), 5, 10)))
        out(f"{name}: overlapping lock in a child", in_child(lambda: fcntl.lockf(os.open(p, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 5)))
        out(f"{name}: disjoint lock in a child", in_child(lambda: fcntl.lockf(os.open(p, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 20)))
        out(f"{name}: F_GETLK in the owner", getlk(b, 0, 10))
        c = os.open(p, os.O_RDONLY)
        os.close(c)  # closing any fd of the file drops the process's POSIX locks
        out(f"{name}: child lock after the owner closed another fd", in_child(lambda: fcntl.lockf(os.open(p, os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 5)))
        attempt(f"{name}: OFD lock", lambda: fcntl.fcntl(b, F_OFD_SETLK, flock_struct(fcntl.F_WRLCK, 0, 10)) and None)
        c = os.open(p, os.O_RDWR)
        attempt(f"{name}: OFD lock on another open file", lambda: fcntl.fcntl(c, F_OFD_SETLK, flock_struct(fcntl.F_WRLCK, 0, 10)) and None)
        out(f"{name}: F_OFD_GETLK on another open file", getlk(c, 0, 10, F_OFD_GETLK).replace(f"pid {-1}", "pid -1"))
        for fd in (a, b, c):
            os.close(fd)
        out(f"{name}: flock after every fd closed", in_child(lambda: fcntl.flock(os.open(p, os.O_RDONLY), fcntl.LOCK_EX | fcntl.LOCK_NB)))
    out("tree", tree(r))


def rule_append(r):
    p = f"{r}/f"
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"A1\n")
    out("position after an append", os.lseek(fd, 0, os.SEEK_CUR))
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"A2\n")
    out("position after seek to 0 and write", os.lseek(fd, 0, os.SEEK_CUR))
    os.pwrite(fd, b"P\n", 0)  # Linux: pwrite on an O_APPEND fd appends
    out("after pwrite at 0", content(p))
    other = os.open(p, os.O_WRONLY | os.O_APPEND)
    for i in range(3):
        os.write(fd, f"fd{i}\n".encode())
        os.write(other, f"other{i}\n".encode())
    plain = os.open(p, os.O_WRONLY)
    os.pwrite(plain, b"X" * 200, 0)  # grows the file behind the append fds' backs
    os.write(fd, b"tail\n")
    out("after interleaved appends and a growing write", content(p))
    for x in (fd, other, plain):
        os.close(x)
    fd = os.open(f"{r}/x.sh", os.O_RDWR | os.O_APPEND | os.O_TRUNC)
    os.write(fd, b"fresh\n")
    out("O_APPEND|O_TRUNC of a lower file", content(f"{r}/x.sh"))
    os.lseek(fd, 0, os.SEEK_SET)
    out("read from 0 on an O_RDWR|O_APPEND fd", os.read(fd, 100))
    os.close(fd)
    fd = os.open(f"{r}/new", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    os.write(fd, b"n1\n")
    os.write(fd, b"n2\n")
    os.close(fd)
    out("tree", tree(r))


def rule_truncate(r):
    p = f"{r}/f"
    aged(p)
    attempt("truncate a lower file shorter", lambda: os.truncate(p, 3))
    out("f", content(p))
    out("f times", times(p))
    attempt("truncate longer", lambda: os.truncate(p, 10))
    out("f after growing", content(p))
    aged(p)
    attempt("truncate to the same size", lambda: os.truncate(p, 10))
    out("f times after a same-size truncate", times(p))
    attempt("truncate to a negative size", lambda: os.truncate(p, -1))
    attempt("truncate a directory", lambda: os.truncate(f"{r}/d", 0))
    attempt("truncate a missing file", lambda: os.truncate(f"{r}/missing", 0))
    attempt("truncate through a symlink", lambda: (os.symlink("x.sh", f"{r}/sym"), os.truncate(f"{r}/sym", 2))[-1])
    out("x.sh", desc(f"{r}/x.sh") + " " + content(f"{r}/x.sh"))
    fd = os.open(f"{r}/big", os.O_RDONLY)
    attempt("ftruncate a read-only fd", lambda: os.ftruncate(fd, 0))
    os.close(fd)
    fd = os.open(f"{r}/big", os.O_RDWR)
    attempt("ftruncate a lower file opened read-write", lambda: os.ftruncate(fd, 100))
    out("fstat size", os.fstat(fd).st_size)
    out("read past the new end", os.pread(fd, 10, 200))
    attempt("ftruncate to 1 MiB", lambda: os.ftruncate(fd, 1 << 20))
    out("big", desc(f"{r}/big") + " " + content(f"{r}/big"))
    os.close(fd)
    fd = os.open(f"{r}/h/z", os.O_RDONLY)
    attempt("fchmod through a read-only fd of a lower file", lambda: os.fchmod(fd, 0o640))
    attempt("fchown through it", lambda: os.fchown(fd, 1, 2))
    attempt("futimens through it", lambda: os.utime(fd, ns=(5, 6)))
    st = os.fstat(fd)
    out("fstat after", f"{stat.S_IMODE(st.st_mode):o} {st.st_uid}:{st.st_gid} {st.st_atime_ns} {st.st_mtime_ns}")
    out("read through it", os.pread(fd, 100, 0))
    os.close(fd)
    out("h/z", desc(f"{r}/h/z"))
    aged(f"{r}/d/a")
    fd = os.open(f"{r}/d/a", os.O_WRONLY | os.O_TRUNC)
    os.close(fd)
    out("O_TRUNC of a lower file", desc(f"{r}/d/a"))
    out("O_TRUNC times", times(f"{r}/d/a"))
    os.chmod(f"{r}/e/c", 0o4755)
    fd = os.open(f"{r}/e/c", os.O_WRONLY)
    os.ftruncate(fd, 1)
    os.close(fd)
    out("setuid bit after truncate by root", desc(f"{r}/e/c"))
    out("tree", tree(r))


def rule_sparse(r):
    p = f"{r}/sparse"
    fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
    os.pwrite(fd, b"x", 1 << 20)
    os.fsync(fd)
    st = os.fstat(fd)
    out("size", st.st_size)
    out("allocated less than 64 KiB", st.st_blocks * 512 < 65536)
    for whence, wname in ((SEEK_DATA, "SEEK_DATA"), (SEEK_HOLE, "SEEK_HOLE")):
        for off in (0, 4096, 1 << 20, (1 << 20) + 1, (1 << 20) + 5):
            attempt(f"{wname} from {off}", lambda: os.lseek(fd, off, whence))
    out("read in the hole", show(os.pread(fd, 16, 4096)))
    attempt("SEEK_END", lambda: os.lseek(fd, -1, os.SEEK_END))
    os.close(fd)
    fd = os.open(f"{r}/big", os.O_RDONLY)
    for whence, wname in ((SEEK_DATA, "SEEK_DATA"), (SEEK_HOLE, "SEEK_HOLE")):
        for off in (0, 100, 65536):
            attempt(f"lower file {wname} from {off}", lambda: os.lseek(fd, off, whence))
    os.close(fd)
    fd = os.open(f"{r}/d", os.O_RDONLY)
    attempt("SEEK_DATA on a directory", lambda: os.lseek(fd, 0, SEEK_DATA))
    os.close(fd)
    out("tree", tree(r))


def rule_fallocate(r):
    p = f"{r}/alloc"
    fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
    attempt("posix_fallocate 0..8192", lambda: os.posix_fallocate(fd, 0, 8192))
    out("size", os.fstat(fd).st_size)
    out("content", content(p))
    os.pwrite(fd, b"D" * 8192, 0)
    os.fsync(fd)
    before = os.fstat(fd).st_blocks
    attempt("KEEP_SIZE 8192..16384", lambda: fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192))
    out("size after KEEP_SIZE", os.fstat(fd).st_size)
    out("blocks grew", os.fstat(fd).st_blocks > before)
    attempt("PUNCH_HOLE|KEEP_SIZE 0..4096", lambda: fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096))
    out("after punching", show(os.pread(fd, 8, 0)) + " " + show(os.pread(fd, 8, 4096)) + f" size {os.fstat(fd).st_size}")
    attempt("SEEK_DATA after punching", lambda: os.lseek(fd, 0, SEEK_DATA))
    attempt("PUNCH_HOLE without KEEP_SIZE", lambda: fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096))
    attempt("ZERO_RANGE 4096..6144", lambda: fallocate(fd, FALLOC_FL_ZERO_RANGE, 4096, 2048))
    out("after ZERO_RANGE", show(os.pread(fd, 8, 4096)) + " " + show(os.pread(fd, 8, 6144)))
    attempt("a negative length", lambda: fallocate(fd, 0, 0, -1))
    # Known differences: the FUSE kernel module passes only KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE on.
    os.pwrite(fd, b"E" * 16384, 0)
    attempt("~COLLAPSE_RANGE", lambda: fallocate(fd, 0x08, 0, 4096))
    attempt("~INSERT_RANGE", lambda: fallocate(fd, 0x20, 0, 4096))
    os.ftruncate(fd, 8192)
    os.pwrite(fd, b"F" * 8192, 0)
    os.close(fd)
    fd = os.open(f"{r}/f", os.O_RDONLY)
    attempt("fallocate a read-only fd", lambda: fallocate(fd, 0, 0, 100))
    os.close(fd)
    fd = os.open(f"{r}/f", os.O_RDWR)
    attempt("fallocate a lower file opened read-write", lambda: fallocate(fd, 0, 0, 20000))
    os.close(fd)
    out("f", desc(f"{r}/f") + " " + content(f"{r}/f"))
    fd = os.open(f"{r}/x.sh", os.O_WRONLY | os.O_APPEND)
    attempt("fallocate an O_APPEND fd", lambda: fallocate(fd, 0, 0, 100))
    os.close(fd)
    out("tree", tree(r))


def rule_utimens(r):
    def when(p):
        st = os.lstat(p)
        return f"atime {st.st_atime_ns} mtime {st.st_mtime_ns}"

    p = f"{r}/f"
    mtime0 = os.lstat(p).st_mtime_ns
    attempt("explicit atime, UTIME_OMIT mtime", lambda: utimensat(p, (1_500_000_000, 123), "omit"))
    st = os.lstat(p)
    out("atime", st.st_atime_ns)
    out("mtime unchanged", st.st_mtime_ns == mtime0)
    attempt("UTIME_OMIT atime, explicit mtime", lambda: utimensat(p, "omit", (1_400_000_000, 999_999_999)))
    out("f", when(p))
    aged(p)
    attempt("UTIME_OMIT both", lambda: utimensat(p, "omit", "omit"))
    out("f times after omitting both", times(p, "ma"))
    attempt("UTIME_NOW atime, UTIME_OMIT mtime", lambda: utimensat(p, "now", "omit"))
    out("f times after now/omit", times(p, "ma"))
    aged(p)
    attempt("UTIME_NOW both", lambda: utimensat(p, "now", "now"))
    out("f times after now/now", times(p, "mac"))
    aged(p)
    attempt("NULL times", lambda: utimensat(p, None, None))
    out("f times after NULL", times(p, "mac"))
    st = os.lstat(p)
    out("atime equals mtime after NULL", st.st_atime_ns == st.st_mtime_ns)
    attempt("before 1970", lambda: utimensat(p, (-1, 5), (-86400, 0)))
    out("f", when(p))
    attempt("far future", lambda: utimensat(p, (1 << 33, 0), (1 << 33, 1)))
    out("f", when(p))
    attempt("an invalid nsec", lambda: utimensat(p, (0, 1_000_000_000), "omit"))
    os.symlink("x.sh", f"{r}/sym")
    attempt("symlink itself (AT_SYMLINK_NOFOLLOW)", lambda: utimensat(f"{r}/sym", (1_300_000_000, 1), (1_300_000_000, 2), AT_SYMLINK_NOFOLLOW))
    out("sym", when(f"{r}/sym"))
    out("x.sh not touched", os.lstat(f"{r}/x.sh").st_mtime_ns != 1_300_000_000 * 10**9 + 2)
    attempt("through the symlink", lambda: utimensat(f"{r}/sym", (1_200_000_000, 0), (1_200_000_000, 0)))
    out("x.sh", when(f"{r}/x.sh"))
    attempt("lower directory", lambda: utimensat(f"{r}/d", (1_100_000_000, 7), (1_100_000_000, 8)))
    out("d", when(f"{r}/d"))
    out("d listing", listing(f"{r}/d"))
    attempt("missing file", lambda: utimensat(f"{r}/missing", "now", "now"))
    # Timestamps that operations move.
    aged(f"{r}/e/c")
    with open(f"{r}/e/c", "ab") as w:
        w.write(b"more\n")
    out("e/c times after a write", times(f"{r}/e/c"))
    aged(f"{r}/e/c")
    os.chmod(f"{r}/e/c", 0o600)
    out("e/c times after chmod", times(f"{r}/e/c"))
    aged(f"{r}/e/c")
    read(f"{r}/e/c")
    out("e/c times after a read", times(f"{r}/e/c", "mc"))
    for op, fn in (
        ("create", lambda: open(f"{r}/d/new", "w").close()),
        ("unlink of a lower entry", lambda: os.unlink(f"{r}/d/a")),
        ("mkdir", lambda: os.mkdir(f"{r}/d/dir")),
        ("rmdir of a lower directory", lambda: (os.unlink(f"{r}/d/sub/b"), os.rmdir(f"{r}/d/sub"))),
        ("rename within", lambda: os.rename(f"{r}/d/new", f"{r}/d/new2")),
        ("symlink", lambda: os.symlink("t", f"{r}/d/sl")),
    ):
        aged(f"{r}/d")
        fn()
        out(f"d times after {op}", times(f"{r}/d"))
    out("tree", tree(r))


def getdents(fd, size=512):
    """One getdents64 call with a small buffer: the names it returned ([] at the end)."""
    buf = ctypes.create_string_buffer(size)
    n = libc.syscall(SYS_getdents64, fd, buf, size)
    if n < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    names, pos = [], 0
    while pos < n:
        reclen = struct.unpack_from("H", buf.raw, pos + 16)[0]
        name = buf.raw[pos + 19 : pos + reclen].split(b"\0", 1)[0].decode()
        if name not in (".", ".."):
            names.append(name)
        pos += reclen
    return names


def rule_readdir(r):
    many = f"{r}/many"
    for i in range(300, 400):  # a merged directory: upper names beside lower ones
        open(f"{many}/{i:03d}", "w").close()
    everything = set(listing(many))
    out("entries", len(everything))
    fd = os.open(many, os.O_RDONLY | os.O_DIRECTORY)
    seen = getdents(fd)
    out("first batch is partial", 0 < len(seen) < len(everything))
    removed = {n for n in everything if int(n) % 3 == 0}
    for n in removed:
        os.unlink(f"{many}/{n}")
    created = {f"new{i}" for i in range(20)}
    for n in created:
        open(f"{many}/{n}", "w").close()
    while batch := getdents(fd):
        seen += batch
    survivors = everything - removed
    out("every surviving entry seen", survivors <= set(seen))
    out("no entry seen twice", len(seen) == len(set(seen)))
    os.lseek(fd, 0, os.SEEK_SET)  # rewinddir: the stream now reflects the directory as it is
    again = []
    while batch := getdents(fd):
        again += batch
    out("after rewind: removed entries gone", not (set(again) & removed))
    out("after rewind: created entries present", created <= set(again))
    out("after rewind: exactly the directory", sorted(again) == listing(many))
    os.close(fd)
    # rm -r's pattern: remove each entry as it is read.
    fd = os.open(many, os.O_RDONLY | os.O_DIRECTORY)
    n_removed = 0
    while batch := getdents(fd):
        for n in batch:
            os.unlink(f"{many}/{n}")
            n_removed += 1
    os.close(fd)
    out("removed while reading", n_removed)
    out("left", listing(many))
    attempt("rmdir", lambda: os.rmdir(many))
    out("tree", tree(r))


def rule_rename_open(r):
    with open(f"{r}/t", "w") as w:
        w.write("old t\n")
    with open(f"{r}/n", "w") as w:
        w.write("new\n")
    old = os.open(f"{r}/t", os.O_RDONLY)
    mover = os.open(f"{r}/n", os.O_RDONLY)
    attempt("rename over an open upper file", lambda: os.rename(f"{r}/n", f"{r}/t"))
    out("read through the replaced file's fd", os.pread(old, 100, 0))
    out("nlink of the replaced file", os.fstat(old).st_nlink)
    out("nlink of the moved file through its fd", os.fstat(mover).st_nlink)
    out("t", content(f"{r}/t"))
    os.close(old)
    os.close(mover)
    for target, mode in (("f", os.O_RDONLY), ("x.sh", os.O_RDWR)):
        with open(f"{r}/n", "w") as w:
            w.write(f"replaces {target}\n")
        old = os.open(f"{r}/{target}", mode)
        attempt(f"rename over an open lower file ({target})", lambda: os.rename(f"{r}/n", f"{r}/{target}"))
        out(f"{target}: read through the old fd", os.pread(old, 100, 0))
        out(f"{target}: nlink through the old fd", os.fstat(old).st_nlink)
        out(f"{target}: size through the old fd", os.fstat(old).st_size)
        attempt(f"{target}: fchmod through the old fd", lambda: os.fchmod(old, 0o600))
        out(f"{target}: mode through the old fd", f"{stat.S_IMODE(os.fstat(old).st_mode):o}")
        if mode == os.O_RDWR:
            os.pwrite(old, b"ghost", 0)
            out(f"{target}: the old fd still writes to the old file", os.pread(old, 5, 0))
        out(f"{target} now", content(f"{r}/{target}"))
        os.close(old)
    fd = os.open(f"{r}/d/a", os.O_RDONLY)
    attempt("rename the directory of an open file", lambda: os.rename(f"{r}/d", f"{r}/d2"))
    out("read through the fd", os.pread(fd, 100, 0))
    out("fstat through the fd", kind(os.fstat(fd).st_mode) + f" nlink {os.fstat(fd).st_nlink}")
    os.close(fd)
    os.chdir(f"{r}/d2/sub")
    os.rename(f"{r}/d2", f"{r}/d3")
    out("getcwd after its parent was renamed", os.path.relpath(os.getcwd(), r))
    attempt("create in the cwd", lambda: open("made-in-cwd", "w").close())
    os.unlink("b")
    os.unlink("made-in-cwd")
    os.rmdir(f"{r}/d3/sub")
    attempt("getcwd after rmdir", lambda: os.getcwd())
    attempt("create in a removed cwd", lambda: open("x", "w").close())
    attempt("list a removed cwd", lambda: os.listdir("."))
    attempt("stat of a removed cwd", lambda: f"{kind(os.stat('.').st_mode)} nlink {os.stat('.').st_nlink}")
    os.chdir("/")
    out("tree", tree(r))


def rule_statfs(r):
    s = os.statvfs(r)
    out("bsize", s.f_bsize)
    out("frsize", s.f_frsize)
    out("blocks", s.f_blocks)
    out("files", s.f_files)
    out("namemax", s.f_namemax)
    # Free counts move with other writers on the same disk: the test compares them with a tolerance.
    out("~bavail", s.f_bavail)
    out("~bfree", s.f_bfree)
    out("~ffree", s.f_ffree)


RULES = {n[len("rule_"):].replace("_", "-"): f for n, f in globals().items() if n.startswith("rule_")}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in RULES:
        sys.exit(f"usage: fs-rules.py {{{'|'.join(RULES)}}} DIR")
    os.umask(0o022)
    RULES[sys.argv[1]](sys.argv[2])
