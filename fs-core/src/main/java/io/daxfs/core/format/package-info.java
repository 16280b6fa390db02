/**
 * The on-media layout of the whole device: Geometry (where each region lives), the
 * Superblock, and the exception a device that is not a sound daxfs raises (docs/format.md).
 */
package io.daxfs.core.format;
