/**
 * Every struct size, field offset and constant in src/fuse/structs.ts, checked against the installed
 * libfuse3 and glibc headers by a C program compiled here with gcc.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as Structs from "../../src/fuse/structs.ts";

/** The constants with their literal types widened to number, so they compare with the probe's output. */
type Widen<T> = T extends number ? number : { readonly [K in keyof T]: Widen<T[K]> };
const S = Structs as { readonly [K in keyof typeof Structs]: Widen<(typeof Structs)[K]> };

const BUILD = join(import.meta.dir, "../.build");

const C_SOURCE = `
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/xattr.h>
#define P(name, value) printf("%s %ld\\n", name, (long)(value))
#define OFF(t, f) P(#t "." #f, offsetof(struct t, f))
#define SZ(t) P(#t, sizeof(struct t))
#define SLOT(f) P("ops." #f, offsetof(struct fuse_lowlevel_ops, f) / sizeof(void *))
int main(void) {
  SZ(stat); OFF(stat, st_dev); OFF(stat, st_ino); OFF(stat, st_nlink); OFF(stat, st_mode); OFF(stat, st_uid);
  OFF(stat, st_gid); OFF(stat, st_rdev); OFF(stat, st_size); OFF(stat, st_blksize); OFF(stat, st_blocks);
  OFF(stat, st_atim); OFF(stat, st_mtim); OFF(stat, st_ctim);
  P("stat.st_atim.tv_nsec", offsetof(struct stat, st_atim) + offsetof(struct timespec, tv_nsec));
  SZ(fuse_entry_param); OFF(fuse_entry_param, ino); OFF(fuse_entry_param, generation); OFF(fuse_entry_param, attr);
  OFF(fuse_entry_param, attr_timeout); OFF(fuse_entry_param, entry_timeout);
  SZ(fuse_file_info); OFF(fuse_file_info, flags); OFF(fuse_file_info, fh); OFF(fuse_file_info, lock_owner); OFF(fuse_file_info, poll_events);
  { struct fuse_file_info fi; unsigned char *b = (unsigned char *)&fi;
    #define BIT(f) do { memset(&fi, 0, sizeof fi); fi.f = 1; unsigned v; memcpy(&v, b + 4, 4); P("fi_bit." #f, v); } while (0)
    BIT(writepage); BIT(direct_io); BIT(keep_cache); BIT(flush); BIT(nonseekable); BIT(flock_release); BIT(cache_readdir); BIT(noflush); }
  SZ(fuse_buf); OFF(fuse_buf, size); OFF(fuse_buf, flags); OFF(fuse_buf, mem); OFF(fuse_buf, fd); OFF(fuse_buf, pos);
  SZ(fuse_bufvec); OFF(fuse_bufvec, count); OFF(fuse_bufvec, idx); OFF(fuse_bufvec, off); OFF(fuse_bufvec, buf);
  SZ(fuse_args); OFF(fuse_args, argc); OFF(fuse_args, argv); OFF(fuse_args, allocated);
  SZ(fuse_ctx); OFF(fuse_ctx, uid); OFF(fuse_ctx, gid); OFF(fuse_ctx, pid); OFF(fuse_ctx, umask);
  SZ(fuse_forget_data); OFF(fuse_forget_data, ino); OFF(fuse_forget_data, nlookup);
  OFF(fuse_conn_info, proto_major); OFF(fuse_conn_info, proto_minor); OFF(fuse_conn_info, max_write); OFF(fuse_conn_info, max_read);
  OFF(fuse_conn_info, max_readahead); OFF(fuse_conn_info, capable); OFF(fuse_conn_info, want); OFF(fuse_conn_info, max_background);
  OFF(fuse_conn_info, congestion_threshold); OFF(fuse_conn_info, time_gran);
  SZ(statvfs); OFF(statvfs, f_bsize); OFF(statvfs, f_frsize); OFF(statvfs, f_blocks); OFF(statvfs, f_bfree); OFF(statvfs, f_bavail);
  OFF(statvfs, f_files); OFF(statvfs, f_ffree); OFF(statvfs, f_favail); OFF(statvfs, f_fsid); OFF(statvfs, f_flag); OFF(statvfs, f_namemax);
  SZ(fuse_lowlevel_ops);
  SLOT(init); SLOT(destroy); SLOT(lookup); SLOT(forget); SLOT(getattr); SLOT(setattr); SLOT(readlink); SLOT(mknod); SLOT(mkdir);
  SLOT(unlink); SLOT(rmdir); SLOT(symlink); SLOT(rename); SLOT(link); SLOT(open); SLOT(read); SLOT(write); SLOT(flush); SLOT(release);
  SLOT(fsync); SLOT(opendir); SLOT(readdir); SLOT(releasedir); SLOT(fsyncdir); SLOT(statfs); SLOT(setxattr); SLOT(getxattr);
  SLOT(listxattr); SLOT(removexattr); SLOT(access); SLOT(create); SLOT(forget_multi); SLOT(fallocate); SLOT(readdirplus);
  SLOT(copy_file_range); SLOT(lseek);
  P("FUSE_BUF_IS_FD", FUSE_BUF_IS_FD); P("FUSE_BUF_FD_SEEK", FUSE_BUF_FD_SEEK); P("FUSE_BUF_FD_RETRY", FUSE_BUF_FD_RETRY);
  P("FUSE_BUF_NO_SPLICE", FUSE_BUF_NO_SPLICE); P("FUSE_BUF_FORCE_SPLICE", FUSE_BUF_FORCE_SPLICE); P("FUSE_BUF_SPLICE_MOVE", FUSE_BUF_SPLICE_MOVE);
  P("FUSE_BUF_SPLICE_NONBLOCK", FUSE_BUF_SPLICE_NONBLOCK);
  P("CAP.ASYNC_READ", FUSE_CAP_ASYNC_READ); P("CAP.POSIX_LOCKS", FUSE_CAP_POSIX_LOCKS); P("CAP.ATOMIC_O_TRUNC", FUSE_CAP_ATOMIC_O_TRUNC);
  P("CAP.EXPORT_SUPPORT", FUSE_CAP_EXPORT_SUPPORT); P("CAP.DONT_MASK", FUSE_CAP_DONT_MASK); P("CAP.SPLICE_WRITE", FUSE_CAP_SPLICE_WRITE);
  P("CAP.SPLICE_MOVE", FUSE_CAP_SPLICE_MOVE); P("CAP.SPLICE_READ", FUSE_CAP_SPLICE_READ); P("CAP.FLOCK_LOCKS", FUSE_CAP_FLOCK_LOCKS);
  P("CAP.IOCTL_DIR", FUSE_CAP_IOCTL_DIR); P("CAP.AUTO_INVAL_DATA", FUSE_CAP_AUTO_INVAL_DATA); P("CAP.READDIRPLUS", FUSE_CAP_READDIRPLUS);
  P("CAP.READDIRPLUS_AUTO", FUSE_CAP_READDIRPLUS_AUTO); P("CAP.ASYNC_DIO", FUSE_CAP_ASYNC_DIO); P("CAP.WRITEBACK_CACHE", FUSE_CAP_WRITEBACK_CACHE);
  P("CAP.NO_OPEN_SUPPORT", FUSE_CAP_NO_OPEN_SUPPORT); P("CAP.PARALLEL_DIROPS", FUSE_CAP_PARALLEL_DIROPS); P("CAP.POSIX_ACL", FUSE_CAP_POSIX_ACL);
  P("CAP.HANDLE_KILLPRIV", FUSE_CAP_HANDLE_KILLPRIV); P("CAP.CACHE_SYMLINKS", FUSE_CAP_CACHE_SYMLINKS);
  P("CAP.NO_OPENDIR_SUPPORT", FUSE_CAP_NO_OPENDIR_SUPPORT); P("CAP.EXPLICIT_INVAL_DATA", FUSE_CAP_EXPLICIT_INVAL_DATA);
  P("SET_ATTR.MODE", FUSE_SET_ATTR_MODE); P("SET_ATTR.UID", FUSE_SET_ATTR_UID); P("SET_ATTR.GID", FUSE_SET_ATTR_GID);
  P("SET_ATTR.SIZE", FUSE_SET_ATTR_SIZE); P("SET_ATTR.ATIME", FUSE_SET_ATTR_ATIME); P("SET_ATTR.MTIME", FUSE_SET_ATTR_MTIME);
  P("SET_ATTR.ATIME_NOW", FUSE_SET_ATTR_ATIME_NOW); P("SET_ATTR.MTIME_NOW", FUSE_SET_ATTR_MTIME_NOW); P("SET_ATTR.CTIME", FUSE_SET_ATTR_CTIME);
  P("O.ACCMODE", O_ACCMODE); P("O.WRONLY", O_WRONLY); P("O.RDWR", O_RDWR); P("O.CREAT", O_CREAT); P("O.EXCL", O_EXCL);
  P("O.TRUNC", O_TRUNC); P("O.APPEND", O_APPEND); P("O.NONBLOCK", O_NONBLOCK); P("O.DIRECTORY", O_DIRECTORY); P("O.NOFOLLOW", O_NOFOLLOW);
  P("O.CLOEXEC", O_CLOEXEC); P("RENAME.NOREPLACE", RENAME_NOREPLACE); P("RENAME.EXCHANGE", RENAME_EXCHANGE); P("RENAME.WHITEOUT", RENAME_WHITEOUT);
  P("XATTR.CREATE", XATTR_CREATE); P("XATTR.REPLACE", XATTR_REPLACE);
  P("S_IF.MT", S_IFMT); P("S_IF.LNK", S_IFLNK); P("S_IF.REG", S_IFREG); P("S_IF.DIR", S_IFDIR); P("S_IF.CHR", S_IFCHR);
  P("S_IF.BLK", S_IFBLK); P("S_IF.FIFO", S_IFIFO); P("S_IF.SOCK", S_IFSOCK);
  return 0;
}
`;

