package io.daxfs.concurrency;

import io.daxfs.core.concurrent.InvalidationSequence;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IZ_Result;
import org.openjdk.jcstress.infra.results.ZII_Result;
import org.openjdk.jcstress.infra.results.ZJ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** {@link InvalidationSequence} (a seqschedlock) under races. */
public final class InvalidationSequenceTests {
    private InvalidationSequenceTests() {
    }

    /**
     * The seqlock property. A writer changes x then y between {@code begin()} and
     * {@code end()}; a reader samples, reads y then x, and validates. A validated pair is never
     * torn. The fields are volatile as the real guarded data is (the mapping cache is an
     * AtomicReferenceArray): in Java a seqlock's protected reads must be at least volatile, or a
     * plain read may be performed after the validating load. r1: validated; r2 = x; r3 = y.
     */
    @JCStressTest
    @Description("InvalidationSequence: a validated sample never sees a torn pair")
    @Outcome(id = {"true, 0, 0", "true, 1, 1"}, expect = ACCEPTABLE, desc = "validated, consistent pair")
    @Outcome(id = {"false, 0, 0", "false, 1, 1"}, expect = ACCEPTABLE,
            desc = "not validated (the reader would retry), consistent pair")
    @Outcome(id = {"false, 1, 0", "false, 0, 1"}, expect = ACCEPTABLE_INTERESTING,
            desc = "torn pair, correctly rejected by validate")
    @Outcome(id = {"true, 1, 0", "true, 0, 1"}, expect = FORBIDDEN, desc = "torn pair validated")
    @State
    public static class TornPair {
        final InvalidationSequence seq = new InvalidationSequence();
        volatile int x;
        volatile int y;

        @Actor
        public void writer() {
            seq.begin();
            x = 1;
            y = 1;
            seq.end();
        }

        @Actor
        public void reader(ZII_Result r) {
            long s = seq.sample();
            int ry = y;
            int rx = x;
            r.r1 = seq.validate(s);
            r.r2 = rx;
            r.r3 = ry;
        }
    }

    /**
     * A sample taken while an invalidation is in progress never validates. The invalidator
     * begins and never ends; the reader reads the flag it sets after begin() before sampling,
     * so r1 = 1 proves the sample was taken during the invalidation. r2: validated.
     */
    @JCStressTest
    @Description("InvalidationSequence: a sample taken during an invalidation never validates")
    @Outcome(id = {"0, true", "0, false"}, expect = ACCEPTABLE, desc = "sample may predate begin()")
    @Outcome(id = "1, false", expect = ACCEPTABLE, desc = "sample during the invalidation: rejected")
    @Outcome(id = "1, true", expect = FORBIDDEN, desc = "sample during the invalidation validated")
    @State
    public static class SampleDuringInvalidation {
        final InvalidationSequence seq = new InvalidationSequence();
        volatile int begun;

        @Actor
        public void invalidator() {
            seq.begin();
            begun = 1;
        }

        @Actor
        public void reader(IZ_Result r) {
            int b = begun;
            long s = seq.sample();
            r.r1 = b;
            r.r2 = seq.validate(s);
        }
    }

    /**
     * Overlapping invalidations: one begins and ends while another begins and stays open.
     * However they interleave, afterwards one is still in progress, so a fresh sample must not
     * validate, and the sequence moved exactly three times (no lost update of the word).
     * r1: fresh sample validates; r2: sequence.
     */
    @JCStressTest
    @Description("InvalidationSequence: the end of one invalidation does not hide another in progress")
    @Outcome(id = "false, 3", expect = ACCEPTABLE, desc = "still invalidating; three bumps")
    @Outcome(expect = FORBIDDEN, desc = "validated during an invalidation, or a lost bump")
    @State
    public static class OverlappingInvalidations {
        final InvalidationSequence seq = new InvalidationSequence();

        @Actor
        public void complete() {
            seq.begin();
            seq.end();
        }

        @Actor
        public void open() {
            seq.begin();
        }

        @Arbiter
        public void arbiter(ZJ_Result r) {
            r.r1 = seq.validate(seq.sample());
            r.r2 = seq.sequence();
        }
    }
}
