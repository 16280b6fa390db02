package io.daxfs.concurrency;

import io.daxfs.core.concurrent.InvalidationSequence;
import io.daxfs.core.concurrent.MappingCache;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.IZ_Result;
import org.openjdk.jcstress.infra.results.J_Result;
import org.openjdk.jcstress.infra.results.JJ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link MappingCache} together with {@link InvalidationSequence}: the R3 hazard of
 * docs/concurrency.md (a cached block mapping used after an invalidation).
 */
public final class MappingCacheTests {
    private MappingCacheTests() {
    }

    /**
     * An entry stamped before an invalidation is never returned for a sample taken after that
     * invalidation completed. r1 = 1: the invalidation had ended before the sample; r2: hit.
     */
    @JCStressTest
    @Description("MappingCache: no hit on an entry older than a completed invalidation")
    @Outcome(id = {"0, true", "0, false"}, expect = ACCEPTABLE, desc = "sample may predate the invalidation")
    @Outcome(id = "1, false", expect = ACCEPTABLE, desc = "stale entry refused")
    @Outcome(id = "1, true", expect = FORBIDDEN, desc = "stale entry returned after the invalidation")
    @State
    public static class StaleAfterInvalidation {
        final InvalidationSequence seq = new InvalidationSequence();
        final MappingCache cache = new MappingCache();
        volatile int done;

        public StaleAfterInvalidation() {
            cache.put(0, 16, 100, seq.sample());
        }

        @Actor
        public void invalidator() {
            seq.begin();
            seq.end();
            done = 1;
        }

        @Actor
        public void reader(IZ_Result r) {
            int d = done;
            long s = seq.sample();
            r.r1 = d;
            r.r2 = cache.lookup(5, s, false) != MappingCache.MISS;
        }
    }

    /**
     * A reader fills the cache from the block map (sample, look up, put stamped with the
     * sample) while a writer changes the map inside begin/end (block 100 becomes 200). After
     * both, a lookup with a fresh sample returns the new mapping or nothing, never the old one.
     * r1: physical block of the hit, -1 for a miss.
     */
    @JCStressTest
    @Description("MappingCache: a fill racing a block-map change never leaves the old mapping usable")
    @Outcome(id = {"-1", "200"}, expect = ACCEPTABLE, desc = "miss, or the new mapping")
    @Outcome(id = "100", expect = FORBIDDEN, desc = "old mapping usable after the change")
    @Outcome(expect = FORBIDDEN, desc = "unexpected")
    @State
    public static class FillVersusChange {
        final InvalidationSequence seq = new InvalidationSequence();
        final MappingCache cache = new MappingCache();
        volatile long physical = 100;

        @Actor
        public void writer() {
            seq.begin();
            physical = 200;
            seq.end();
        }

        @Actor
        public void filler() {
            long s = seq.sample();
            long p = physical;
            cache.put(0, 16, p, s);
        }

        @Arbiter
        public void arbiter(J_Result r) {
            long hit = cache.lookup(0, seq.sample(), false);
            r.r1 = hit == MappingCache.MISS ? -1 : MappingCache.physical(hit);
        }
    }

    /**
     * The lock-free read path of FileData.readCached: sample, look up the cached mapping, use
     * the block, validate. A writer frees the block (flag) inside begin/end. A reader that hit
     * the cache and saw the block freed must not validate. r1: hit; r2: saw the block freed;
     * r3: validated.
     */
    @JCStressTest
    @Description("MappingCache: the fast read path never validates a use of a block freed meanwhile")
    @Outcome(id = {"0, 0, 0", "0, 0, 1", "0, 1, 0", "0, 1, 1"}, expect = ACCEPTABLE, desc = "miss: locked path")
    @Outcome(id = {"1, 0, 1", "1, 0, 0", "1, 1, 0"}, expect = ACCEPTABLE,
            desc = "hit; block intact, or freed and rejected")
    @Outcome(id = "1, 1, 1", expect = FORBIDDEN, desc = "used a freed block and validated")
    @State
    public static class FastReadPath {
        final InvalidationSequence seq = new InvalidationSequence();
        final MappingCache cache = new MappingCache();
        volatile int freed;

        public FastReadPath() {
            cache.put(0, 16, 100, seq.sample());
        }

        @Actor
        public void truncate() {
            seq.begin();
            freed = 1;
            seq.end();
        }

        @Actor
        public void reader(III_Result r) {
            long s = seq.sample();
            long hit = cache.lookup(5, s, false);
            r.r1 = hit != MappingCache.MISS ? 1 : 0;
            r.r2 = freed;
            r.r3 = seq.validate(s) ? 1 : 0;
        }
    }

    /**
     * Entries live in primitive words behind a per-slot seqlock: a filler replaces entry A
     * (blocks [0, 16) at 100) with entry B (blocks [0, 32) at 500) while a reader looks up
     * block 8. The reader sees one whole entry (108 with 8 blocks left, or 508 with 24) or a
     * miss, never the words of both combined. r1: physical of the hit, -1 for a miss; r2:
     * blocks left. (Two actors: jcstress skips tests with more actors than CPUs, and the test
     * machines have two.)
     */
    @JCStressTest
    @Description("MappingCache: a lookup racing a fill returns one whole entry or a miss")
    @Outcome(id = {"-1, -1", "108, 8", "508, 24"}, expect = ACCEPTABLE, desc = "miss, or one whole entry")
    @Outcome(expect = FORBIDDEN, desc = "words of two entries combined")
    @State
    public static class NoTornEntry {
        final MappingCache cache = new MappingCache();

        public NoTornEntry() {
            cache.put(0, 16, 100, 2);
        }

        @Actor
        public void fill() {
            cache.put(0, 32, 500, 2);
        }

        @Actor
        public void reader(JJ_Result r) {
            long hit = cache.lookup(8, 2, false);
            r.r1 = hit == MappingCache.MISS ? -1 : MappingCache.physical(hit);
            r.r2 = hit == MappingCache.MISS ? -1 : MappingCache.blocksLeft(hit);
        }
    }
}