function probe(): Map<string, number> {
  mkdirSync(BUILD, { recursive: true });
  const src = join(BUILD, "structs-probe.c");
  const bin = join(BUILD, "structs-probe");
  writeFileSync(src, C_SOURCE.replace("#include <stdio.h>\n#include <sys/xattr.h>", "#include <string.h>\n#include <sys/xattr.h>\n#include <linux/fs.h>"));
  const flags = spawnSync("pkg-config", ["fuse3", "--cflags"], { encoding: "utf8" });
  expect(flags.status).toBe(0);
  const cc = spawnSync("gcc", ["-Wall", "-o", bin, src, ...flags.stdout.trim().split(/\s+/)], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`gcc failed:\n${cc.stderr}`);
  const out = spawnSync(bin, { encoding: "utf8" });
  expect(out.status).toBe(0);
  return new Map(out.stdout.trim().split("\n").map((l) => { const [k, v] = l.split(" "); return [k!, Number(v)]; }));
}

const c = probe();
const at = (k: string) => {
  const v = c.get(k);
  if (v === undefined) throw new Error(`probe printed no ${k}`);
  return v;
};

test("struct stat", () => {
  expect(S.STAT.size).toBe(at("stat"));
  expect([S.STAT.dev, S.STAT.ino, S.STAT.nlink, S.STAT.mode, S.STAT.uid, S.STAT.gid, S.STAT.rdev, S.STAT.size_, S.STAT.blksize, S.STAT.blocks])
    .toEqual(["st_dev", "st_ino", "st_nlink", "st_mode", "st_uid", "st_gid", "st_rdev", "st_size", "st_blksize", "st_blocks"].map((f) => at(`stat.${f}`)));
  expect([S.STAT.atimeSec, S.STAT.mtimeSec, S.STAT.ctimeSec]).toEqual([at("stat.st_atim"), at("stat.st_mtim"), at("stat.st_ctim")]);
  expect(S.STAT.atimeNsec).toBe(at("stat.st_atim.tv_nsec"));
  expect(S.STAT.mtimeNsec - S.STAT.mtimeSec).toBe(S.STAT.atimeNsec - S.STAT.atimeSec);
  expect(S.STAT.ctimeNsec - S.STAT.ctimeSec).toBe(S.STAT.atimeNsec - S.STAT.atimeSec);
});

