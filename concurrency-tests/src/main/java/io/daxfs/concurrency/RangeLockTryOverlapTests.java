package io.daxfs.concurrency;

import io.daxfs.core.concurrent.RangeLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Non-blocking {@link RangeLock#tryAcquire} races. Each actor tries once and, if granted,
 * keeps its range until the arbiter (after both actors) releases it, so a "1, 1" outcome means
 * both were held at once. r1, r2: 1 if granted; r3: requests left queued after the arbiter
 * released what was granted (must be 0).
 */
public final class RangeLockTryOverlapTests {
    private RangeLockTryOverlapTests() {
    }

    /** Common state: two attempts, released by the arbiter. */
    abstract static class Base {
        final RangeLock lock = new RangeLock();
        RangeLock.Range a;
        RangeLock.Range b;

        void release(III_Result r) {
            if (a != null) {
                a.close();
            }
            if (b != null) {
                b.close();
            }
            r.r3 = lock.queued();
        }
    }

    @JCStressTest
    @Description("RangeLock: overlapping shared ranges are both granted at once")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both readers inside together")
    @Outcome(expect = FORBIDDEN, desc = "a shared request was refused by another shared one")
    @State
    public static class SharedShared extends Base {
        @Actor
        public void actor1(III_Result r) {
            a = lock.tryAcquire(0, 10, false);
            r.r1 = a != null ? 1 : 0;
        }

        @Actor
        public void actor2(III_Result r) {
            b = lock.tryAcquire(5, 15, false);
            r.r2 = b != null ? 1 : 0;
        }

        @Arbiter
        public void arbiter(III_Result r) {
            release(r);
        }
    }

    @JCStressTest
    @Description("RangeLock: disjoint (adjacent) exclusive ranges never wait for each other")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both granted at once")
    @Outcome(expect = FORBIDDEN, desc = "a disjoint request would have waited")
    @State
    public static class DisjointExclusive extends Base {
        @Actor
        public void actor1(III_Result r) {
            a = lock.tryAcquire(0, 10, true);
            r.r1 = a != null ? 1 : 0;
        }

        @Actor
        public void actor2(III_Result r) {
            b = lock.tryAcquire(10, 20, true);
            r.r2 = b != null ? 1 : 0;
        }

        @Arbiter
        public void arbiter(III_Result r) {
            release(r);
        }
    }

    @JCStressTest
    @Description("RangeLock: of two overlapping exclusive attempts exactly one is granted")
    @Outcome(id = {"1, 0, 0", "0, 1, 0"}, expect = ACCEPTABLE, desc = "the first one wins")
    @Outcome(id = "1, 1, 0", expect = FORBIDDEN, desc = "both exclusive holders inside")
    @Outcome(expect = FORBIDDEN, desc = "neither granted, or a request left queued")
    @State
    public static class ExclusiveExclusive extends Base {
        @Actor
        public void actor1(III_Result r) {
            a = lock.tryAcquire(0, 10, true);
            r.r1 = a != null ? 1 : 0;
        }

        @Actor
        public void actor2(III_Result r) {
            b = lock.tryAcquire(9, 15, true);
            r.r2 = b != null ? 1 : 0;
        }

        @Arbiter
        public void arbiter(III_Result r) {
            release(r);
        }
    }

    @JCStressTest
    @Description("RangeLock: of an exclusive and an overlapping shared attempt exactly one is granted")
    @Outcome(id = {"1, 0, 0", "0, 1, 0"}, expect = ACCEPTABLE, desc = "the first one wins")
    @Outcome(id = "1, 1, 0", expect = FORBIDDEN, desc = "writer and reader inside together")
    @Outcome(expect = FORBIDDEN, desc = "neither granted, or a request left queued")
    @State
    public static class ExclusiveShared extends Base {
        @Actor
        public void actor1(III_Result r) {
            a = lock.tryAcquire(0, 10, true);
            r.r1 = a != null ? 1 : 0;
        }

        @Actor
        public void actor2(III_Result r) {
            b = lock.tryAcquire(5, 15, false);
            r.r2 = b != null ? 1 : 0;
        }

        @Arbiter
        public void arbiter(III_Result r) {
            release(r);
        }
    }
}
