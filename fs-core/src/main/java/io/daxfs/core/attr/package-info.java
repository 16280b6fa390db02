/**
 * Attribute changes: chmod, chown, utimens and the privileges a write takes away, each one
 * journaled transaction under the inode's lock.
 */
package io.daxfs.core.attr;