test("fuse_entry_param, fuse_file_info and its bitfield", () => {
  expect(S.ENTRY_PARAM.size).toBe(at("fuse_entry_param"));
  for (const [k, f] of [["ino", "ino"], ["generation", "generation"], ["attr", "attr"], ["attrTimeout", "attr_timeout"], ["entryTimeout", "entry_timeout"]] as const)
    expect(S.ENTRY_PARAM[k]).toBe(at(`fuse_entry_param.${f}`));
  expect(S.FILE_INFO.size314).toBe(at("fuse_file_info"));
  expect(S.FILE_INFO.alloc).toBeGreaterThanOrEqual(64);
  expect([S.FILE_INFO.flags, S.FILE_INFO.fh, S.FILE_INFO.lockOwner, S.FILE_INFO.pollEvents])
    .toEqual([at("fuse_file_info.flags"), at("fuse_file_info.fh"), at("fuse_file_info.lock_owner"), at("fuse_file_info.poll_events")]);
  for (const [k, f] of [["writepage", "writepage"], ["directIo", "direct_io"], ["keepCache", "keep_cache"], ["flush", "flush"], ["nonseekable", "nonseekable"], ["flockRelease", "flock_release"], ["cacheReaddir", "cache_readdir"], ["noflush", "noflush"]] as const)
    expect(S.FI_BIT[k]).toBe(at(`fi_bit.${f}`));
});

