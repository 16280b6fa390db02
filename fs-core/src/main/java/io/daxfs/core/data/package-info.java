/**
 * File contents: reads, writes, truncate, punch, zero range, fallocate and leases, concurrent
 * within one file (FileData over FileReader, FileWriter, FileResizer and FileBlocks;
 * docs/concurrency.md).
 */
package io.daxfs.core.data;
