/**
 * The bottom of fs-core: the value types and errors every other package uses (Errno,
 * FsException, Attributes, Timestamp, FileMode, AtimePolicy, FsStats, DirEntry,
 * FormatOptions). Imports nothing else of fs-core.
 */
package io.daxfs.core.base;