test("fuse_buf, fuse_bufvec, fuse_args, fuse_ctx, fuse_forget_data", () => {
  expect(S.FUSE_BUF.size).toBe(at("fuse_buf"));
  expect(S.FUSE_BUF.alloc).toBeGreaterThanOrEqual(S.FUSE_BUF.size);
  expect([S.FUSE_BUF.size_, S.FUSE_BUF.flags, S.FUSE_BUF.mem, S.FUSE_BUF.fd, S.FUSE_BUF.pos]).toEqual(["size", "flags", "mem", "fd", "pos"].map((f) => at(`fuse_buf.${f}`)));
  expect(S.FUSE_BUFVEC.size).toBe(at("fuse_bufvec"));
  expect([S.FUSE_BUFVEC.count, S.FUSE_BUFVEC.idx, S.FUSE_BUFVEC.off, S.FUSE_BUFVEC.buf0]).toEqual(["count", "idx", "off", "buf"].map((f) => at(`fuse_bufvec.${f}`)));
  expect(S.FUSE_ARGS.size).toBe(at("fuse_args"));
  expect([S.FUSE_ARGS.argc, S.FUSE_ARGS.argv, S.FUSE_ARGS.allocated]).toEqual(["argc", "argv", "allocated"].map((f) => at(`fuse_args.${f}`)));
  expect(S.FUSE_CTX.size).toBe(at("fuse_ctx"));
  expect([S.FUSE_CTX.uid, S.FUSE_CTX.gid, S.FUSE_CTX.pid, S.FUSE_CTX.umask]).toEqual(["uid", "gid", "pid", "umask"].map((f) => at(`fuse_ctx.${f}`)));
  expect(S.FORGET_DATA.size).toBe(at("fuse_forget_data"));
  expect([S.FORGET_DATA.ino, S.FORGET_DATA.nlookup]).toEqual([at("fuse_forget_data.ino"), at("fuse_forget_data.nlookup")]);
});

test("fuse_conn_info and statvfs", () => {
  for (const [k, f] of [["protoMajor", "proto_major"], ["protoMinor", "proto_minor"], ["maxWrite", "max_write"], ["maxRead", "max_read"], ["maxReadahead", "max_readahead"], ["capable", "capable"], ["want", "want"], ["maxBackground", "max_background"], ["congestionThreshold", "congestion_threshold"], ["timeGran", "time_gran"]] as const)
    expect(S.CONN_INFO[k]).toBe(at(`fuse_conn_info.${f}`));
  expect(S.STATVFS.size).toBe(at("statvfs"));
  for (const f of ["bsize", "frsize", "blocks", "bfree", "bavail", "files", "ffree", "favail", "fsid", "flag", "namemax"] as const)
    expect(S.STATVFS[f]).toBe(at(`statvfs.f_${f}`));
});

test("fuse_lowlevel_ops slots", async () => {
  expect(S.OPS_SIZE).toBe(at("fuse_lowlevel_ops"));
  const { OPS } = await import("../../src/fuse/ops-table.ts");
  for (const d of OPS) expect(`${d.name}=${d.slot}`).toBe(`${d.name}=${at(`ops.${d.name}`)}`);
});

test("flags and constants", () => {
  for (const [k, v] of Object.entries(S.CAP)) expect(`${k}=${v}`).toBe(`${k}=${at(`CAP.${k}`)}`);
  for (const [k, v] of Object.entries(S.SET_ATTR)) expect(`${k}=${v}`).toBe(`${k}=${at(`SET_ATTR.${k}`)}`);
  expect([S.FUSE_BUF_FLAG.isFd, S.FUSE_BUF_FLAG.fdSeek, S.FUSE_BUF_FLAG.fdRetry]).toEqual([at("FUSE_BUF_IS_FD"), at("FUSE_BUF_FD_SEEK"), at("FUSE_BUF_FD_RETRY")]);
  expect([S.FUSE_BUF_COPY.noSplice, S.FUSE_BUF_COPY.forceSplice, S.FUSE_BUF_COPY.spliceMove, S.FUSE_BUF_COPY.spliceNonblock])
    .toEqual([at("FUSE_BUF_NO_SPLICE"), at("FUSE_BUF_FORCE_SPLICE"), at("FUSE_BUF_SPLICE_MOVE"), at("FUSE_BUF_SPLICE_NONBLOCK")]);
  for (const k of ["ACCMODE", "WRONLY", "RDWR", "CREAT", "EXCL", "TRUNC", "APPEND", "NONBLOCK", "DIRECTORY", "NOFOLLOW", "CLOEXEC"] as const)
    expect(`${k}=${S.O[k]}`).toBe(`${k}=${at(`O.${k}`)}`);
  for (const [k, v] of Object.entries(S.RENAME)) expect(v).toBe(at(`RENAME.${k}`));
  for (const [k, v] of Object.entries(S.XATTR)) expect(v).toBe(at(`XATTR.${k}`));
  for (const k of ["MT", "LNK", "REG", "DIR", "CHR", "BLK", "FIFO", "SOCK"] as const) expect(S.S_IF[k]).toBe(at(`S_IF.${k}`));
});
