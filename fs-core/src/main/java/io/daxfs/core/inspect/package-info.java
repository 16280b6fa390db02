/**
 * Read-only inspection of a device for the operator tools ({@code daxfs info}, {@code freesp},
 * {@code map}): what the superblock, journal, bitmaps and inodes say right now. Nothing here
 * writes, replays the journal or frees orphans; on a mounted device the figures are a snapshot
 * of a moving target.
 */
package io.daxfs.core.inspect;
