/**
 * In-memory allocators rebuilt from the bitmaps at mount: BlockAllocator (free extents by
 * start and by length) and InodeAllocator (free numbers, numbers held for the kernel), and
 * the MetaBlocks contract the extent map allocates its overflow blocks through.
 */
package io.daxfs.core.alloc;
