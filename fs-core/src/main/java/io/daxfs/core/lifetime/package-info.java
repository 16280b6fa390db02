/**
 * When an inode stops existing: link counts dropping to zero, open handles, the on-media
 * orphan list and the final free of blocks, attributes and number (InodeLifetimes).
 */
package io.daxfs.core.lifetime;
