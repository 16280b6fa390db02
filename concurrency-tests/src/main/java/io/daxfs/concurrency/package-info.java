/**
 * jcstress tests of fs-core's concurrency primitives (see docs/concurrency.md).
 *
 * <p>Each test is a {@code @JCStressTest}: jcstress runs its {@code @Actor} methods
 * concurrently on a fresh {@code @State} millions of times, under several JIT modes, and
 * tallies the outcomes; an outcome marked {@code FORBIDDEN} that shows up even once fails the
 * test. Run them with {@code scripts/jcstress} (the harness jar is
 * {@code concurrency-tests/target/jcstress.jar}); Maven only compiles them.
 *
 * <ul>
 * <li>{@code RangeLock*}: mutual exclusion of conflicting ranges (exclusive/exclusive and
 *     exclusive/shared), sharing of overlapping shared ranges, and that disjoint ranges never
 *     wait ({@code tryAcquire} must succeed for both).</li>
 * <li>{@code InvalidationSequence*}: the seqlock property - a sample validated around two
 *     reads never sees a torn pair written inside begin/end - and that a sample taken during
 *     an invalidation never validates, also with overlapping invalidations.</li>
 * <li>{@code MappingCache*}: a cached mapping is never returned for a sample taken after an
 *     invalidation completed, and the reader's fast path (sample, lookup, use, validate) never
 *     accepts a mapping that an invalidation changed in between.</li>
 * </ul>
 */
package io.daxfs.concurrency;
