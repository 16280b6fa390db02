/**
 * Extended attributes: an append-only, checksummed log per inode, changed atomically with one
 * transaction (docs/format.md, "Extended attributes").
 */
package io.daxfs.core.xattr;
