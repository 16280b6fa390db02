/**
 * fsck: a read-only check of a whole device (FsChecker) and its report (FsckReport).
 */
package io.daxfs.core.check;
