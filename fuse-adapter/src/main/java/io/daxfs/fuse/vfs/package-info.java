/**
 * What the Linux VFS does for a local file system and FUSE leaves to the daemon, written once
 * for both front ends: POSIX ACLs coupled with the mode ({@link io.daxfs.fuse.vfs.PosixAcls}, as
 * fs/posix_acl.c), the caller's supplementary groups ({@link io.daxfs.fuse.vfs.ProcGroups}) and
 * fallocate(2)'s modes ({@link io.daxfs.fuse.vfs.FallocateModes}), and the names of FUSE opcodes
 * ({@link io.daxfs.fuse.vfs.OpcodeNames}: the log and daxfs stat).
 */
package io.daxfs.fuse.vfs;
