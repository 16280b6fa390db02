/**
 * The concurrency primitives and the one lock order (LockOrder): range locks, the
 * invalidation sequence and the mapping cache it guards, the busy-extent list, and the
 * switches and pause points the race tests use (docs/concurrency.md).
 */
package io.daxfs.core.concurrent;
