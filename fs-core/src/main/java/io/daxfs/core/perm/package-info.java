/**
 * Permission decisions as Linux makes them, with no I/O: POSIX ACLs in their extended-attribute
 * form ({@link io.daxfs.core.perm.Acl}), the caller's credentials
 * ({@link io.daxfs.core.perm.Credentials}) and the access check of mode bits plus ACL
 * ({@link io.daxfs.core.perm.PermissionChecker}). The FUSE adapter asks these for every request
 * when it enforces permissions itself (docs/permissions.md).
 */
package io.daxfs.core.perm;
